"""An operator's controls over HTTP: pause, resume and poll now for a source, retry now for a
sink (`bridge.controls` does them, each audited under the operator's name)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bridge.http.context import json_response, services_of
from bridge.services import ControlResult, Services

Action = Callable[[str, str], Awaitable[ControlResult]]


def actor_of(request: web.Request) -> str:
    """Who acts: the operator's name the guard set, else the shared token."""
    return str(request.get("operator_name", "token"))


def _sources(services: Services) -> set[str]:
    return {s.name for unit in services.view.units() for s in unit.sources}


def _sinks(services: Services) -> set[str]:
    return {k.name for unit in services.view.units() for k in unit.sinks}


async def _source_control(request: web.Request, pick: Callable[[Services], Action]) -> web.Response:
    services = services_of(request)
    name = request.match_info["name"]
    if name not in _sources(services):
        return json_response({"error": "không có nguồn này / no such source"}, status=404)
    result = await pick(services)(name, actor_of(request))
    return json_response(result.as_dict())


async def pause(request: web.Request) -> web.Response:
    return await _source_control(request, lambda s: s.actions.pause_source)


async def resume(request: web.Request) -> web.Response:
    return await _source_control(request, lambda s: s.actions.resume_source)


async def poll(request: web.Request) -> web.Response:
    return await _source_control(request, lambda s: s.actions.poll_now)


async def retry(request: web.Request) -> web.Response:
    services = services_of(request)
    name = request.match_info["name"]
    if name not in _sinks(services):
        return json_response({"error": "không có nơi nhận này / no such sink"}, status=404)
    result = await services.actions.retry_sink(name, actor_of(request))
    return json_response(result.as_dict())


def add_routes(app: web.Application) -> None:
    app.router.add_post("/sources/{name}/pause", pause)
    app.router.add_post("/sources/{name}/resume", resume)
    app.router.add_post("/sources/{name}/poll", poll)
    app.router.add_post("/sinks/{name}/retry", retry)
