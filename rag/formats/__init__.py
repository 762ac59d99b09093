"""Loaders for the formats beyond PDF, Word, Markdown, text and HTML, one module per family.

Each loader is ``load_x(path, name) -> list[Page]`` and raises :class:`~core.errors.DocumentError`
with one sentence naming the file and the reason; :mod:`rag.loading` picks one by the file's
extension or content and :mod:`rag.sandbox` runs it in the limited worker process.

- :mod:`rag.formats.base` — what several loaders share: text decoding, HTML to text, the zip-bomb
  guard for every zip-based format, a safe XML parser, and recognising a zip by its parts.
- :mod:`rag.formats.office` — PowerPoint (a slide is a page), OpenDocument text, EPUB (a chapter
  is a page), RTF.
- :mod:`rag.formats.sheets` — Excel, OpenDocument spreadsheets, CSV/TSV: a block of rows is a page
  and every row keeps its column headers.
- :mod:`rag.formats.mail` — e-mail (.eml): headers and body as a page, attachments extracted so
  ingestion can index each as a document of its own.
"""
