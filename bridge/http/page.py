"""The status page for people: one self-contained HTML file, no external CDN."""

from __future__ import annotations

from importlib import resources

from aiohttp import web


async def index(request: web.Request) -> web.Response:
    html = resources.files("bridge.http").joinpath("static/index.html").read_text(encoding="utf-8")
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
