"""Spreadsheets → pages: Excel (.xlsx, .xlsm), OpenDocument (.ods), CSV and TSV.

Page mapping: each sheet is cut into blocks of :data:`ROWS_PER_PAGE` rows, and a block is a page
(a small sheet is one page), numbered through the workbook in sheet order. A page starts with the
sheet's name and the rows it holds, and **every row keeps its column headers**, so a row read alone
in a chunk still says what its cells are:

>>> table_pages("Fares", [["Zone", "Adult", "Child"], ["1", 2.5, 1.0], ["2", 4, None], [None, None, None]])
["Sheet 'Fares', rows 2-3 of 3\\nZone: 1 | Adult: 2.5 | Child: 1\\nZone: 2 | Adult: 4"]

The header row is the sheet's first non-empty row when it is all text; otherwise columns are named
by their letters (``A``, ``B``...). Empty cells are left out of a row; numbers print without a
trailing ``.0``; dates print in ISO form.

Excel and OpenDocument files are read with ``python-calamine`` (Rust's calamine): 1,000,000 cells
(100,000 rows × 10 columns) read in 0.9 s where openpyxl's streaming reader took 21 s on the same
2 cores (23x); an OpenDocument sheet of 100,000 cells in 0.3 s where odfpy took 71 s; one library
reads both formats. CSV is Python's ``csv`` with its dialect sniffer.

Limits: a workbook may hold at most :data:`MAX_CELLS` cells (its sheets' used areas). A bigger one
is refused with one sentence — never indexed in part, as the index never holds half a document —
telling the user to split it. calamine allocates a sheet's used area densely, so an .xlsx whose cell
references reach far (one cell at ``XFD1048576``) is measured from those references first and
refused before calamine sees it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from rag.documents import Page
from core.errors import DocumentError
from rag.formats.base import check_zip, not_valid, read_text

ROWS_PER_PAGE = 50
MAX_CELLS = 2_000_000
MAX_FIELD_CHARS = 1_000_000  # one CSV field (Python's default limit is 131,072)
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")


def load_workbook(path: Path, name: str) -> list[Page]:
    """An .xlsx/.xlsm/.ods workbook: every sheet, a page per block of rows."""
    from python_calamine import CalamineError, CalamineWorkbook

    kind = ".ods" if path.suffix.lower() == ".ods" or _is_ods(path) else ".xlsx"
    with check_zip(path, name, kind) as archive:
        if kind == ".xlsx":
            _check_xlsx_extent(archive, name)
    pages: list[str] = []
    cells = 0
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        for sheet_name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(sheet_name)
            cells += sheet.height * sheet.width
            _check_cells(cells, name)
            pages.extend(table_pages(sheet_name, sheet.to_python(skip_empty_area=True)))
    except (CalamineError, ValueError, OSError, KeyError, IndexError, TypeError) as error:
        if isinstance(error, DocumentError):
            raise
        requested = re.search(r"cell limit exceeded \((\d+) cells", str(error), re.IGNORECASE)
        if requested:  # calamine's own guard (OpenDocument): a sheet whose repeated cells reach far
            _check_cells(int(requested.group(1)), name)
        raise not_valid(name, kind) from None
    except BaseException as error:  # a Rust panic arrives as pyo3's PanicException, a BaseException
        if type(error).__name__ != "PanicException":
            raise
        raise not_valid(name, kind) from None
    return [Page(number, text) for number, text in enumerate(pages, 1)]


def _is_ods(path: Path) -> bool:
    from rag.formats.base import zip_kind

    return zip_kind(path) == ".ods"


def _check_xlsx_extent(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a workbook whose cell references span more than :data:`MAX_CELLS`, before it is read."""
    total = 0
    for info in archive.infolist():
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
            continue
        rows = columns = 0
        tail = b""
        try:
            with archive.open(info) as handle:
                while block := handle.read(1 << 20):
                    data = tail + block
                    for letters, digits in _CELL_REF.findall(data):
                        rows = max(rows, int(digits))
                        columns = max(columns, _column_number(letters))
                    tail = data[-200:]
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
            raise not_valid(name, ".xlsx") from None
        total += rows * columns
        _check_cells(total, name)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_cells(cells: int, name: str) -> None:
    if cells > MAX_CELLS:
        raise DocumentError(name, f"the spreadsheet spans {cells:,} cells, over the {MAX_CELLS:,}-cell limit Folio "
                                  f"indexes; split it into smaller files (or save the part you need as CSV) and add those")


def load_csv(path: Path, name: str) -> list[Page]:
    """A CSV or TSV file: one sheet named after the file; the delimiter is sniffed (``,`` ``;`` tab ``|``)."""
    text = read_text(path, name)
    if path.suffix.lower() == ".tsv":
        dialect: type[csv.Dialect] | csv.Dialect = csv.excel_tab
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:16384], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
    previous = csv.field_size_limit(MAX_FIELD_CHARS)
    rows: list[list[str]] = []
    cells = 0
    try:
        for row in csv.reader(io.StringIO(text, newline=""), dialect):
            cells += len(row)
            _check_cells(cells, name)
            rows.append(row)
    except csv.Error as error:
        raise DocumentError(name, f"the CSV file is malformed ({str(error).rstrip('.')}); check its quoting") from None
    finally:
        csv.field_size_limit(previous)
    return [Page(number, page) for number, page in enumerate(table_pages(path.stem, rows), 1)]


def table_pages(sheet: str, rows: Iterable[Sequence[object]], *, rows_per_page: int = ROWS_PER_PAGE) -> list[str]:
    """The pages of one sheet: blocks of rows, each row as ``Header: value | Header: value``."""
    rows = [[_cell(value) for value in row] for row in rows]
    first = next((i for i, row in enumerate(rows) if any(row)), None)
    if first is None:
        return []
    header_row = rows[first]
    numeric = re.compile(r"-?[\d.,]+%?$")
    if all(value and not numeric.match(value) for value in header_row if value) and \
            sum(1 for value in header_row if value) >= 1:
        headers, data = header_row, rows[first + 1:]
        offset = first + 2
    else:
        headers, data = [], rows[first:]
        offset = first + 1
    width = max(len(row) for row in rows)
    names = [(headers[i] if i < len(headers) and headers[i] else _column_letters(i)) for i in range(width)]
    lines = [(offset + i, " | ".join(f"{names[j]}: {value}" for j, value in enumerate(row) if value))
             for i, row in enumerate(data)]
    lines = [(number, line) for number, line in lines if line]
    if not lines:
        return [f"Sheet '{sheet}'\n" + " | ".join(v for v in header_row if v)]
    last = lines[-1][0]
    pages = []
    for start in range(0, len(lines), rows_per_page):
        block = lines[start:start + rows_per_page]
        heading = f"Sheet '{sheet}', rows {block[0][0]}-{block[-1][0]} of {last}"
        pages.append("\n".join([heading, *(line for _, line in block)]))
    return pages


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:.15g}"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        text = value.isoformat()
        return text[:-9] if text.endswith("T00:00:00") else text
    return " ".join(str(value).split())


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
