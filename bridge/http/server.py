"""The HTTP server: the operators' API, webhook intake and the status page.

Every endpoint but /healthz, /readyz and /hooks/* needs the bearer token when one is configured; the
token is compared in constant time. The server refuses to listen beyond loopback without one.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bridge.http import api, hooks, page
from bridge.http.guard import check_listen

if TYPE_CHECKING:
    from bridge.daemon import Daemon

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DAEMON = web.AppKey("daemon", object)
_OPEN_PATHS = ("/healthz", "/readyz", "/hooks/")
_PAGE = "/"  # the page holds no data; every call it makes carries the token


def build_app(daemon: Daemon) -> web.Application:
    token = daemon.config.http.token.get_secret_value() if daemon.config.http.token else None

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token and request.path != _PAGE and not request.path.startswith(_OPEN_PATHS):
            given = request.headers.get("Authorization", "")
            ok = hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
            if not ok:
                return web.json_response(
                    {"error": "cần mã truy cập / bearer token required"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return await handler(request)

    app = web.Application(middlewares=[auth], client_max_size=64 * 1024 * 1024)
    app[DAEMON] = daemon
    api.add_routes(app)
    hooks.add_routes(app)
    page.add_routes(app)
    return app


class HttpServer:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> HttpServer:
        http = self.daemon.config.http
        check_listen(self.daemon.config)
        self._runner = web.AppRunner(build_app(self.daemon), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, http.host, http.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else http.port
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
