"""Structured HTML: chrome dropped, table rows whole with their column labels, chunks that know their section.

The reader, the chunker and ingestion into real Chroma with the real embedder: a question naming a
section's title finds a passage of that section whose own text never says it, and every passage's
offsets still point at its text on the page.
"""

from __future__ import annotations

from rag.chunking import chunk_document
from rag.documents import Document, Page
from rag.formats.base import read_html
from rag.ingest import ingest
from rag.loading import load
from rag.retrieval import search

NAV = ("<div class='navheader'><table width='100%' summary='Navigation header'>"
       "<tr><th colspan='3'>6.3. Using Individual Components</th></tr>"
       "<tr><td><a accesskey='p' href='ch06s02.html'>Prev</a></td><th>Chapter 6. Using the Installer</th>"
       "<td><a accesskey='n' href='ch06s04.html'>Next</a></td></tr></table><hr></div>")
FOOTER = ("<div class='navfooter'><table summary='Navigation footer'><tr><td><a href='ch06s02.html'>Prev</a></td>"
          "<td><a href='index.html'>Home</a></td><td><a href='ch06s04.html'>Next</a></td></tr></table></div>")
TOOLS = [("fdisk", "edits the partition table of a disk"), ("mkswap", "prepares a swap area"),
         ("mke2fs", "makes an ext2, ext3 or ext4 file system"), ("cfdisk", "edits partitions with a full-screen menu"),
         ("parted", "resizes partitions without losing data"), ("sfdisk", "scripts partition layouts"),
         ("gdisk", "edits GUID partition tables"), ("wipefs", "erases file system signatures")]
OPTIONS = [("noshell", "stops the installer from opening shells on the other consoles"),
           ("lowmem", "loads fewer components on machines with little memory"),
           ("priority", "sets which questions the installer asks"),
           ("debconf/frontend", "chooses the installer's user interface"),
           ("netcfg/disable_autoconfig", "turns off automatic network setup"),
           ("hw-detect/load_firmware", "says whether missing firmware is looked for")]


def guide_page() -> str:
    """A DocBook-like page: Prev/Next chrome, a page title, two sections, each with a table of many rows."""
    rows = "".join(f"<tr><td><code>{tool}</code></td><td>{purpose}</td></tr>" for tool, purpose in TOOLS)
    options = "".join(f"<tr><td>{name}</td><td><p>It {effect}.</p></td></tr>" for name, effect in OPTIONS)
    return (f"<html><head><title>6.3. Using Individual Components</title></head><body>{NAV}"
            "<div class='sect1'><h2 class='title'><a name='s1'></a>6.3. Using Individual Components</h2>"
            "<p>This section describes each component in turn.</p>"
            "<h3>6.3.1. Partitioning Your Storage Devices</h3>"
            "<p>Pick one of these programs.</p>"
            f"<table border='1'><thead><tr><th>Tool</th><th>Purpose</th></tr></thead><tbody>{rows}</tbody></table>"
            "<h3>6.3.2. Kernel Boot Parameters</h3>"
            f"<table><tr><th>Parameter</th><th>Effect</th></tr>{options}</table>"
            "<dl><dt><span class='term'>BOOT_DEBUG</span></dt><dd><p>Sets the debug level.</p><p>Use 2.</p></dd></dl>"
            f"</div>{FOOTER}</body></html>")


def test_reader_drops_chrome_and_writes_each_row_with_its_column_labels():
    page = read_html(guide_page())
    lines = page.text.split("\n")
    assert "Prev" not in page.text and "Next" not in page.text and "Home" not in page.text
    assert "Chapter 6. Using the Installer" not in page.text, "the navigation header's chapter line is chrome"
    assert lines[0] == "6.3. Using Individual Components"
    assert "Tool | Purpose" in lines
    assert "Tool: fdisk | Purpose: edits the partition table of a disk" in lines
    assert "Parameter: noshell | Effect: It stops the installer from opening shells on the other consoles." in lines
    assert "BOOT_DEBUG: Sets the debug level. Use 2." in lines, "a term and its definition stay on one line"
    assert page.headings == ("6.3. Using Individual Components", "6.3. Using Individual Components",
                             "6.3.1. Partitioning Your Storage Devices", "6.3.2. Kernel Boot Parameters")
    for heading in page.headings:
        assert heading in lines, "every heading is a line of its own"


