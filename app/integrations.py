"""What ``folio serve`` mounts beside the page when asked: the OpenAI-compatible routes, MCP over HTTP, a bearer check.

The routes go on Gradio's own FastAPI app, through ``launch``'s ``app_kwargs`` (:func:`app_kwargs`):
``routes`` put ``/v1/...`` and ``/mcp`` ahead of Gradio's, ``lifespan`` runs MCP's session manager
for as long as the server does, and the middleware stack keeps :class:`app.web.RequestGuard`
(cross-site writes, DNS rebinding) in front of everything. One server, one port, one guard: no
second app to mount Gradio in, and ``demo.launch`` keeps doing what it does for the page.

The bearer token (``FOLIO_API_TOKEN``) guards ``/v1`` and ``/mcp``: it is required whenever the server
is reachable beyond loopback (:func:`app.web.check_api_exposure` refuses to start without one), and
checked on loopback too once set. Gradio's login (``--auth``) guards the page, not these routes.

>>> apis_of(Settings(openai_api=True, mcp=True))
['OpenAI-compatible API', 'MCP server']
>>> bearer_ok("Bearer s3cret", "s3cret"), bearer_ok("Bearer nope", "s3cret"), bearer_ok("", "s3cret")
(True, False, False)
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from app.factory import Folio
from app.settings import Settings

GUARDED = ("/v1/", "/mcp")


def apis_of(settings: Settings) -> list[str]:
    """The APIs ``settings`` ask ``serve`` to offer, by name."""
    return [name for name, wanted in (("OpenAI-compatible API", settings.openai_api), ("MCP server", settings.mcp))
            if wanted]


def bearer_ok(header: str, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (compared in constant time)."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class BearerGuard:
    """ASGI middleware: requests to ``/v1/`` and ``/mcp`` need ``Authorization: Bearer <token>`` (401 otherwise)."""

    def __init__(self, app, *, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.token and scope["path"].startswith(GUARDED):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            if not bearer_ok(headers.get("authorization", ""), self.token):
                from starlette.responses import JSONResponse

                body = {"error": {"message": "This Folio API needs its token: send 'Authorization: Bearer "
                                             "<FOLIO_API_TOKEN>'.", "type": "invalid_request_error", "param": None,
                                  "code": "invalid_api_key"}}
                await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        await self.app(scope, receive, send)


def app_kwargs(folio: Folio, settings: Settings, *, allow_ingest: bool = False) -> dict:
    """``routes``, ``lifespan`` and the bearer middleware for Gradio's FastAPI app; empty when no API is asked for.

    ``allow_ingest`` adds MCP's ``ingest`` tool (``folio serve --mcp --allow-ingest``).
    """
    if not (settings.openai_api or settings.mcp):
        return {}
    from starlette.middleware import Middleware

    routes: list = []
    servers = []
    if settings.openai_api:
        from app.openai_api import routes as openai_routes

        routes += openai_routes(folio)
    if settings.mcp:
        from mcp.server.transport_security import TransportSecuritySettings

        from app.mcp_server import build_server

        server = build_server(folio, allow_ingest=allow_ingest, ingest_from=settings.ingest_folders)
        # Host and Origin are RequestGuard's to check, for the page and these routes alike.
        mcp_app = server.streamable_http_app(
            streamable_http_path="/mcp", stateless_http=True, host=settings.host,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        routes += list(mcp_app.routes)
        servers.append(server)

    @asynccontextmanager
    async def lifespan(app):
        async with AsyncExitStack() as stack:
            for server in servers:
                await stack.enter_async_context(server.session_manager.run())
            yield

    return {"routes": routes, "lifespan": lifespan, "middleware": [Middleware(BearerGuard, token=settings.api_token)]}
