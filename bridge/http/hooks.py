"""Webhook intake at /hooks/{name}: a push source's documents or a sink's status events.

The adapter verifies the signature and timestamp (AuthError → 401); the event is stored before
the 2xx answer, so the sender's retries are what carry it across a crash. Repeated event ids
are answered 200 and ignored.
"""

from __future__ import annotations

from aiohttp import web

from bridge.errors import AuthError, PermanentError, TransientError
from bridge.http.context import json_response, services_of

MAX_HOOK_BYTES = 32 * 1024 * 1024
PAUSED_RETRY_AFTER_S = 60


async def hook(request: web.Request) -> web.Response:
    """Hand the body to the endpoint's push intake (its capability); 404 when it has none."""
    services = services_of(request)
    name = request.match_info["name"]
    intake = services.intake_of(name)
    if intake is None:
        return json_response({"error": "không có điểm nhận này / no such hook"}, status=404)
    if await services.store.is_paused(name):  # the sender keeps the document and tries again
        return web.json_response(
            {"error": "nguồn đang tạm dừng / source paused"},
            status=503,
            headers={"Retry-After": str(PAUSED_RETRY_AFTER_S)},
        )
    body = await request.content.read(MAX_HOOK_BYTES + 1)
    if len(body) > MAX_HOOK_BYTES:
        return json_response({"error": "nội dung quá lớn / body too large"}, status=413)
    headers = {k: v for k, v in request.headers.items()}
    try:
        count = await intake(headers, body)
    except AuthError as exc:
        return json_response({"error": exc.reason}, status=401)
    except PermanentError as exc:
        return json_response({"error": exc.reason}, status=400)
    except TransientError as exc:
        return json_response({"error": exc.reason}, status=503)
    event_id = request.headers.get("X-TD-Event-Id") or request.headers.get("X-Event-Id")
    if event_id:
        await services.store.remember_event(name, event_id)
    return json_response({"status": "stored", "items": count})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/hooks/{name}", hook)
