"""Builders for hostile files: bombs, loops, lies, junk and impostors, made on the fly into a folder.

Every case says what Folio should make of it: ``added`` (it is a readable document, however odd) or
``failed`` with a phrase its one-sentence reason must contain. Bombs are built without ever holding
their inflated form: after a full flush, deflate encodes the same input block to the same bytes, so
a 2 GB stream is one 1 KB block written 2,048 times, and its checksum is computed in closed form.

>>> data = repeated_deflate(b"<", b" " * 1024, 3, b">")
>>> zlib.decompress(data) == b"<" + b" " * 3072 + b">"
True
"""

from __future__ import annotations

import os
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.docs_factory import make_docx, make_pdf

GB = 1 << 30
MB = 1 << 20
_W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


@dataclass(frozen=True)
class Case:
    """One hostile file and what Folio must make of it."""

    name: str
    build: Callable[[Path], None]
    expect: str  # "added" | "failed"
    reason: str = ""  # a phrase the failure's reason contains
    text: str = ""  # a phrase the added document's text contains


# -- deflate bombs ------------------------------------------------------------------------------
def repeated_deflate(prefix: bytes, block: bytes, count: int, suffix: bytes, *, raw: bool = False) -> bytes:
    """zlib (or raw deflate) data of ``prefix + block * count + suffix``, built from one compressed block."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15 if raw else 15)
    head = packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH)
    body = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.compress(suffix) + packer.flush(zlib.Z_FULL_FLUSH)
    out = head + body * count + tail + b"\x03\x00"  # an empty final fixed-Huffman block ends the stream
    if raw:
        return out
    checksum = zlib.adler32(prefix)
    checksum = _adler32_uniform(checksum, len(block) * count, block[0]) if len(set(block)) == 1 else \
        _adler32_repeat(checksum, block, count)
    return out + struct.pack(">I", zlib.adler32(suffix, checksum))


def _adler32_uniform(checksum: int, length: int, byte: int) -> int:
    """adler32 continued over ``length`` copies of one byte, in closed form."""
    a, b = checksum & 0xFFFF, checksum >> 16
    b = (b + length * a + byte * length * (length + 1) // 2) % 65521
    a = (a + length * byte) % 65521
    return (b << 16) | a


def _adler32_repeat(checksum: int, block: bytes, count: int) -> int:
    for _ in range(count):
        checksum = zlib.adler32(block, checksum)
    return checksum


# -- PDFs written by hand -------------------------------------------------------------------------
def pdf_bytes(objects: list[bytes], *, trailer: bytes = b"", xref_offsets: bool = True) -> bytes:
    """A PDF of ``objects`` (object 1 is the catalog), with a classic xref table and trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out) if xref_offsets else 9)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def stream(data: bytes, extra: bytes = b"", *, length: bytes | None = None) -> bytes:
    return b"<< /Length %s %s >>\nstream\n" % (length or b"%d" % len(data), extra) + data + b"\nendstream"


def text_ops(text: str) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode("latin-1")


def page_pdf(text: str, *, content: bytes | None = None, catalog: bytes = b"", kids: bytes = b"[3 0 R] /Count 1",
             resources: bytes = b"", font: bytes = b"", more: list[bytes] = (), trailer: bytes = b"") -> bytes:
    """One page showing ``text`` (or the given content stream object), plus ``more`` objects from 6 on;
    the byte strings are added to the catalog, page tree, page resources and font dictionaries."""
    return pdf_bytes([
        b"<< /Type /Catalog /Pages 2 0 R %s >>" % catalog,
        b"<< /Type /Pages /Kids %s >>" % kids,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> %s >> "
        b"/Contents 5 0 R >>" % resources,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding %s >>" % font,
        content if content is not None else stream(text_ops(text)),
        *more], trailer=trailer)


