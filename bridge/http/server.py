"""The HTTP server: the operators' API, webhook intake and the status page.

Every endpoint but /healthz, /readyz and /hooks/* needs a bearer token when one is configured,
and sees only the units of its operator (`bridge.http.operators`). The server refuses to listen
beyond loopback without a token.
"""

from __future__ import annotations

from aiohttp import web

from bridge.http import api, controls, directory, figures, hooks, operators, page
from bridge.http.context import SERVICES
from bridge.http.guard import check_http
from bridge.services import Services


def build_app(services: Services) -> web.Application:
    """The aiohttp application over `services`: the API, the webhooks and the page."""
    app = web.Application(middlewares=[operators.operators], client_max_size=64 * 1024 * 1024)
    app[SERVICES] = services
    api.add_routes(app)
    figures.add_routes(app)
    controls.add_routes(app)
    directory.add_routes(app)
    hooks.add_routes(app)
    page.add_routes(app)
    operators.add_routes(app)
    return app


class HttpServer:
    """Serves `services` on the configured address while entered; `port` is the one bound."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._runner: web.AppRunner | None = None
        self.port = 0

    def check(self) -> None:
        """Refuse (ConfigError) before the daemon starts anything: see `bridge.http.guard`."""
        check_http(self.services.http, named=bool(self.services.operators()))

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
