"""The status page for people: `static/index.html` with its CSS and scripts inlined, no CDN.

Inlining keeps the page one response, so the `?token=` that opens it is the only credential
the browser needs before the scripts take over (they send the bearer header themselves). The
Content-Security-Policy allows exactly the inlined code, by hash, and fetches to this origin.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from aiohttp import web

_ASSET = re.compile(
    r'<link rel="stylesheet" href="static/(?P<css>[\w.-]+\.css)">'
    r'|<script src="static/(?P<js>[\w.-]+\.js)"></script>'
)


def _static(name: str) -> str:
    return resources.files("bridge.http").joinpath(f"static/{name}").read_text(encoding="utf-8")


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@cache
def rendered() -> tuple[str, str]:
    """The page with every `static/` asset inlined, and the CSP header that admits them."""
    styles: list[str] = []
    scripts: list[str] = []

    def inline(match: re.Match[str]) -> str:
        if match["css"]:
            css = _static(match["css"])
            styles.append(_digest(css))
            return f"<style>{css}</style>"
        js = _static(match["js"])
        scripts.append(_digest(js))
        return f"<script>{js}</script>"

    html = _ASSET.sub(inline, _static("index.html"))
    csp = (
        "default-src 'none'; connect-src 'self'; img-src 'self' blob: data:; "
        f"style-src {' '.join(styles)}; script-src {' '.join(scripts)}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, csp


async def index(request: web.Request) -> web.Response:
    html, csp = rendered()
    return web.Response(
        text=html,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": csp,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
