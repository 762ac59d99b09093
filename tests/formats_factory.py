"""Builders for files in the formats beyond PDF and Word, made with the real tools that write them.

pandoc writes PowerPoint, OpenDocument text, EPUB and RTF from Markdown; openpyxl writes Excel
workbooks, odfpy OpenDocument spreadsheets, Python's ``email`` package e-mail; scans are pages of
real PDFs rendered by PDFium and saved by Pillow as image-only PDFs, PNGs or multi-page TIFFs.
"""

from __future__ import annotations

import subprocess
from email.message import EmailMessage
from pathlib import Path

from tests.conftest import SAMPLE_DOCS


def pandoc(path: Path, markdown: str, *, standalone: bool = False, title: str | None = None) -> Path:
    """``markdown`` converted by pandoc to the format of ``path``'s extension (.pptx .odt .epub .rtf .docx)."""
    command = ["pandoc", "--from", "markdown", "-o", str(path)]
    if standalone:
        command.append("--standalone")
    if title:
        command += ["--metadata", f"title={title}"]
    subprocess.run(command, input=markdown.encode(), check=True, capture_output=True, timeout=60)
    return path


def make_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def make_ods(path: Path, sheets: dict[str, list[list]]) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for title, rows in sheets.items():
        table = Table(name=title)
        for row in rows:
            table_row = TableRow()
            for value in row:
                if isinstance(value, (int, float)):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
                table_row.addElement(cell)
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def make_eml(path: Path, *, subject: str, body: str, html: str | None = None, sender: str = "Anna Keller <anna@valmont.example>",
             attachments: list[tuple[str, bytes, str]] = ()) -> Path:
    """An e-mail; ``attachments`` are ``(file name, bytes, MIME type)``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "depot@valmont.example"
    message["Date"] = "Mon, 03 Nov 2025 09:00:00 +0100"
    message["Subject"] = subject
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, data, mime in attachments:
        maintype, subtype = mime.split("/")
        if mime == "message/rfc822":  # a forwarded mail: attached as a message, as mail programs do
            import email
            from email import policy

            message.add_attachment(email.message_from_bytes(data, policy=policy.default), filename=filename)
        else:
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    path.write_bytes(bytes(message))
    return path


# -- scans ---------------------------------------------------------------------------------------
SCAN_SOURCES = {  # a real PDF per language; the French one is made from the French press release
    "en": "annual_report_2025_en.pdf", "de": "sicherheitshandbuch_de.pdf", "es": "informe_sostenibilidad_2025_es.pdf",
    "it": "progetto_galleria_col_du_valmont_it.pdf", "fr": None,
}


def french_pdf(path: Path) -> Path:
    """A text PDF of the French sample press release (core fonts: typographic quotes made plain)."""
    from fpdf import FPDF

    text = (SAMPLE_DOCS / "communique_presse_lumina_fr.txt").read_text(encoding="utf-8")
    text = text.replace("\u2019", "'").replace("\u00ab", '"').replace("\u00bb", '"').replace("\u202f", " ")
    lines = [line for line in text.splitlines() if not (line and set(line) <= set("=-"))]
    pdf = FPDF(format="A4")
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "\n".join(lines).encode("latin-1", "replace").decode("latin-1"))
    pdf.output(str(path))
    return path


def source_pdf(language: str, folder: Path) -> Path:
    name = SCAN_SOURCES[language]
    return SAMPLE_DOCS / name if name else french_pdf(folder / "communique_fr.pdf")


def rendered_pages(pdf_path: Path, pages: list[int], *, dpi: int = 200) -> tuple[list, list[str]]:
    """The given 1-based pages of a real PDF as grey PIL images at ``dpi``, and their text layers."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    images, texts = [], []
    for number in pages:
        page = pdf[number - 1]
        texts.append(page.get_textpage().get_text_range())
        image = page.render(scale=dpi / 72).to_pil().convert("L")
        image.info["dpi"] = (dpi, dpi)
        images.append(image)
    pdf.close()
    return images, texts


def save_scan(path: Path, images: list, *, dpi: int = 200) -> Path:
    """Images saved by Pillow as an image-only PDF, a PNG (first image) or a multi-page TIFF, by extension."""
    copies = [image.copy() for image in images]  # Pillow keeps an encoder's settings on the image it saved
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        copies[0].save(path, "PDF", resolution=float(dpi), save_all=True, append_images=copies[1:])
    elif suffix in (".tif", ".tiff"):
        copies[0].save(path, save_all=True, append_images=copies[1:], dpi=(dpi, dpi), compression="tiff_lzw")
    else:
        copies[0].save(path, dpi=(dpi, dpi))
    return path


def make_scan(path: Path, language: str, *, pages: list[int] = (1,), dpi: int = 200) -> tuple[Path, list[str]]:
    """A scan of real pages in ``language`` (image-only PDF, PNG or TIFF by ``path``'s extension) and their texts."""
    images, texts = rendered_pages(source_pdf(language, path.parent), list(pages), dpi=dpi)
    return save_scan(path, images, dpi=dpi), texts
