"""Builders for the files the tests feed Folio: good ones in every format, and bad ones."""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF


def _pdf() -> FPDF:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    return pdf


def make_pdf(path: Path, pages: list[str]) -> Path:
    """A text PDF, one string per page."""
    pdf = _pdf()
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def make_positioned_pdf(path: Path, lines: list[str]) -> Path:
    """A PDF whose words are placed one by one by position, with no space characters between them,
    as many real PDFs (typeset reports, exported slides) are made."""
    pdf = _pdf()
    pdf.add_page()
    y = 30.0
    for line in lines:
        x = 20.0
        for word in line.split():
            pdf.text(x, y, word)
            x += pdf.get_string_width(word) + pdf.get_string_width(" ") * 1.2
        y += 10
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path, text: str, *, user_password: str = "secret") -> Path:
    pdf = _pdf()
    pdf.set_encryption(owner_password="owner", user_password=user_password)
    pdf.add_page()
    pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A PDF with only an image of text (no text layer), as a scanner makes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 300), "white")
    ImageDraw.Draw(image).text((20, 120), "This page was scanned and has no text layer.", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = _pdf()
    pdf.add_page()
    pdf.image(buffer, x=10, y=10, w=180)
    pdf.output(str(path))
    return path


def make_blank_scan_pdf(path: Path) -> Path:
    """A PDF of one scanned page with nothing on it (an empty sheet through a scanner): no text to find."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (850, 1100), 250).save(buffer, format="PNG")
    pdf = _pdf()
    pdf.add_page()
    pdf.image(buffer, x=0, y=0, w=210)
    pdf.output(str(path))
    return path


def make_truncated_pdf(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def make_docx(path: Path, pages: list[list[str]]) -> Path:
    """A Word document; each inner list is a page of paragraphs, separated by page breaks."""
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    for number, paragraphs in enumerate(pages):
        if number:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        for text in paragraphs:
            document.add_paragraph(text)
    document.save(str(path))
    return path


def make_kerned_pdf(path: Path, lines: list[str], *, gap: int = 300) -> Path:
    """A hand-written PDF whose words sit in TJ arrays separated only by position offsets, with no
    space glyphs at all: how typesetters and many exporters write text."""
    def escape(word: str) -> str:
        return word.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    rows = []
    for number, line in enumerate(lines):
        words = f" -{gap} ".join(f"({escape(w)})" for w in line.split())
        rows.append(f"BT /F1 12 Tf 72 {720 - 18 * number} Td [{words}] TJ ET")
    content = "\n".join(rows).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for index, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % index + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path
