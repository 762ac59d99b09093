"""Scanned pages → text, read by Tesseract in the page's language.

PDF pages without a text layer (that show an image) and image files — PNG, JPEG, TIFF, where each
frame of a multi-page TIFF is a page — are read by the ``tesseract`` program when it is installed
(Debian: ``tesseract-ocr`` and ``tesseract-ocr-eng/-fra/-deu/-spa/-ita``; macOS: ``brew install
tesseract tesseract-lang``). :func:`status` says whether it is there and which of Folio's five
languages it reads, for ``folio doctor``. Pages read this way are marked ``Page.ocr``.

**Binding.** Folio runs the ``tesseract`` binary itself (``stdin`` → ``stdout``, a PNG in, text out)
rather than through pytesseract or tesserocr. Running the binary works with whatever Tesseract the
system's package manager installed, with its language data, on every platform; the child inherits
the sandbox worker's memory limit and is killed with the worker's process group when a page runs
out of time. Its environment carries ``OMP_THREAD_LIMIT=1``: Tesseract's OpenMP threads made a
page 3.7x slower on 2 shared cores (4.8 s instead of 1.3 s), and pytesseract cannot set a child's
environment. tesserocr (libtesseract in-process, manylinux wheels bundle their own library) saved
0.2 s a page (0.57 s vs 0.80 s at 200 dpi), but must be pointed at a tessdata folder that differs
by platform, and a crash in it takes the worker down with the page.

**Language** (measured by ``bench/bench_ocr.py`` on the 18 pages of the five sample PDFs rendered at
200 dpi as image-only scans; results in ``bench/results/ocr.json``): one document is read in one
language, found from its first page. The first page is read in English, its text's language
detected (:func:`rag.language.detect`), and read again in that language when it is another; every
later page is read in the document's language and checked the same way, so a page in another
language is re-read in its own. That costs one Tesseract pass a page plus one, and was as accurate
as being told the language (99.92% of characters right vs 99.93%) at 1.05 s a page end to end on 2
cores (rendering included). Reading every page with the five languages at once
(``eng+fra+deu+spa+ita``) was slower (1.24 s a page without rendering) and less accurate (99.56%);
detecting each page afresh cost 1.29 s a page; English alone lost accents and umlauts (98.92%;
98.18% on German). Those pages are clean renders: real scans (skew, noise, photos) read worse.

>>> next_language(None, "fr", installed=("en", "fr"))
'fr'
>>> next_language("fr", "de", installed=("en", "fr"))  # German is detected but not installed
'fr'
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.documents import LANGUAGES, Page
from core.errors import DocumentError

TESSERACT_LANGUAGES = {"en": "eng", "fr": "fra", "de": "deu", "es": "spa", "it": "ita"}
INSTALL_DEBIAN = ("sudo apt-get install tesseract-ocr " + " ".join(f"tesseract-ocr-{code}"
                                                                  for code in TESSERACT_LANGUAGES.values()))
INSTALL_MACOS = "brew install tesseract tesseract-lang"
INSTALL_HINT = f"install Tesseract ('{INSTALL_DEBIAN}'; on macOS '{INSTALL_MACOS}')"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
MAX_IMAGE_PIXELS = 150_000_000  # larger images (A0 at 300 dpi is 139 Mpx) are refused as decompression bombs
OCR_PIXELS = 16_000_000  # larger images are scaled down to this before OCR (A4 at 400 dpi is 15.5 Mpx)
MAX_OCR_PAGES = 2_000
DPI_RANGE = (150, 400)  # a PDF page is rendered at its images' own resolution, within this range
MIN_LETTERS_TO_SWITCH = 40  # a page's language is trusted once its text has this many letters
BLANK_CONTRAST = 24  # a grey image whose darkest and lightest pixels differ by less is blank
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class OcrStatus:
    """Whether Tesseract can be run, its version, which of Folio's languages it reads."""

    available: bool
    command: str | None
    version: str | None
    languages: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def message(self) -> str:
        """One sentence for ``folio doctor``."""
        if not self.available:
            return f"OCR of scanned pages is off: Tesseract is not installed; {INSTALL_HINT}."
        if self.missing:
            packs = " ".join(f"tesseract-ocr-{TESSERACT_LANGUAGES[code]}" for code in self.missing)
            return (f"OCR: Tesseract {self.version} reads {', '.join(self.languages) or 'no language of Folio'}; "
                    f"add the other languages with 'sudo apt-get install {packs}'.")
        return f"OCR: Tesseract {self.version} reads {', '.join(self.languages)}."


