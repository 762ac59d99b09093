"""Serving the web app: refuse an unsafe bind before anything heavy is built, guard every request, launch.

- :func:`check_exposure` refuses a non-loopback bind without a login, and :func:`check_port_free` a busy
  port, *before* models load;
- :class:`RequestGuard` (ASGI middleware) refuses cross-site writes and, on a loopback bind, any host
  name but a loopback one (DNS rebinding);
- :func:`serve` builds Folio, indexes the sample documents on first start, launches the page of
  :mod:`app.ui` and closes everything at the end (Ctrl-C or SIGTERM).

>>> check_exposure(host="127.0.0.1", auth="")
>>> check_exposure(host="0.0.0.0", auth="")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
core.errors.FolioError: Refusing to serve on 0.0.0.0 without a login, because anyone on the network could read ...
>>> host_name("[::1]:7860"), host_name("localhost:7860"), host_name("evil.example")
('::1', 'localhost', 'evil.example')
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

import gradio as gr

from app import service
from app.factory import Folio
from app.settings import Settings
from app.ui_render import CSS
from core.errors import FolioError

LOCAL_NAMES = {"localhost", "ip6-localhost"}
# System fonts only: the default theme would fetch web fonts, and nothing should leave the machine.
THEME_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]


# -- request guard -------------------------------------------------------------------------------
def host_name(host: str) -> str:
    """The name in a Host or Origin value, without port or brackets."""
    return (urlsplit(host if "//" in host else f"//{host}").hostname or "").lower()


class RequestGuard:
    """ASGI middleware: refuse cross-site writes, and (on a loopback bind) other host names.

    A web page on another site can make the browser POST to 127.0.0.1 (a form upload needs no CORS
    preflight); such requests carry that site's ``Origin`` and are refused. A DNS-rebinding page
    reaches 127.0.0.1 under its own host name; on a loopback bind only loopback names are served.
    """

    WRITES = {"POST", "PUT", "PATCH", "DELETE"}

    def __init__(self, app, *, loopback_only: bool = True) -> None:
        self.app = app
        self.loopback_only = loopback_only

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            host = headers.get("host", "")
            reason = None
            if self.loopback_only and not is_loopback(host_name(host)):
                reason = "Folio answers only on this machine's loopback address."
            elif scope["method"] in self.WRITES and "origin" in headers and \
                    urlsplit(headers["origin"]).netloc.lower() != host.lower():
                reason = "Cross-site requests are refused."
            if reason:
                from starlette.responses import PlainTextResponse

                await PlainTextResponse(reason, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def launch_options(settings: Settings, *, folio: Folio | None = None, allow_ingest: bool = False) -> dict:
    """What every launch of the page passes to Gradio (``serve`` and the tests alike).

    With ``folio``, the APIs the settings ask for (``openai_api``, ``mcp``) are mounted beside the page,
    behind the same guard plus a bearer check (:mod:`app.integrations`).
    """
    from starlette.middleware import Middleware

    from app.integrations import app_kwargs

    extra = app_kwargs(folio, settings, allow_ingest=allow_ingest) if folio is not None else {}
    guard = [Middleware(RequestGuard, loopback_only=is_loopback(settings.host)), *extra.pop("middleware", [])]
    return {"max_file_size": f"{settings.max_upload_mb}mb", "share": False, "ssr_mode": False, "pwa": False,
            "mcp_server": False, "footer_links": ["api", "settings"], "css": CSS,
            "theme": gr.themes.Default(font=THEME_FONTS, font_mono=MONO_FONTS),
            "app_kwargs": {"middleware": guard, **extra}}


# -- serving -------------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host.strip().lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(auth: str) -> tuple[str, str] | None:
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise FolioError("The login must look like USER:PASSWORD; fix --auth or FOLIO_AUTH.")
    return user, password


def check_exposure(*, host: str, auth: str) -> str | None:
    """Refuse to serve other machines without a login; the warning to print when serving them with one."""
    login = parse_auth(auth)
    if is_loopback(host):
        return None
    if login is None:
        raise FolioError(f"Refusing to serve on {host} without a login, because anyone on the network could read your "
                         "documents; add --auth USER:PASSWORD (or set FOLIO_AUTH) or keep --host 127.0.0.1.")
    return (f"Warning: Folio will be reachable from other machines on {host} (login required, but plain HTTP: "
            "put it behind HTTPS before using it beyond a trusted network).")


def check_api_exposure(*, host: str, token: str, apis: list[str]) -> None:
    """Refuse to offer an API (OpenAI-compatible, MCP) beyond loopback without a bearer token.

    >>> check_api_exposure(host="127.0.0.1", token="", apis=["MCP server"])
    >>> check_api_exposure(host="0.0.0.0", token="", apis=["MCP server"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    core.errors.FolioError: Refusing to serve the MCP server on 0.0.0.0 without a token, because anyone on ...
    """
    if apis and not is_loopback(host) and not token:
        raise FolioError(f"Refusing to serve the {' and the '.join(apis)} on {host} without a token, because anyone "
                         "on the network could read your documents; set FOLIO_API_TOKEN (or api_token in "
                         "folio.toml) or keep --host 127.0.0.1.")


def check_port_free(host: str, port: int) -> None:
    """Fail fast, before models load, when the host is unknown or another server already holds the port."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise FolioError(f"Cannot find the address {host}; fix --host (or FOLIO_HOST), e.g. 127.0.0.1.") from None
    try:
        with socket.create_server((host, port), family=family):
            pass
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise FolioError(f"Cannot listen on {host}:{port} ({reason}); stop the other server using it "
                         "or choose another port with --port.") from None


def serve(settings: Settings, *, open_browser: bool = False, allow_ingest: bool = False) -> int:
    """Start the web app and block until it is stopped (Ctrl-C or SIGTERM); returns the exit status.

    ``open_browser`` opens the page in the user's browser once it answers (``--open``); ``allow_ingest``
    adds MCP's ``ingest`` tool when MCP is served (``--mcp --allow-ingest``).
    """
    from app.integrations import apis_of

    warning = check_exposure(host=settings.host, auth=settings.auth)  # before anything heavy is built
    check_api_exposure(host=settings.host, token=settings.api_token, apis=apis_of(settings))
    if allow_ingest:
        from app.mcp_server import check_ingest

        if not settings.mcp:
            raise FolioError("--allow-ingest adds the ingest tool of the MCP server; add --mcp (or set FOLIO_MCP=1).")
        check_ingest(allow_ingest, settings.ingest_folders)
    check_port_free(settings.host, settings.port)
    if warning:
        print(warning, file=sys.stderr)
    from app.factory import build
    from app.panels.models import ModelsReport
    from app.ui import build_ui

    folio = build(settings, writer=True)
    watcher = second = None
    try:
        models = ModelsReport(settings)  # hardware probe and offload plan, off the request path
        _index_samples(folio)
        watcher = None if settings.replica else watch_saved_folders(folio)
        if folio.second_embedder is not None and not settings.replica:
            from app.second_pass import SecondPass

            second = SecondPass(folio)  # the stronger embedder's vectors, in the background
        demo = build_ui(folio, models=models, watcher=watcher)
        _stop_on_sigterm()
        _announce_apis(settings)
        demo.launch(server_name=settings.host, server_port=settings.port, auth=parse_auth(settings.auth),
                    inbrowser=open_browser, **launch_options(settings, folio=folio, allow_ingest=allow_ingest))
    finally:
        for service_running in (watcher, second):
            if service_running is not None:
                service_running.stop()
        folio.close()
    return 0


def watch_saved_folders(folio: Folio):
    """A :class:`~app.folders.FolderWatcher` over the folders saved in folio.toml (one that is gone is said so)."""
    from app.folders import FolderWatcher

    watcher = FolderWatcher(folio)
    for folder in folio.settings.folders:
        try:
            watcher.watch(folder.path, folder.collection)
        except FolioError as error:
            print(f"Not watching: {error}", file=sys.stderr, flush=True)
    return watcher


def _index_samples(folio: Folio) -> None:
    started = time.perf_counter()
    results = [r for r in service.index_samples_once(folio) if r.status != "skipped"]  # the question set's .jsonl
    added = sum(r.status != "failed" for r in results)
    print(f"Indexed {added} sample files from {folio.settings.sample_docs} in {time.perf_counter() - started:.1f} s"
          + (f" ({len(results) - added} failed)" if len(results) > added else "") + ".", flush=True)


def _announce_apis(settings: Settings) -> None:
    base = f"http://{settings.host if ':' not in settings.host else f'[{settings.host}]'}:{settings.port}"
    if settings.openai_api:
        print(f"OpenAI-compatible API at {base}/v1 (models: folio, folio/<collection>).", flush=True)
    if settings.mcp:
        print(f"MCP server (streamable HTTP) at {base}/mcp.", flush=True)


def _stop_on_sigterm() -> None:
    """Let SIGTERM stop the server like Ctrl-C does, so Folio is closed cleanly."""
    if threading.current_thread() is threading.main_thread():
        def interrupt(signum, frame):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, interrupt)
