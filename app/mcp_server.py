"""Folio as a Model Context Protocol server, for the desktop assistants and editors that speak MCP.

``folio mcp`` serves it over stdio (the way an assistant starts a local server); ``folio serve --mcp``
also offers it over streamable HTTP at ``/mcp`` on the web app's port. Every call goes through
:mod:`app.service`, the same calls the page and the CLI make: there is no second retrieval or prompt path.

- tools: ``search`` (passages with file, page, text, score), ``ask`` (Folio's answer, its language, the
  numbered sources with page and the citation check), ``list_documents`` and ``get_page``; with
  ``allow_ingest`` also ``ingest``, for paths under the folders the user listed (``FOLIO_ALLOW_INGEST_FROM``);
- resources: every page of every document, ``folio://<collection>/<doc_id>/<page>``, as text.

Every passage, source and page carries its file and page (``cite_as``: ``guide.pdf, p. 2``) and its
resource ``uri``, so the calling assistant can cite it. A bad argument is refused in one sentence that
names it (:func:`argument_error`), like every other :class:`~core.errors.FolioError`.

The heart is pure: where a page lives, and which paths an ingest may read.

>>> page_uri("default", "d-1a2b3c4d5e", 2)
'folio://default/d-1a2b3c4d5e/2'
>>> inside(Path("/srv/docs/2024/report.pdf"), [Path("/srv/mail"), Path("/srv/docs")])
True
>>> inside(Path("/srv/docs-old/report.pdf"), [Path("/srv/docs")])
False
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from app import service
from app.factory import Folio
from core.errors import FolioError
from rag.documents import LANGUAGES

if TYPE_CHECKING:  # mcp is imported where the server is built, not when the CLI starts
    from mcp.server.mcpserver import MCPServer

SCHEME = "folio"
MAX_K = 50
MAX_LIST = 500
RESOURCES_PAGE = 500  # resources per resources/list page (the client follows next_cursor)
INSTRUCTIONS = ("Folio searches and answers from the user's own documents, offline. Cite what you use with its "
                "file and page (each result's cite_as). 'ask' writes Folio's own answer with numbered sources; "
                "'search' returns the passages for you to read; 'get_page' gives a whole page.")


def page_uri(collection: str, doc_id: str, page: int) -> str:
    """The resource URI of one page of a document."""
    return f"{SCHEME}://{collection}/{doc_id}/{page}"


def inside(path: Path, folders: Sequence[Path]) -> bool:
    """Whether the (already resolved) ``path`` lies in one of the (resolved) ``folders``."""
    return any(path == folder or folder in path.parents for folder in folders)


def argument_error(tool: str, error) -> str:
    """One sentence for a pydantic ``ValidationError`` of a tool's arguments (its first problem).

    >>> from pydantic import TypeAdapter, ValidationError
    >>> try:
    ...     TypeAdapter(int).validate_python("many")
    ... except ValidationError as error:
    ...     argument_error("search", error).replace("argument ''", "argument 'k'")
    "search: the argument 'k' is wrong (input should be a valid integer, unable to parse string as an integer)."
    """
    problem = error.errors()[0]
    name = ".".join(str(part) for part in problem.get("loc", ()))
    if problem.get("type") == "missing":
        return f"{tool}: the argument '{name}' is required."
    message = str(problem.get("msg", "invalid value")).rstrip(".")
    return f"{tool}: the argument '{name}' is wrong ({message[:1].lower() + message[1:]})."


def check_ingest(allow_ingest: bool, folders: Sequence[Path]) -> None:
    """Refuse ``--allow-ingest`` without the folders it may read from."""
    if allow_ingest and not folders:
        raise FolioError("--allow-ingest needs the folders it may read: set FOLIO_ALLOW_INGEST_FROM to them "
                         f"(separated by '{os.pathsep}'), or allow_ingest_from in folio.toml.")


class FolioTools:
    """What each MCP tool does, over :mod:`app.service`; results are JSON-ready dicts, errors FolioErrors."""

    def __init__(self, folio: Folio, *, ingest_from: Sequence[Path] = ()) -> None:
        self.folio = folio
        self.ingest_from = tuple(Path(p).expanduser().resolve() for p in ingest_from)
        self._chat_lock = threading.Lock()

    # -- arguments -------------------------------------------------------------------------------
    def collection(self, name: str | None) -> str:
        """``name`` (the configured collection when empty), refused unless it exists: a read never creates one."""
        name = (name or "").strip() or self.folio.settings.collection
        names = service.collection_names(self.folio)
        if name not in names:
            raise FolioError(f"There is no collection '{name}'; the collections are: {', '.join(names)}.")
        return name

    def _record(self, document: str, collection: str):
        record = self.folio.store(collection).find((document or "").strip())
        if record is None:
            raise FolioError(f"No document '{document}' in collection '{collection}'; list_documents lists them.")
        return record

    # -- tools -----------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, collection: str = "", documents: Sequence[str] = ()) -> dict:
        if not (query or "").strip():
            raise FolioError("search: the query is empty; say what to look for.")
        if not 1 <= k <= MAX_K:
            raise FolioError(f"search: k must be between 1 and {MAX_K}, not {k}.")
        name = self.collection(collection)
        scope = service.doc_ids(self.folio, list(documents or ()), collection=name)
        passages = service.search_passages(self.folio, query, k=k, collection=name, doc_ids=scope)
        return {"collection": name, "query": query,
                "passages": [p.as_dict() | {"rank": rank, "cite_as": f"{p.source}, p. {p.page}",
                                            "uri": page_uri(name, p.chunk.doc_id, p.page)}
                             for rank, p in enumerate(passages, 1)]}

    def ask(self, question: str, language: str = "auto", collection: str = "") -> dict:
        if not (question or "").strip():
            raise FolioError("ask: the question is empty.")
        if language not in ("auto", *LANGUAGES):
            raise FolioError(f"ask: the language must be auto or one of {', '.join(LANGUAGES)}, not '{language}'.")
        name = self.collection(collection)
        self._load_chat()
        answer = service.answer(self.folio, question, language=language, collection=name)
        cited, spans = set(answer.citations.cited), answer.citations.spans()
        out = answer.as_dict()
        out["collection"] = name
        out["sources"] = [s.as_dict() | {"cited": s.n in cited, "quote": (spans.get(s.n) or [None])[0],
                                         "cite_as": f"{s.source}, p. {s.page}",
                                         "uri": page_uri(name, s.doc_id, s.page)} for s in answer.sources]
        return out

    def list_documents(self, collection: str = "", match: str = "", limit: int = 50) -> dict:
        if not 1 <= limit <= MAX_LIST:
            raise FolioError(f"list_documents: limit must be between 1 and {MAX_LIST}, not {limit}.")
        name = self.collection(collection)
        records = self.folio.documents(name)
        wanted = (match or "").strip().lower()
        found = [r for r in records if wanted in r.name.lower()] if wanted else records
        return {"collection": name, "collections": service.collection_names(self.folio), "total": len(found),
                "documents": [{k: v for k, v in r.as_dict().items() if k not in ("path", "sha256")}
                              | {"uri": page_uri(name, r.doc_id, 1)} for r in found[:limit]]}

    def get_page(self, document: str, page: int, collection: str = "") -> dict:
        name = self.collection(collection)
        record = self._record(document, name)
        if not 1 <= page <= record.pages:
            raise FolioError(f"{record.name} has no page {page}; ask for a page from 1 to {record.pages}.")
        return {"collection": name, "document": record.name, "doc_id": record.doc_id, "page": page,
                "pages": record.pages, "text": self.page_text(name, record.doc_id, page),
                "cite_as": f"{record.name}, p. {page}", "uri": page_uri(name, record.doc_id, page)}

    def ingest(self, paths: Sequence[str], collection: str = "") -> dict:
        """Add files or folders, only from the folders listed (links out of them refused), one result per file."""
        from rag.index.store import check_collection_name
        from rag.library import discover

        if not paths:
            raise FolioError("ingest: give at least one path to a file or folder.")
        name = check_collection_name((collection or "").strip() or self.folio.settings.collection)
        allowed: list[Path] = []
        refused: list[dict] = []
        for text in paths:
            path = Path(text).expanduser()
            reason = None
            if not path.is_absolute():
                reason = "give its full path (the server's working folder is not yours)"
            elif not path.exists():
                reason = "no such file or folder"
            elif not inside(path.resolve(), self.ingest_from):
                reason = (f"it is outside the folders Folio may ingest from ({', '.join(map(str, self.ingest_from))}); "
                          "add its folder to FOLIO_ALLOW_INGEST_FROM")
            if reason:
                refused.append({"path": text, "name": path.name or text, "status": "failed", "reason": reason})
                continue
            named, skipped = discover([path], exclude=[self.folio.settings.home])
            refused += [{"path": str(p), "name": p.name, "status": "skipped", "reason": why} for p, why in skipped]
            for file, _ in named:
                if inside(file.resolve(), self.ingest_from):
                    allowed.append(file)
                else:
                    refused.append({"path": str(file), "name": file.name, "status": "failed",
                                    "reason": "it links to a file outside the folders Folio may ingest from"})
        results = [r.as_dict() for r in service.ingest_paths(self.folio, allowed, collection=name)] if allowed else []
        results += refused
        counts = {s: sum(r["status"] == s for r in results) for s in ("added", "replaced", "unchanged", "failed",
                                                                      "skipped")}
        return {"collection": name, "counts": counts, "results": results}

    # -- resources -------------------------------------------------------------------------------
    def page_text(self, collection: str, doc_id: str, page: int) -> str:
        """A page's indexed text, rebuilt from its chunks (what answers cite)."""
        from app.preview import stitched_page

        return stitched_page(service.page_chunks(self.folio, doc_id, page, collection=collection))

    def pages(self) -> list[dict]:
        """Every page of every document of every collection: uri, name and description, in a stable order."""
        out = []
        for name in service.collection_names(self.folio):
            for record in sorted(self.folio.documents(name), key=lambda r: r.name):
                out += [{"uri": page_uri(name, record.doc_id, page), "name": f"{record.name} p. {page}",
                         "description": f"Page {page} of {record.pages} of {record.name} (collection '{name}')"}
                        for page in range(1, record.pages + 1)]
        return out

    def _load_chat(self) -> None:
        """Load the chat model on the first ``ask`` (``folio mcp`` starts without it: searches need none)."""
        with self._chat_lock:
            if self.folio.chat.current is None:
                from app.chat_slot import ChatSlot, load_chat

                self.folio.chat = ChatSlot(*load_chat(self.folio.settings))


