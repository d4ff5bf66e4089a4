"""The HTTP server: the operators' API, webhook intake and the status page.

Every endpoint but /healthz, /readyz and /hooks/* needs the bearer token when one is configured; the
token is compared in constant time. The server refuses to listen beyond loopback without one.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from bridge.http import api, controls, hooks, page
from bridge.http.context import SERVICES
from bridge.http.guard import check_http
from bridge.services import Services

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_OPEN_PATHS = ("/healthz", "/readyz", "/hooks/")  # health probes send no token
_PAGE = "/"  # the page holds no data; every call it makes carries the token


def build_app(services: Services) -> web.Application:
    """The aiohttp application over `services`: the API, the webhooks and the page."""
    token = services.http.token.get_secret_value() if services.http.token else None

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
    app[SERVICES] = services
    api.add_routes(app)
    controls.add_routes(app)
    hooks.add_routes(app)
    page.add_routes(app)
    return app


class HttpServer:
    """Serves `services` on the configured address while entered; `port` is the one bound."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._runner: web.AppRunner | None = None
        self.port = 0

    def check(self) -> None:
        """Refuse (ConfigError) before the daemon starts anything: see `bridge.http.guard`."""
        check_http(self.services.http)

    async def __aenter__(self) -> HttpServer:
        http = self.services.http
        self.check()
        self._runner = web.AppRunner(
            build_app(self.services), access_log=None, handle_signals=False
        )
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
