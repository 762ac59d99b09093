"""The ``folio`` command: serve, ingest, docs, remove, search, ask, export, mcp, models, doctor, eval.

Every command takes ``--json``. Exit status: 0 on success, 1 when any item failed, 2 on bad usage.
Errors go to stderr as one plain sentence naming the file and the fix; this module is the one place
where :class:`~core.errors.FolioError` becomes that message on the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from app.settings import Settings
from rag.documents import LANGUAGES
from core.errors import FolioError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(collection=getattr(args, "collection", None))


# -- commands -------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from app.factory import build
    from app.service import ingest_paths

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise FolioError(f"{missing[0]}: no such file or folder; check the path.")
    folio = build(_settings(args), llm=False, writer=True)
    try:
        results = []
        with tqdm(total=None, unit="file", disable=args.json or None, file=sys.stderr, desc="Ingesting") as bar:
            def on_file(done: int, total: int, name: str) -> None:
                bar.total = total
                bar.n = done
                bar.set_postfix_str(name[:40])
                bar.refresh()

            for result in ingest_paths(folio, [Path(p) for p in args.paths], on_file=on_file):
                results.append(result)
                bar.n = len(results)
                bar.refresh()
                if not args.json:
                    tqdm.write(result.message, file=sys.stdout if result.status != "failed" else sys.stderr)
        second = None if args.background else _second_pass(folio, quiet=args.json)
        if args.json:
            _print_json({"collection": folio.store().collection_name, "results": [r.as_dict() for r in results]}
                        | ({"second_pass": second.__dict__} if second is not None else {}))
        else:
            print(_counts(results))
        return EXIT_FAILED if any(r.status == "failed" for r in results) else EXIT_OK
    finally:
        folio.close()


def _second_pass(folio, *, quiet: bool):
    """The slower embedder's pass over what waits for it, with its own progress bar (None if there is none)."""
    from tqdm import tqdm

    from rag.backfill import backfill

    store = folio.store()
    documents, chunks = store.backlog.waiting()
    if store.second is None or not documents:
        return None
    with tqdm(total=chunks, unit="passage", disable=quiet or None, file=sys.stderr,
              desc=f"Deeper search ({folio.second_embedder.name})") as bar:
        def on_progress(progress) -> None:
            bar.n = min(chunks, progress.chunks)  # embedded so far, the document in hand included
            bar.refresh()

        return backfill(store, folio.second_embedder, on_progress=on_progress)


STATUSES = ("added", "replaced", "moved", "removed", "unchanged", "failed", "skipped")


def _counts(results, *, unchanged: int = 0) -> str:
    """``2 added, 0 replaced, 1 failed, ...`` (moved, removed and skipped only when there are some)."""
    counts = {s: sum(r.status == s for r in results) + (unchanged if s == "unchanged" else 0) for s in STATUSES}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n or s in ("added", "replaced", "unchanged", "failed"))