def _write(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def content_bomb(path: Path) -> None:
    """A page whose content stream inflates to 2 GB of spaces."""
    data = repeated_deflate(text_ops("Bomb") + b"\n", b" " * MB, 2048, b"\n")
    path.write_bytes(page_pdf("", content=stream(data, b"/Filter /FlateDecode")))


def nested_bomb(path: Path) -> None:
    """Flate inside Flate: 8 GB of spaces behind a few kilobytes."""
    inner = repeated_deflate(text_ops("Nested") + b"\n", b" " * MB, 8192, b"\n")
    data = zlib.compress(inner, 9)
    path.write_bytes(page_pdf("", content=stream(data, b"/Filter [/FlateDecode /FlateDecode]")))


def tounicode_bomb(path: Path) -> None:
    """A font whose ToUnicode map (read for text extraction) inflates to 2 GB."""
    cmap = repeated_deflate(b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n", b"%" * MB, 2048,
                            b"\nendcmap end end\n")
    path.write_bytes(page_pdf("Fonts can lie", font=b"/ToUnicode 6 0 R", more=[stream(cmap, b"/Filter /FlateDecode")]))


def image_bomb(path: Path) -> None:
    """A 100,000 x 100,000 pixel image (30 GB decoded) beside a line of text."""
    pixels = repeated_deflate(b"", b"\x00" * MB, 64, b"")
    image = stream(pixels, b"/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceRGB "
                           b"/BitsPerComponent 8 /Filter /FlateDecode")
    content = stream(text_ops("Pictures of the depot") + b" q 500 0 0 500 50 50 cm /Im1 Do Q")
    path.write_bytes(page_pdf("", content=content, resources=b"/XObject << /Im1 6 0 R >>", more=[image]))


def circular_xref(path: Path) -> None:
    """The trailer's /Prev points back at its own xref table."""
    pdf = page_pdf("The xref loops")
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    path.write_bytes(page_pdf("The xref loops", trailer=b"/Prev %d" % xref))


def circular_outlines(path: Path) -> None:
    """Bookmarks whose /Next links loop (and whose /First points back at the root)."""
    path.write_bytes(page_pdf("The bookmarks loop", catalog=b"/Outlines 6 0 R", more=[
        b"<< /Type /Outlines /First 7 0 R /Last 8 0 R /Count 2 >>",
        b"<< /Title (One) /Parent 6 0 R /Next 8 0 R /First 6 0 R /Dest [3 0 R /Fit] >>",
        b"<< /Title (Two) /Parent 6 0 R /Next 7 0 R /Prev 7 0 R /Dest [3 0 R /Fit] >>"]))


def circular_pages(path: Path) -> None:
    """A page tree whose root lists itself as its only kid."""
    path.write_bytes(page_pdf("Never reached", kids=b"[2 0 R] /Count 1"))


def circular_pages_pair(path: Path) -> None:
    """Two page-tree nodes that list each other, beside one real page."""
    path.write_bytes(page_pdf("One real page among loops", kids=b"[6 0 R 3 0 R] /Count 2",
                              more=[b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"]))


def deep_page_tree(path: Path) -> None:
    """A page 5,000 page-tree levels down."""
    depth = 5000
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):  # objects 2 .. depth + 1
        kid = level + 3
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % kid)
    page = depth + 2
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> "
                   b"/Contents %d 0 R >>" % (page - 1, page + 1, page + 2))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objects.append(stream(text_ops("Deep down")))
    path.write_bytes(pdf_bytes(objects))


def many_pages(path: Path) -> None:
    """10,000 empty pages, then one page with text."""
    count = 10_000
    kids = b" ".join(b"%d 0 R" % (n + 5) for n in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", stream(text_ops("The last page"))]
    for n in range(count):
        contents = b"/Contents 4 0 R /Resources << /Font << /F1 3 0 R >> >>" if n == count - 1 else b""
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] %s >>" % contents)
    path.write_bytes(pdf_bytes(objects))


def encrypted(method: str, user_password: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        from fpdf import FPDF
        from fpdf.enums import EncryptionMethod

        pdf = FPDF()
        pdf.set_font("Helvetica", size=12)
        pdf.set_encryption(owner_password="owner-secret", user_password=user_password,
                           encryption_method=getattr(EncryptionMethod, method))
        pdf.add_page()
        pdf.multi_cell(0, 8, f"Locked with {method} and the fares table is inside.")
        pdf.output(str(path))
    return build


def truncated_pdf(path: Path) -> None:
    make_pdf(path, ["The timetable changes in December."] * 3)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


# -- Word files ----------------------------------------------------------------------------------
def _zip_entry(name: str, raw: bytes, *, crc: int, size: int, method: int = zipfile.ZIP_DEFLATED) -> tuple[bytes, bytes]:
    """A local file header with its data, and the matching central-directory record (offset patched later)."""
    encoded = name.encode()
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(raw), size, len(encoded), 0)
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(raw), size,
                          len(encoded), 0, 0, 0, 0, 0, 0)
    return local + encoded + raw, central + encoded