def tesseract_command() -> str | None:
    return shutil.which("tesseract")


def status() -> OcrStatus:
    """Whether OCR is available, and in which of Folio's five languages (runs ``tesseract`` twice, ~50 ms)."""
    command = tesseract_command()
    if command is None:
        return OcrStatus(False, None, None, (), LANGUAGES)
    try:
        version = _run([command, "--version"], timeout=30).stdout.decode("utf-8", "replace").split()
        listed = _run([command, "--list-langs"], timeout=30).stdout.decode("utf-8", "replace").split()
    except (OSError, subprocess.SubprocessError):
        return OcrStatus(False, command, None, (), LANGUAGES)
    installed = tuple(code for code in LANGUAGES if TESSERACT_LANGUAGES[code] in listed)
    return OcrStatus(True, command, version[1] if len(version) > 1 else None, installed,
                     tuple(code for code in LANGUAGES if code not in installed))


def next_language(current: str | None, detected: str, *, installed: tuple[str, ...]) -> str | None:
    """The language to read the next pages in: the detected one when Tesseract has it, else the current one."""
    return detected if detected in installed else current


class Reader:
    """Reads the scanned pages of one document, keeping the language its pages turned out to be in."""

    def __init__(self, *, name: str, what: str, timeout_s: float | None = None) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.status = status()
        if not self.status.available:
            raise DocumentError(name, f"{what}, and Tesseract, which reads scanned pages, is not installed; "
                                      f"{INSTALL_HINT} and add the file again")
        if not self.status.languages:
            raise DocumentError(name, f"{what}, and Tesseract has none of Folio's languages installed; "
                                      f"run '{INSTALL_DEBIAN}' and add the file again")
        self.language: str | None = None
        self.passes = 0  # Tesseract runs so far (a measure for the benchmark)

    def read(self, image, *, page: int) -> str:
        """The text on ``image`` (a PIL image); ``''`` for a blank one."""
        from rag.language import detect

        gray = _prepared(image)
        if gray is None:
            return ""
        png = _png(gray)
        language = self.language or ("en" if "en" in self.status.languages else self.status.languages[0])
        text = self._tesseract(png, language, page=page)
        detected = detect(text)
        if sum(ch.isalpha() for ch in text) >= MIN_LETTERS_TO_SWITCH:
            chosen = next_language(language, detected, installed=self.status.languages)
            if chosen != language:
                text = self._tesseract(png, chosen, page=page)
            self.language = chosen
        return text

    def _tesseract(self, png: bytes, language: str, *, page: int) -> str:
        self.passes += 1
        command = [self.status.command, "stdin", "stdout", "-l", TESSERACT_LANGUAGES[language]]
        try:
            completed = _run(command, stdin=png, timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            raise DocumentError(self.name, f"Tesseract took longer than {self.timeout_s:g} s on page {page}; "
                                           f"the scan may be damaged or unusually large") from None
        except OSError as error:
            raise DocumentError(self.name, f"Tesseract could not be run ({error.strerror or error}); {INSTALL_HINT}") from None
        if completed.returncode != 0:
            detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()
            raise DocumentError(self.name, f"Tesseract could not read page {page} "
                                           f"({(detail[-1] if detail else f'exit status {completed.returncode}')[:120]})")
        return completed.stdout.decode("utf-8", "replace")


def _run(command: list[str], *, stdin: bytes | None = None, timeout: float | None) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    return subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, env=env, check=False)


def _prepared(image):
    """``image`` in grey, no larger than :data:`OCR_PIXELS`; None when it is blank."""
    gray = image.convert("L")
    pixels = gray.width * gray.height
    if pixels > OCR_PIXELS:
        factor = math.sqrt(OCR_PIXELS / pixels)
        gray = gray.resize((max(1, int(gray.width * factor)), max(1, int(gray.height * factor))))
    low, high = gray.getextrema()
    if high - low < BLANK_CONTRAST:
        return None
    return gray


def _png(image) -> bytes:
    buffer = io.BytesIO()
    dpi = image.info.get("dpi") or (300, 300)
    image.save(buffer, format="PNG", dpi=tuple(int(round(float(d))) for d in dpi), compress_level=1)
    return buffer.getvalue()


def _report(on_page: ProgressCallback | None, done: int, total: int) -> None:
    if on_page is not None:
        on_page(done, total)