def cmd_watch(args: argparse.Namespace) -> int:
    """One pass per folder; then, unless --once, keep watching and print each change until Ctrl-C."""
    import time

    from app.factory import build
    from app.folders import FolderWatcher
    from app.service import sync_folder

    missing = [p for p in args.paths if not Path(p).is_dir()]
    if missing:
        raise FolioError(f"{missing[0]}: no such folder; check the path (folio watch takes folders).")
    folio = build(_settings(args), llm=False, writer=True)
    try:
        reports = [sync_folder(folio, Path(p), settle_s=0 if args.once else 2.0) for p in args.paths]
        if args.json:
            _print_json({"collection": folio.store().collection_name,
                         "folders": [{"folder": r.folder, "results": [x.as_dict() for x in r.results],
                                      "still_failing": [f.__dict__ for f in r.still_failing], "pending": list(r.pending),
                                      "files": r.files, "seconds": round(r.seconds, 3)} for r in reports]})
        else:
            for report in reports:
                _print_pass(report, first=True)
        failed = any(r.failed for r in reports)
        if args.once:
            return EXIT_FAILED if failed else EXIT_OK
        watcher = FolderWatcher(folio, on_report=_print_pass)
        for path in args.paths:
            watcher.watch(path)
        print(f"Watching {len(args.paths)} folder(s); Ctrl-C stops.", file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(3600)
        finally:
            watcher.stop()
    finally:
        folio.close()


def _print_pass(report, *, first: bool = False) -> None:
    """A pass's changes, a line each (failures on stderr); the first pass also lists what is unchanged."""
    for result in report.results:
        print(result.message, file=sys.stderr if result.status == "failed" else sys.stdout, flush=True)
    for failure in report.still_failing if first else ():
        print(f"{Path(failure.path).name}: {failure.reason} (unchanged since it failed).", file=sys.stderr)
    if first or report.results:
        pending = f", {len(report.pending)} still being written" if report.pending else ""
        print(f"{report.folder}: {report.files} files, {_counts(report.results, unchanged=report.counts['unchanged'])}"
              f"{pending} ({report.seconds:.1f} s)", flush=True)


def cmd_docs(args: argparse.Namespace) -> int:
    from app.factory import build

    folio = build(_settings(args), llm=False)
    try:
        store = folio.store()
        docs = store.documents(match=args.match or "", limit=args.limit, offset=args.offset)
        total = store.count(match=args.match or "")
        waiting = {doc_id for doc_id, _ in store.backlog.items()}  # searchable; the second pass is still to come
        state = {d.doc_id: "searchable" if d.doc_id in waiting else "complete" for d in docs}
        if args.json:
            _print_json({"collection": store.collection_name, "total": total, "offset": args.offset,
                         "documents": [d.as_dict() | {"state": state[d.doc_id]} for d in docs]})
        elif not docs:
            print(f"No documents{' matching ' + repr(args.match) if args.match else ''} in collection "
                  f"'{store.collection_name}'" + ("; add some with 'folio ingest PATH'." if not total else "."))
        else:
            print(f"{'id':<13} {'pages':>5} {'chunks':>6} {'lang':<4} {'state':<10} name")
            for d in docs:
                print(f"{d.doc_id:<13} {d.pages:>5} {d.chunks:>6} {d.language:<4} {state[d.doc_id]:<10} {d.name}")
            if len(docs) < total:
                print(f"({args.offset + 1}-{args.offset + len(docs)} of {total}; --offset and --limit show others)")
            if waiting:
                print(f"{len(waiting)} documents are searchable and wait for the second pass "
                      f"({folio.settings.second_embedder}), which 'folio serve' runs in the background.")
        return EXIT_OK
    finally:
        folio.close()


def cmd_remove(args: argparse.Namespace) -> int:
    from app.factory import build
    from app.service import remove_document

    folio = build(_settings(args), llm=False, writer=True)
    failed = False
    removed = []
    try:
        for key in args.docs:
            try:
                record = remove_document(folio, key)
                removed.append(record.as_dict())
                if not args.json:
                    print(f"removed {record.name} ({record.chunks} chunks)")
            except FolioError as error:
                failed = True
                print(str(error), file=sys.stderr)
        if args.json:
            _print_json({"removed": removed})
        return EXIT_FAILED if failed else EXIT_OK
    finally:
        folio.close()


def cmd_search(args: argparse.Namespace) -> int:
    from app.factory import build
    from app.service import doc_ids, search_passages

    settings = _settings(args)
    folio = build(settings, llm=False)
    try:
        out = []
        scope = doc_ids(folio, args.doc)
        for query in args.queries:
            passages = search_passages(folio, query, k=args.k or settings.top_k, doc_ids=scope)
            out.append({"query": query, "passages": [p.as_dict() for p in passages]})
            if not args.json:
                print(f"\n{query}")
                for rank, p in enumerate(passages, 1):
                    snippet = " ".join(p.text.split())[:160]
                    print(f"  {rank}. [{p.score:.3f}] {p.source} p.{p.page}: {snippet}")
        if args.json:
            _print_json({"collection": folio.store().collection_name, "results": out})
        return EXIT_OK
    finally:
        folio.close()


def cmd_ask(args: argparse.Namespace) -> int:
    from app.factory import build
    from app.i18n import t
    from app.service import answer, doc_ids
    from app.ui_render import budget_sentence
    from rag.answering import Quotes, Reading, Token

    folio = build(_settings(args))
    try:
        reading = {"shown": False}

        def show(event) -> None:
            if args.json:
                return
            if isinstance(event, Quotes) and event.quotes:  # at once, before the model speaks
                print(t("en", "quotes_heading"))
                for quote in event.quotes:
                    print(f"  “{quote.text}” {quote.label}")
                print(flush=True)
            elif isinstance(event, Reading) and sys.stderr.isatty():
                print(f"\r{t('en', 'reading_progress').format(pct=round(100 * event.fraction))}", end="",
                      file=sys.stderr, flush=True)
                reading["shown"] = True
            elif isinstance(event, Token):
                if reading["shown"]:
                    print("\r\033[K", end="", file=sys.stderr, flush=True)
                    reading["shown"] = False
                print(event.text, end="", flush=True)

        result = answer(folio, args.question, language=args.language, doc_ids=doc_ids(folio, args.doc), on_event=show,
                        whole_window=args.whole_window)
        info = folio.chat.info
        if args.json:
            _print_json(result.as_dict() | {"model_info": info})
            return EXIT_OK
        print("\n")
        for s in result.sources:
            print(f" {'*' if s.n in result.citations.cited else ' '}[{s.n}] {s.source} p.{s.page}")
        st = result.stats
        print(f"\nlanguage {result.language} (answer detected: {result.answer_language}) · {st.prompt_tokens} prompt tokens · "
              f"TTFT {st.ttft_s:.2f} s · {st.tokens_per_s:.1f} tokens/s · {info.get('name')}")
        explained = budget_sentence(result.meter)
        if explained:
            print(explained)
        if info.get("note"):
            print(info["note"], file=sys.stderr)
        return EXIT_OK
    finally:
        folio.close()


def cmd_export(args: argparse.Namespace) -> int:
    """Ask the questions in turn as one conversation (each later one a follow-up) and export it."""
    from app import export
    from app.factory import build
    from app.service import answer, doc_ids

    folio = build(_settings(args))
    try:
        scope, history, answers = doc_ids(folio, args.doc), [], []
        for question in args.questions:
            result = answer(folio, question, language=args.language, history=history, doc_ids=scope)
            answers.append(result)
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": result.text}]
        info, collection = folio.chat.info, folio.store().collection_name
        if args.to:
            for path in export.write(answers, [Path(p) for p in args.to], model_info=info, collection=collection):
                print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
        if args.json:
            _print_json(export.as_json(answers, model_info=info, collection=collection))
        elif not args.to:
            print(export.markdown(answers, model_info=info, collection=collection), end="")
        return EXIT_OK
    finally:
        folio.close()


def cmd_mcp(args: argparse.Namespace) -> int:
    from app.factory import build
    from app.mcp_server import check_ingest, serve_stdio

    settings = _settings(args)
    check_ingest(args.allow_ingest, settings.ingest_folders)  # before anything heavy is built
    folio = build(settings, llm=False, writer=args.allow_ingest)  # the model loads on the first 'ask'
    try:
        return serve_stdio(folio, allow_ingest=args.allow_ingest)
    finally:
        folio.close()


def cmd_serve(args: argparse.Namespace) -> int:
    from app.web import serve

    settings = Settings.load(host=args.host, port=args.port, auth=args.auth, openai_api=args.openai or None,
                             mcp=args.mcp or None)
    return serve(settings, open_browser=args.open, allow_ingest=args.allow_ingest)


def cmd_doctor(args: argparse.Namespace) -> int:
    from app.doctor import diagnose, render

    report = diagnose(_settings(args), check=args.check)
    if args.json:
        _print_json(report)
    else:
        print(render(report))
    return EXIT_OK if report["ok"] else EXIT_FAILED


def cmd_models(args: argparse.Namespace) -> int:
    from app import models_cli

    return models_cli.run(args, _settings(args))


def cmd_eval(args: argparse.Namespace) -> int:
    from app.evaluate import run_eval

    report = run_eval(_settings(args), questions=Path(args.questions) if args.questions else None,
                      answers=args.answers, modes=args.modes)
    if args.json:
        _print_json(report)
    else:
        from app.evaluate import render

        print(render(report))
    return EXIT_OK


# -- parser ---------------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="folio", description="Chat with your own documents, offline and private.")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable, help_text: str, *, collection: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        if collection:
            p.add_argument("--collection", metavar="NAME", help="collection to use (default: 'default')")
        p.set_defaults(handler=handler)
        return p

    p = command("serve", cmd_serve, "Start the web app.", collection=False)
    p.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 7860)")
    p.add_argument("--auth", default=None, metavar="USER:PASSWORD", help="require this login (needed off localhost)")
    p.add_argument("--openai", action="store_true", help="also serve an OpenAI-compatible API at /v1 (token: FOLIO_API_TOKEN)")
    p.add_argument("--mcp", action="store_true", help="also serve MCP over HTTP at /mcp (token: FOLIO_API_TOKEN)")
    p.add_argument("--allow-ingest", action="store_true",
                   help="with --mcp: add the ingest tool, for files under FOLIO_ALLOW_INGEST_FROM")
    p.add_argument("--open", action="store_true", help="open the app in your browser once it answers")

    p = command("ingest", cmd_ingest, "Add files or folders to the index.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--background", action="store_true",
                   help="return once the documents are searchable; the slower second pass runs at the next "
                        "'folio serve' (or the next ingest)")

    p = command("docs", cmd_docs, "List the documents in a collection.")
    p.add_argument("--match", default=None, metavar="TEXT", help="only documents whose name contains TEXT")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N documents")
    p.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N (with --limit: a page)")

    p = command("watch", cmd_watch, "Keep a collection in step with folders: a first pass, then watch until Ctrl-C.")
    p.add_argument("paths", nargs="+", metavar="FOLDER")
    p.add_argument("--once", action="store_true", help="one pass over each folder, then exit")

    p = command("remove", cmd_remove, "Remove documents by id or name.")
    p.add_argument("docs", nargs="+", metavar="DOC")

    p = command("search", cmd_search, "Show the passages that best match each query.")
    p.add_argument("queries", nargs="+", metavar="QUERY")
    p.add_argument("-k", type=int, default=None, help="passages per query (default 5)")
    p.add_argument("--doc", action="append", metavar="DOC", help="search only this document (id or name; repeatable)")

    p = command("ask", cmd_ask, "Answer a question from the documents, citing pages.")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--language", default="auto", choices=["auto", *LANGUAGES], help="answer language (default: the question's)")
    p.add_argument("--doc", action="append", metavar="DOC", help="answer only from this document (id or name; repeatable)")
    p.add_argument("--whole-window", action="store_true",
                   help="fill the model's whole window with sources, however long the first word takes "
                        "(default: sized to FOLIO_TTFT_TARGET_S at this machine's measured speed)")

    p = command("export", cmd_export, "Ask questions as one conversation and export it (Markdown, JSON).")
    p.add_argument("questions", nargs="+", metavar="QUESTION", help="the questions, in order (later ones follow up)")
    p.add_argument("--to", action="append", metavar="FILE", help="write to FILE: .json as JSON, else Markdown "
                   "(repeatable; default: Markdown to stdout)")
    p.add_argument("--language", default="auto", choices=["auto", *LANGUAGES], help="answer language (default: the question's)")
    p.add_argument("--doc", action="append", metavar="DOC", help="answer only from this document (id or name; repeatable)")

    p = command("mcp", cmd_mcp, "Serve the Model Context Protocol over stdio, for desktop assistants and editors.")
    p.add_argument("--allow-ingest", action="store_true",
                   help="add the ingest tool, for files under the folders of FOLIO_ALLOW_INGEST_FROM")

    p = command("models", cmd_models, "List, pull and plan models.", collection=False)
    models = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    m = models.add_parser("list", help="known models and which are present")
    m.add_argument("--json", action="store_true")
    m = models.add_parser("pull", help="download a model from the Hugging Face hub")
    m.add_argument("name")
    m.add_argument("--json", action="store_true")
    m = models.add_parser("plan", help="will it fit? layers on the GPU, KV cache, memory")
    m.add_argument("name", metavar="NAME_OR_PATH")
    m.add_argument("--vram-gb", type=float, default=None, help="GPU memory (default: probe this machine)")
    m.add_argument("--ram-gb", type=float, default=None, help="system memory (default: probe this machine)")
    m.add_argument("--ctx", type=int, default=32768, help="context length (default 32768)")
    m.add_argument("--cache-type", default="f16", choices=["f16", "q8_0"])
    m.add_argument("--json", action="store_true")

    p = command("doctor", cmd_doctor, "Check models, GPU offload, index and settings.")
    p.add_argument("--check", action="store_true", help="also verify index and manifest agree, and repair")

    p = command("eval", cmd_eval, "Retrieval and answer metrics on a question set.")
    p.add_argument("--questions", default=None, help="JSONL question set (default: sample_docs/eval.jsonl)")
    p.add_argument("--answers", action="store_true", help="also generate answers (slow) and score them")
    p.add_argument("--modes", nargs="+", default=None, help="retrieval modes to compare")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "models_command", None) != "pull":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing downloads unless the user asked for it
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    try:
        return args.handler(args)
    except FolioError as error:
        print(str(error), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