def zip_bytes(entries: list[tuple[bytes, bytes]]) -> bytes:
    out, directory = bytearray(), bytearray()
    for local, central in entries:
        directory += central[:42] + struct.pack("<L", len(out)) + central[46:]
        out += local
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(out), 0)
    return bytes(out + directory + end)


def docx_with(path: Path, document_xml: Callable[[], tuple[bytes, int, int]]) -> None:
    """A real .docx whose word/document.xml is replaced by ``(raw deflate data, crc, declared size)``."""
    make_docx(path, [["Placeholder."]])
    entries = []
    with zipfile.ZipFile(path) as source:
        for info in source.infolist():
            if info.filename == "word/document.xml":
                raw, crc, size = document_xml()
            else:
                data = source.read(info)
                packer = zlib.compressobj(9, zlib.DEFLATED, -15)
                raw, crc, size = packer.compress(data) + packer.flush(), zlib.crc32(data), len(data)
            entries.append(_zip_entry(info.filename, raw, crc=crc, size=size))
    path.write_bytes(zip_bytes(entries))


def _deflated(xml: bytes) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(xml) + packer.flush(), zlib.crc32(xml), len(xml)


def _body(inner: bytes) -> tuple[bytes, bytes]:
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document %s><w:body>' % _W_NS.encode()
            + inner, b"</w:body></w:document>")