def test_reader_keeps_content_headers_and_layout_tables():
    page = read_html("<body><header><a href='/'>Home</a> <a href='/blog'>Blog</a></header><nav>Menu</nav>"
                     "<article><header><h1>Winter timetable</h1></header><p>Trains run every 20 minutes.</p>"
                     "<table><tr><td><h2>Fares</h2><ul><li>Day pass: 12 EUR</li></ul></td></tr></table></article>"
                     "<footer>© Lumina Rail</footer></body>")
    assert page.text == "Winter timetable\nTrains run every 20 minutes.\nFares\nDay pass: 12 EUR"
    assert page.headings == ("Winter timetable", "Fares")


def test_html_file_loads_with_its_headings(tmp_path):
    (tmp_path / "ch06s03.html").write_text(guide_page(), encoding="utf-8")
    [page] = load(tmp_path / "ch06s03.html").pages
    assert page.headings[-1] == "6.3.2. Kernel Boot Parameters" and "Tool: mkswap | Purpose: prepares a swap area" in page.text


def test_rows_are_never_split_and_chunks_carry_their_section(tmp_path):
    (tmp_path / "ch06s03.html").write_text(guide_page(), encoding="utf-8")
    document = load(tmp_path / "ch06s03.html")
    page = document.pages[0]
    rows = [line for line in page.text.split("\n") if line.startswith(("Tool: ", "Parameter: "))]
    for tokens in (16, 20, 31, 45):  # each at least the longest row
        chunks = chunk_document(document, token_length=lambda t: len(t.split()), chunk_tokens=tokens)
        assert len(chunks) > 3
        for row in rows:
            assert any(row in chunk.text for chunk in chunks), f"row split at {tokens} tokens: {row}"
        for chunk in chunks:
            assert page.text[chunk.start:chunk.end] == chunk.text
            assert chunk.section in page.headings
    chunks = chunk_document(document, token_length=lambda t: len(t.split()), chunk_tokens=20)
    by_row = {row: next(c for c in chunks if row in c.text) for row in rows}
    assert {c.section for row, c in by_row.items() if row.startswith("Tool: ")} == {"6.3.1. Partitioning Your Storage Devices"}
    assert {c.section for row, c in by_row.items() if row.startswith("Parameter: ")} == {"6.3.2. Kernel Boot Parameters"}
    assert chunks[0].section == "6.3. Using Individual Components", "before the first heading: the page title"
    last = by_row[rows[-1]]
    assert "Kernel" not in last.text and last.indexed_text == f"6.3.2. Kernel Boot Parameters\n{last.text}"


def test_pages_without_headings_chunk_as_before():
    doc = Document(name="a.txt", path="a.txt", sha256="0" * 64, language="en",
                   pages=(Page(1, "Depots open at six.\nThey close at ten."),))
    [chunk] = chunk_document(doc, token_length=lambda t: len(t.split()))
    assert chunk.section == "" and chunk.indexed_text == chunk.text


def test_a_question_naming_a_section_finds_its_rows_and_offsets_stay_exact(tmp_path, store, embedder):
    (tmp_path / "ch06s03.html").write_text(guide_page(), encoding="utf-8")
    [result] = ingest([tmp_path / "ch06s03.html"], store=store, embedder=embedder, chunk_tokens=24, isolate=False)
    assert result.status == "added" and result.chunks > 3
    page = load(tmp_path / "ch06s03.html").pages[0]
    stored = store.chunks()
    for chunk in stored:
        assert page.text[chunk.start:chunk.end] == chunk.text, "the shown text is the page's, not the indexed text"
        assert chunk.section in page.headings, "the section survives the round trip through Chroma"
    lowmem = next(c for c in stored if "Parameter: lowmem" in c.text)
    assert "boot" not in lowmem.text.lower() and "kernel" not in lowmem.text.lower()

    keyword = store.keyword_query("kernel boot", language="en", k=10)
    assert any(p.chunk.chunk_id == lowmem.chunk_id for p in keyword), "BM25 reads the section title"

    passages = search("Which kernel boot parameter helps a machine with little memory?", store=store,
                      embedder=embedder, k=3)
    assert "lowmem" in passages[0].text
    for passage in passages:
        shown = page.text[passage.chunk.start:passage.chunk.end]
        assert shown.split() == passage.text.split(), "a citation's offsets point at its words on the page"
        assert "6.3.2. Kernel Boot Parameters" not in passage.text or "6.3.2. Kernel Boot Parameters" in shown