Collection = Annotated[str, Field(description="collection to use (empty: the default one)")]


def build_server(folio: Folio, *, allow_ingest: bool = False, ingest_from: Sequence[Path] = ()) -> "MCPServer":
    """The MCP server over ``folio``: four read-only tools, page resources, and ``ingest`` when allowed."""
    import mcp_types as types
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
    from pydantic import ValidationError

    check_ingest(allow_ingest, ingest_from)
    tools = FolioTools(folio, ingest_from=ingest_from if allow_ingest else ())

    class FolioServer(MCPServer):
        """The one place a FolioError (or a bad argument) becomes the tool error the assistant reads: one sentence."""

        async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as error:  # the SDK wraps what the tool raised, prefixed with "Error executing tool"
                if isinstance(error.__cause__, FolioError):
                    raise ToolError(str(error.__cause__)) from None
                if isinstance(error.__cause__, ValidationError):
                    raise ToolError(argument_error(name, error.__cause__)) from None
                raise

    from importlib.metadata import version

    server = FolioServer("folio", title="Folio", version=version("folio"), instructions=INSTRUCTIONS,
                         log_level="WARNING")
    read_only = types.ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=read_only)
    def search(query: Annotated[str, Field(description="what to look for, in any of the five languages")],
               k: Annotated[int, Field(description=f"how many passages (1 to {MAX_K})")] = 5,
               collection: Collection = "",
               documents: Annotated[list[str], Field(description="search only these documents (names or ids)")] = []
               ) -> dict[str, Any]:
        """The passages of the user's documents that best match the query: source file, page, text, score."""
        return tools.search(query, k, collection, documents)

    @server.tool(annotations=read_only)
    def ask(question: Annotated[str, Field(description="the question")],
            language: Annotated[str, Field(description="answer language: auto (the question's), en, fr, de, es or it")]
            = "auto",
            collection: Collection = "") -> dict[str, Any]:
        """Folio's own answer from the user's documents, with numbered sources (file, page) and a citation check."""
        return tools.ask(question, language, collection)

    @server.tool(annotations=read_only)
    def list_documents(collection: Collection = "",
                       match: Annotated[str, Field(description="only names containing this (any case)")] = "",
                       limit: Annotated[int, Field(description=f"at most this many (1 to {MAX_LIST})")] = 50
                       ) -> dict[str, Any]:
        """The documents of a collection: name, id, pages, chunks, language, when added."""
        return tools.list_documents(collection, match, limit)

    @server.tool(annotations=read_only)
    def get_page(document: Annotated[str, Field(description="the document's name or id")],
                 page: Annotated[int, Field(description="page number, from 1")],
                 collection: Collection = "") -> dict[str, Any]:
        """The indexed text of one page of a document."""
        return tools.get_page(document, page, collection)

    if allow_ingest:
        @server.tool(annotations=types.ToolAnnotations(read_only_hint=False, destructive_hint=False,
                                                       idempotent_hint=True, open_world_hint=False))
        def ingest(paths: Annotated[list[str], Field(description="full paths of files or folders, under the "
                                                                  "folders the user allowed")],
                   collection: Collection = "") -> dict[str, Any]:
            """Add files or folders to the library (only under the folders the user allowed); one result per file."""
            return tools.ingest(paths, collection)

    @server.resource(f"{SCHEME}://{{collection}}/{{doc_id}}/{{page}}", name="page", mime_type="text/plain",
                     description="One page of a document, as indexed")
    def page_resource(collection: str, doc_id: str, page: str) -> str:
        try:
            return tools.get_page(doc_id, int(page), collection)["text"]
        except (FolioError, ValueError) as error:
            raise ResourceNotFoundError(str(error)) from None

    async def list_pages(ctx, params: types.PaginatedRequestParams) -> types.ListResourcesResult:
        import anyio.to_thread

        pages = await anyio.to_thread.run_sync(tools.pages)
        start = int(params.cursor) if params.cursor and params.cursor.isdigit() else 0
        chunk = pages[start:start + RESOURCES_PAGE]
        more = start + RESOURCES_PAGE < len(pages)
        return types.ListResourcesResult(
            resources=[types.Resource(mime_type="text/plain", **p) for p in chunk],
            next_cursor=str(start + RESOURCES_PAGE) if more else None)

    # The SDK lists only resources registered one by one; the library changes, so pages are listed live, in pages.
    server._lowlevel_server.add_request_handler("resources/list", types.PaginatedRequestParams, list_pages)
    return server


def serve_stdio(folio: Folio, *, allow_ingest: bool = False) -> int:
    """Serve MCP over this process's stdin and stdout until the client closes them (``folio mcp``)."""
    server = build_server(folio, allow_ingest=allow_ingest, ingest_from=folio.settings.ingest_folders)
    server.run("stdio")
    return 0