def _bomb_xml(declared: int | None) -> tuple[bytes, int, int]:
    """document.xml of 1 GB of paragraphs; ``declared`` lies about its size when given."""
    head, tail = _body(b"")
    block = b"<w:p><w:r><w:t>boom</w:t></w:r></w:p>" * (MB // 38)
    count = 1024
    raw = repeated_deflate(head, block, count, tail, raw=True)
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    return raw, crc, declared if declared is not None else len(head) + len(block) * count + len(tail)


def docx_bomb(path: Path) -> None:
    docx_with(path, lambda: _bomb_xml(None))


def docx_bomb_lying(path: Path) -> None:
    """The zip directory says document.xml is 2 KB; its data inflates to 1 GB."""
    docx_with(path, lambda: _bomb_xml(2048))


def docx_xml(inner: bytes, *, doctype: bytes = b"") -> Callable[[Path], None]:
    def build(path: Path) -> None:
        head, tail = _body(inner)
        if doctype:
            head = head.replace(b"\n<w:document", b"\n" + doctype + b"\n<w:document", 1)
        docx_with(path, lambda: _deflated(head + tail))
    return build


XXE = b'<!DOCTYPE w:document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
LAUGHS = b"<!DOCTYPE w:document [<!ENTITY a0 \"lol\">" + b"".join(
    b'<!ENTITY a%d "%s">' % (n, (b"&a%d;" % (n - 1)) * 10) for n in range(1, 10)) + b"]>"


def paragraph(text: bytes) -> bytes:
    return b"<w:p><w:r><w:t>" + text + b"</w:t></w:r></w:p>"


def deep_xml(path: Path) -> None:
    depth = 100_000
    docx_xml(paragraph(b"Deep") + b"<w:sdt>" * depth + b"</w:sdt>" * depth)(path)


def zip_not_docx(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "This archive is not a Word document.")


def truncated_docx(path: Path) -> None:
    make_docx(path, [["Bikes ride free on Sundays."] * 20])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


# -- text, HTML, impostors and things that are not files -----------------------------------------
def junk(seed: int, size: int = 64 * 1024) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(random.Random(seed).randbytes(size))


def nested_html(path: Path) -> None:
    depth = 100_000
    path.write_text("<html><body>" + "<div>" * depth + "<p>The innermost box holds the lost-property rules.</p>"
                    + "</div>" * depth + "</body></html>")


def long_line(path: Path) -> None:
    """A 50 MB Markdown file on one line: a sentence, then an inline base64 image."""
    with path.open("wb") as handle:
        handle.write(b"Platform 4 is closed for works. ![plan](data:image/png;base64,")
        block = (b"iVBORw0KGgoAAAANSUhEUgAA" * 43690)[: MB]
        for _ in range(50):
            handle.write(block)
        handle.write(b")")


def sparse(size: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        with path.open("wb") as handle:
            handle.truncate(size)
    return build


def fifo(path: Path) -> None:
    os.mkfifo(path)


def symlink_to(target: str) -> Callable[[Path], None]:
    return lambda path: path.symlink_to(target)


def copy_of(build: Callable[[Path], None], source_name: str) -> Callable[[Path], None]:
    """``build`` a file under another name, then move it here (a file with the wrong extension)."""
    def make(path: Path) -> None:
        source = path.with_name(source_name)
        build(source)
        source.rename(path)
    return make


def good_pdf(text: str) -> Callable[[Path], None]:
    return lambda path: make_pdf(path, [text])


def good_docx(text: str) -> Callable[[Path], None]:
    return lambda path: make_docx(path, [[text]])


# -- other zip-based formats: PowerPoint, Excel, OpenDocument, EPUB ---------------------------------
def zip_with(path: Path, base: Callable[[Path], object], part: str, data: Callable[[], tuple[bytes, int, int]]) -> None:
    """A real file written by ``base``, with its zip part ``part`` replaced by ``(raw deflate data, crc, declared size)``."""
    base(path)
    entries = []
    with zipfile.ZipFile(path) as source:
        names = source.namelist()
        assert part in names, (part, names)
        for info in source.infolist():
            if info.filename == part:
                raw, crc, size = data()
            else:
                raw, crc, size = _deflated(source.read(info))
            entries.append(_zip_entry(info.filename, raw, crc=crc, size=size))
    path.write_bytes(zip_bytes(entries))


def _gigabyte_of(block: bytes, head: bytes = b"", tail: bytes = b"", *, declared: int | None = None) -> Callable:
    """Raw deflate data of ``head + block * n + tail``, about 1 GB; the CRC is not computed (never reached)."""
    def build() -> tuple[bytes, int, int]:
        unit = block * max(1, MB // len(block))
        raw = repeated_deflate(head, unit, 1024, tail, raw=True)
        return raw, 0, declared if declared is not None else len(head) + len(unit) * 1024 + len(tail)
    return build


def _replaced(path_part: str, base: Callable[[Path], object], xml: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """``base``'s file with its part rewritten by ``xml(original part)``."""
    def build(path: Path) -> None:
        base(path)
        with zipfile.ZipFile(path) as source:
            original = source.read(path_part)
        zip_with(path, base, path_part, lambda: _deflated(xml(original)))
    return build


def _with_doctype(doctype: bytes, text_from: bytes, text_to: bytes) -> Callable[[bytes], bytes]:
    """Put ``doctype`` after the XML declaration and swap ``text_from`` for ``text_to`` in the part."""
    def rewrite(original: bytes) -> bytes:
        assert text_from in original, text_from
        declaration_end = original.index(b"?>") + 2 if original.startswith(b"<?xml") else 0
        return original[:declaration_end] + b"\n" + doctype + original[declaration_end:].replace(text_from, text_to, 1)
    return rewrite


def _pptx(path: Path) -> None:
    from tests.formats_factory import pandoc

    pandoc(path, "# Slide title\n\nTrains leave from platform 4.\n")


def _xlsx(path: Path) -> None:
    from tests.formats_factory import make_xlsx

    make_xlsx(path, {"Fares": [["Zone", "Adult"], ["Inner", "2.50"]]})


def _ods(path: Path) -> None:
    from tests.formats_factory import make_ods

    make_ods(path, {"Fares": [["Zone", "Adult"], ["Inner", "2.50"]]})


def _odt(path: Path) -> None:
    from tests.formats_factory import pandoc

    pandoc(path, "Trains leave from platform 4.\n")


def _epub(path: Path) -> None:
    from tests.formats_factory import pandoc

    pandoc(path, "# Chapter\n\nTrains leave from platform 4.\n", title="Book")


def _epub_chapter(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return next(n for n in archive.namelist() if n.endswith(".xhtml") and "ch0" in n)


def epub_with(xml: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        _epub(path)
        _replaced(_epub_chapter(path), _epub, xml)(path)
    return build


def epub_bomb(path: Path) -> None:
    _epub(path)
    zip_with(path, _epub, _epub_chapter(path), _gigabyte_of(b"<p>boom</p>"))


def xlsx_far_cell(path: Path) -> None:
    """A workbook with a cell at A1 and one at XFD1048576: 17 billion cells if read densely."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["A2"], sheet["XFD1048576"] = "Zone", "Inner", "far away"
    workbook.save(path)


def ods_far_cell(path: Path) -> None:
    """An OpenDocument sheet that repeats empty rows and columns out to a cell 16 billion cells away."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Far")
    row = TableRow()
    cell = TableCell(valuetype="string")
    cell.addElement(P(text="Zone"))
    row.addElement(cell)
    table.addElement(row)
    table.addElement(TableRow(numberrowsrepeated=1_048_000))
    row = TableRow()
    row.addElement(TableCell(numbercolumnsrepeated=16_000))
    cell = TableCell(valuetype="string")
    cell.addElement(P(text="far away"))
    row.addElement(cell)
    table.addElement(row)
    document.spreadsheet.addElement(table)
    document.save(str(path))


def truncated(base: Callable[[Path], object]) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        base(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return build


def deep_odt(path: Path) -> None:
    depth = 100_000
    _replaced("content.xml", _odt, lambda xml: xml.replace(
        b"Trains leave from platform 4.", b"Deep" + b"<text:span>" * depth + b"x" + b"</text:span>" * depth, 1))(path)


# -- RTF, CSV, e-mail ------------------------------------------------------------------------------
def deep_rtf(path: Path) -> None:
    """RTF groups nested 100,000 deep around a sentence."""
    path.write_bytes(b"{\\rtf1\\ansi " + b"{" * 100_000 + b"The depot opens at six." + b"}" * 100_000 + b"}")


def huge_field_csv(path: Path) -> None:
    path.write_bytes(b'name,notes\nAnna,"' + b"x" * (2 * MB) + b'"\n')


def wide_csv(path: Path) -> None:
    """One row of 2.5 million cells."""
    path.write_bytes(b"a" + b",a" * 2_500_000 + b"\n")


def nested_mime(path: Path) -> None:
    """A message whose multipart parts nest 2,000 deep around the body."""
    depth = 2000
    head = b"From: a@example.org\r\nSubject: Deep\r\nMIME-Version: 1.0\r\n"
    body = b""
    for level in range(depth):
        body += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
    body += b"Content-Type: text/plain\r\n\r\nThe innermost part says hello.\r\n"
    for level in reversed(range(depth)):
        body += b"--b%d--\r\n" % level
    path.write_bytes(head + body)


def many_attachments(path: Path) -> None:
    from tests.formats_factory import make_eml

    make_eml(path, subject="Many", body="A thousand attachments follow.",
             attachments=[(f"note{n}.bin", b"x", "application/octet-stream") for n in range(1000)])


# -- images --------------------------------------------------------------------------------------
def png_bomb(path: Path) -> None:
    """A PNG that says it is 100,000 x 100,000 pixels (10 gigapixels) in a few kilobytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    pixels = repeated_deflate(b"", b"\x00" * MB, 16, b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def truncated_png(path: Path) -> None:
    from tests.formats_factory import make_scan

    make_scan(path, "en")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def blank_png(path: Path) -> None:
    from PIL import Image

    Image.new("L", (1200, 1600), 255).save(path)


def tiff_frames(count: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        from PIL import Image

        frames = [Image.new("L", (8, 8), 255) for _ in range(count)]
        frames[0].save(path, save_all=True, append_images=frames[1:])
    return build


def scanned_pages_pdf(count: int) -> Callable[[Path], None]:
    """A PDF of ``count`` pages, each showing the same scanned image (one image object, shared)."""
    def build(path: Path) -> None:
        image = stream(zlib.compress(b"\x80" * 64 * 64), b"/Type /XObject /Subtype /Image /Width 64 /Height 64 "
                                                         b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode")
        content = stream(b"q 500 0 0 700 50 50 cm /Im1 Do Q")
        first = 5
        kids = b" ".join(b"%d 0 R" % (first + n) for n in range(count))
        objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
                   image, content]
        for _ in range(count):
            objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 3 0 R >> >> "
                           b"/Contents 4 0 R >>")
        path.write_bytes(pdf_bytes(objects))
    return build


def _real(build: Callable[[Path], object]) -> Callable[[Path], None]:
    return lambda path: build(path) and None


# -- the corpus ----------------------------------------------------------------------------------
CASES = [
    Case("bomb_content.pdf", content_bomb, "failed", "memory"),
    Case("bomb_nested.pdf", nested_bomb, "failed", "memory"),
    Case("bomb_tounicode.pdf", tounicode_bomb, "failed", "memory"),
    Case("bomb_image.pdf", image_bomb, "added", text="Pictures of the depot"),
    Case("circular_xref.pdf", circular_xref, "added", text="The xref loops"),
    Case("circular_outlines.pdf", circular_outlines, "added", text="The bookmarks loop"),
    Case("circular_pages.pdf", circular_pages, "failed", "damaged"),
    Case("circular_pages_pair.pdf", circular_pages_pair, "failed", "damaged"),
    Case("deep_page_tree.pdf", deep_page_tree, "failed", "damaged"),
    Case("no_pages.pdf", _write(page_pdf("Orphan page", kids=b"[] /Count 0")), "failed", "damaged or not a PDF"),
    Case("huge_length.pdf", _write(page_pdf("", content=stream(text_ops("Huge length"), length=b"99999999999"))),
         "added", text="Huge length"),
    Case("negative_length.pdf", _write(page_pdf("", content=stream(text_ops("Negative length"), length=b"-7"))),
         "added", text="Negative length"),
    Case("wrong_xref_offsets.pdf", _write(pdf_bytes([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", stream(text_ops("Offsets are wrong"))],
        xref_offsets=False)), "added", text="Offsets are wrong"),
    Case("huge_xref_size.pdf", _write(page_pdf("Two billion objects").replace(b"/Size 6", b"/Size 2147483647")),
         "added", text="Two billion objects"),
    Case("launch_action.pdf", _write(page_pdf("Nothing runs", catalog=b"/OpenAction 6 0 R", more=[
        b"<< /S /JavaScript /JS (app.alert('pwned'); this.exportDataObject({cName: 'x', nLaunch: 2});) "
        b"/Next << /S /Launch /F (calc.exe) >> >>"])), "added", text="Nothing runs"),
    Case("encrypted_rc4_user.pdf", encrypted("RC4", "letmein"), "failed", "encrypted with a password"),
    Case("encrypted_rc4_open.pdf", encrypted("RC4", ""), "added", text="Locked with RC4"),
    Case("encrypted_aes128_user.pdf", encrypted("AES_128", "letmein"), "failed", "encrypted with a password"),
    Case("encrypted_aes128_open.pdf", encrypted("AES_128", ""), "added", text="Locked with AES_128"),
    Case("encrypted_aes256_user.pdf", encrypted("AES_256", "letmein"), "failed", "encrypted with a password"),
    Case("truncated.pdf", truncated_pdf, "failed", "damaged"),
    Case("header_only.pdf", _write(b"%PDF-1.7\n"), "failed", "damaged"),
    Case("zero.pdf", _write(b""), "failed", "empty"),
    Case("junk.pdf", junk(1), "failed", "damaged or not a PDF"),
    Case("pages_10000.pdf", many_pages, "added", text="The last page"),
    Case("bomb.docx", docx_bomb, "failed", "zip bomb"),
    Case("bomb_lying.docx", docx_bomb_lying, "failed", "memory"),
    Case("deep_xml.docx", deep_xml, "failed", "not a valid Word document"),
    Case("xxe.docx", docx_xml(paragraph(b"Before &secret; after"), doctype=XXE), "added", text="Before"),
    Case("laughs.docx", docx_xml(paragraph(b"Laugh &a9; done"), doctype=LAUGHS), "failed", "not a valid Word document"),
    Case("zip_not_docx.docx", zip_not_docx, "failed", "not a valid Word document"),
    Case("truncated.docx", truncated_docx, "failed", "not a valid Word document"),
    Case("junk.docx", junk(2), "failed", "not a valid Word document"),
    Case("pdf_named.docx", copy_of(good_pdf("A PDF in Word clothing"), "x1.pdf"), "added", text="A PDF in Word"),
    Case("docx_named.pdf", copy_of(good_docx("A Word file in PDF clothing"), "x2.docx"), "added", text="A Word file"),
    Case("docx_named.md", copy_of(good_docx("A Word file in Markdown clothing"), "x3.docx"), "added",
         text="A Word file in Markdown"),
    Case("html_named.txt", _write(b"<!DOCTYPE html><html><head><title>Fares</title><script>var k='hidden';</script>"
                                  b"</head><body><p>A day pass costs 12 EUR.</p></body></html>"), "added",
         text="A day pass costs 12 EUR."),
    Case("nested_100k.html", nested_html, "added", text="lost-property rules"),
    Case("script_only.html", _write(b"<html><script>" + b"x=1;" * 1000 + b"</script></html>"), "failed", "no text"),
    Case("junk.html", junk(3), "failed", "binary"),
    Case("junk.md", junk(4), "failed", "binary"),
    Case("zero.md", _write(b""), "failed", "empty"),
    Case("zero.txt", _write(b""), "failed", "empty"),
    Case("long_line.md", long_line, "added", text="Platform 4 is closed"),
    Case("utf16.txt", _write("Le dépôt ouvre à six heures.".encode("utf-16")), "added", text="Le dépôt ouvre"),
    Case("sparse_20gb.pdf", sparse(20 * GB), "failed", "over the"),
    Case("fifo.txt", fifo, "failed", "not a regular file"),
    Case("devzero.txt", symlink_to("/dev/zero"), "failed", "not a regular file"),
    Case("setup.exe", junk(5, 4096), "failed", "not supported"),
    # PowerPoint, Excel, OpenDocument, EPUB: bombs, entities, lies and junk
    Case("bomb.pptx", lambda p: zip_with(p, _pptx, "ppt/slides/slide1.xml", _gigabyte_of(b"<a:t>boom</a:t>")),
         "failed", "zip bomb"),
    Case("bomb_lying.pptx", lambda p: zip_with(p, _pptx, "ppt/slides/slide1.xml",
                                               _gigabyte_of(b"<a:t>boom</a:t>", declared=2048)),
         "failed", "memory"),
    Case("bomb.xlsx", lambda p: zip_with(p, _xlsx, "xl/worksheets/sheet1.xml", _gigabyte_of(b"<c><v>1</v></c>")),
         "failed", "zip bomb"),
    Case("bomb_lying.xlsx", lambda p: zip_with(p, _xlsx, "xl/worksheets/sheet1.xml",
                                               _gigabyte_of(b"<c><v>1</v></c>", declared=2048)),
         "failed", "not a valid Excel workbook"),
    Case("bomb.ods", lambda p: zip_with(p, _ods, "content.xml", _gigabyte_of(b"<text:p>boom</text:p>")),
         "failed", "zip bomb"),
    Case("bomb_lying.ods", lambda p: zip_with(p, _ods, "content.xml", _gigabyte_of(b"<text:p>boom</text:p>",
                                                                                    declared=2048)),
         "failed", "not a valid OpenDocument spreadsheet"),
    Case("bomb.odt", lambda p: zip_with(p, _odt, "content.xml", _gigabyte_of(b"<text:p>boom</text:p>")),
         "failed", "zip bomb"),
    Case("bomb_lying.odt", lambda p: zip_with(p, _odt, "content.xml", _gigabyte_of(b"<text:p>boom</text:p>",
                                                                                    declared=2048)),
         "failed", "not a valid OpenDocument text"),
    Case("bomb.epub", epub_bomb, "failed", "zip bomb"),
    Case("xxe.pptx", _replaced("ppt/slides/slide1.xml", _pptx, _with_doctype(
        XXE.replace(b"w:document", b"p:sld"), b"Trains leave", b"Before &secret; after. Trains leave")),
         "added", text="Before"),
    Case("laughs.pptx", _replaced("ppt/slides/slide1.xml", _pptx, _with_doctype(
        LAUGHS.replace(b"w:document", b"p:sld"), b"Trains leave", b"Laugh &a9; done. Trains leave")),
         "failed", "not a valid PowerPoint presentation"),
    Case("xxe.xlsx", _replaced("xl/worksheets/sheet1.xml", _xlsx, _with_doctype(
        XXE.replace(b"w:document", b"worksheet"), b"Inner", b"Inner &secret;")),
         "failed", "not a valid Excel workbook"),
    Case("laughs.xlsx", _replaced("xl/worksheets/sheet1.xml", _xlsx, _with_doctype(
        LAUGHS.replace(b"w:document", b"worksheet"), b"Inner", b"Inner &a9;")),
         "failed", "not a valid Excel workbook"),
    Case("xxe.ods", _replaced("content.xml", _ods, _with_doctype(
        XXE.replace(b"w:document", b"office:document-content"), b"Inner", b"Inner &secret;")),
         "failed", "not a valid OpenDocument spreadsheet"),
    Case("laughs.ods", _replaced("content.xml", _ods, _with_doctype(
        LAUGHS.replace(b"w:document", b"office:document-content"), b"Inner", b"Inner &a9;")),
         "failed", "not a valid OpenDocument spreadsheet"),
    Case("xxe.odt", _replaced("content.xml", _odt, _with_doctype(
        XXE.replace(b"w:document", b"office:document-content"), b"Trains leave", b"Before &secret; after. Trains leave")),
         "added", text="Trains leave from platform 4."),
    Case("laughs.odt", _replaced("content.xml", _odt, _with_doctype(
        LAUGHS.replace(b"w:document", b"office:document-content"), b"Trains leave", b"Laugh &a9; done. Trains leave")),
         "failed", "not a valid OpenDocument text"),
    Case("xxe.epub", epub_with(_with_doctype(XXE.replace(b"w:document", b"html"), b"Trains leave",
                                             b"Before &secret; after. Trains leave")), "added", text="Trains leave"),
    Case("laughs.epub", epub_with(_with_doctype(LAUGHS.replace(b"w:document", b"html"), b"Trains leave",
                                                b"Laugh &a9; done. Trains leave")), "added", text="Trains leave"),
    Case("far_cell.xlsx", xlsx_far_cell, "failed", "cell limit"),
    Case("far_cell.ods", ods_far_cell, "failed", "cell limit"),
    Case("deep_xml.odt", deep_odt, "failed", "not a valid OpenDocument text"),
    Case("truncated.pptx", truncated(_pptx), "failed", "not a valid PowerPoint presentation"),
    Case("truncated.xlsx", truncated(_xlsx), "failed", "not a valid Excel workbook"),
    Case("truncated.ods", truncated(_ods), "failed", "not a valid OpenDocument spreadsheet"),
    Case("truncated.odt", truncated(_odt), "failed", "not a valid OpenDocument text"),
    Case("truncated.epub", truncated(_epub), "failed", "not a valid EPUB book"),
    Case("junk.pptx", junk(6), "failed", "not a valid PowerPoint presentation"),
    Case("junk.xlsx", junk(7), "failed", "not a valid Excel workbook"),
    Case("junk.epub", junk(8), "failed", "not a valid EPUB book"),
    Case("zip_not_pptx.pptx", zip_not_docx, "failed", "not a valid PowerPoint presentation"),
    Case("xlsx_named.pptx", copy_of(_real(_xlsx), "x4.xlsx"), "added", text="Zone: Inner | Adult: 2.50"),
    Case("odt_named.docx", copy_of(_real(_odt), "x5.odt"), "added", text="Trains leave from platform 4."),
    Case("epub_named.odt", copy_of(_real(_epub), "x6.epub"), "added", text="Trains leave from platform 4."),
    # RTF, CSV, e-mail
    Case("deep_groups.rtf", deep_rtf, "added", text="The depot opens at six."),
    Case("junk.rtf", junk(9), "failed", "not a valid RTF document"),
    Case("rtf_named.txt", _write(b"{\\rtf1\\ansi Fares rise in May.\\par}"), "added", text="Fares rise in May."),
    Case("huge_field.csv", huge_field_csv, "failed", "CSV file is malformed"),
    Case("wide.csv", wide_csv, "failed", "cell limit"),
    Case("junk.csv", junk(10), "failed", "binary"),
    Case("junk.eml", junk(11), "failed", "binary"),
    Case("no_headers.eml", _write(b"Just some words, no headers at all.\n"), "failed", "not an e-mail message"),
    Case("nested_mime.eml", nested_mime, "failed", "the e-mail message is damaged"),
    Case("many_attachments.eml", many_attachments, "added", text="A thousand attachments follow."),
    # images and scans
    Case("bomb.png", png_bomb, "failed", "150-megapixel limit"),
    Case("truncated.png", truncated_png, "failed", "damaged"),
    Case("blank.png", blank_png, "failed", "OCR found no text"),
    Case("junk.png", junk(12), "failed", "not an image Folio can read"),
    Case("frames_2500.tiff", tiff_frames(2500), "failed", "2,000-page OCR limit"),
    Case("scanned_2500.pdf", scanned_pages_pdf(2500), "failed", "2,000-page OCR limit"),
]


def build_corpus(folder: Path, cases: list[Case] = CASES) -> list[Path]:
    """Write every case's file into ``folder``; returns their paths, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in cases:
        path = folder / case.name
        case.build(path)
        paths.append(path)
    return paths
