"""How a handler reaches the services it was given: the `Services` kept on the application."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bridge import jsonutil
from bridge.services import Services

SERVICES = web.AppKey("services", Services)


def services_of(request: web.Request) -> Services:
    return request.app[SERVICES]


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=jsonutil.dumps(data), status=status, content_type="application/json")