# -- image files ---------------------------------------------------------------------------------
def load_image(path: Path, name: str, *, on_page: ProgressCallback | None = None,
               timeout_s: float | None = None) -> list[Page]:
    """An image file's text by OCR: a page per frame (a multi-page TIFF has several)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_OCR_PAGES:
                raise DocumentError(name, f"the image has {frames:,} frames, over the {MAX_OCR_PAGES:,}-page OCR "
                                          f"limit; split it and add the parts")
            reader = Reader(name=name, what="the file is an image", timeout_s=timeout_s)
            pages = []
            _report(on_page, 0, frames)
            for index in range(frames):
                image.seek(index)
                _check_pixels(image.width, image.height, name)
                frame = image.copy()
                frame.info.setdefault("dpi", image.info.get("dpi") or (300, 300))
                pages.append(Page(index + 1, reader.read(frame, page=index + 1), ocr=True))
                _report(on_page, index + 1, frames)
    except UnidentifiedImageError:
        raise DocumentError(name, "the file is not an image Folio can read (it may be damaged, or not really "
                                  f"a {path.suffix.lower() or 'picture'})") from None
    except Image.DecompressionBombError:
        raise DocumentError(name, f"the image is over the {MAX_IMAGE_PIXELS // 1_000_000}-megapixel limit "
                                  f"(it may be a decompression bomb)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        if isinstance(error, DocumentError):
            raise
        raise DocumentError(name, "the image is damaged or cut short (it could not be decoded); re-export it") from None
    if not any(page.text.strip() for page in pages):
        raise DocumentError(name, "OCR found no text in the image")
    return pages


def _check_pixels(width: int, height: int, name: str) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise DocumentError(name, f"the image is {width:,} × {height:,} pixels, over the "
                                  f"{MAX_IMAGE_PIXELS // 1_000_000}-megapixel limit (it may be a decompression bomb)")


# -- scanned PDF pages ---------------------------------------------------------------------------
def needs_ocr(page, text: str) -> bool:
    """A PDF page is read by OCR when it has no text layer to speak of (under 20 visible characters:
    a page number, a scanner's stamp) but shows an image, none of them over :data:`MAX_IMAGE_PIXELS`
    (a 100,000 × 100,000 image is a decompression bomb, not a scan: its page keeps its text layer)."""
    import pypdfium2.raw as pdfium_c

    if sum(not ch.isspace() for ch in text) >= 20:
        return False
    found = False
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        try:
            width, height = image.get_px_size()
        except Exception:  # pypdfium2 raises its own error for a broken image
            continue
        if width * height > MAX_IMAGE_PIXELS:
            return False
        found = True
    return found


def read_pdf_pages(pdf, numbers: list[int], *, name: str, on_page: ProgressCallback | None = None,
                   timeout_s: float | None = None) -> Iterator[tuple[int, str]]:
    """``(page number, text)`` for the given 1-based pages of an open ``pypdfium2.PdfDocument``, by OCR."""
    if len(numbers) > MAX_OCR_PAGES:
        raise DocumentError(name, f"the PDF has {len(numbers):,} scanned pages, over the {MAX_OCR_PAGES:,}-page OCR "
                                  f"limit; split it and add the parts")
    what = ("the PDF has no text layer (it looks scanned)" if len(numbers) == len(pdf)
            else f"{len(numbers)} of the PDF's {len(pdf)} pages are scanned images without text")
    reader = Reader(name=name, what=what, timeout_s=timeout_s)
    _report(on_page, 0, len(numbers))
    for done, number in enumerate(numbers, 1):
        page = pdf[number - 1]
        try:
            image = _render(page)
        finally:
            page.close()
        yield number, reader.read(image, page=number)
        _report(on_page, done, len(numbers))


def _render(page):
    """The page as a PIL image, at its largest image's own resolution (within :data:`DPI_RANGE`)."""
    import pypdfium2.raw as pdfium_c

    width, height = page.get_size()
    dpi = 300.0
    best = 0.0
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        left, bottom, right, top = image.get_bounds()
        area = max(0.0, right - left) * max(0.0, top - bottom)
        if area > best and right > left:
            try:
                px_width, _ = image.get_px_size()
            except Exception:
                continue
            best, dpi = area, px_width / ((right - left) / 72)
    dpi = min(max(dpi, DPI_RANGE[0]), DPI_RANGE[1])
    scale = min(dpi / 72, math.sqrt(OCR_PIXELS / max(1.0, width * height)))
    bitmap = page.render(scale=scale, grayscale=True)
    image = bitmap.to_pil()
    image.info["dpi"] = (round(scale * 72), round(scale * 72))
    return image
