"""An operator's controls over HTTP: pause, resume and poll now for a source, retry now for a
sink (`bridge.controls` does them, each audited under the operator's name).

An endpoint of no unit the operator sees answers 404, as if it did not exist; one the operator
sees but may not act on for every unit it serves answers 403 (`bridge.http.operators`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bridge.domain.enums import EndpointRole
from bridge.http.context import json_response, services_of
from bridge.http.operators import actor_of, not_found, require_unit, sees_any
from bridge.services import ControlResult, Services

Action = Callable[[str, str], Awaitable[ControlResult]]
_MISSING = {
    EndpointRole.SOURCE: "không có nguồn này / no such source",
    EndpointRole.SINK: "không có nơi nhận này / no such sink",
}


def _units_of(services: Services, name: str, role: EndpointRole) -> list[str]:
    """The units whose configuration names `name` as a source (or a sink)."""
    units = services.view.units()
    if role is EndpointRole.SOURCE:
        return [u.id for u in units if any(s.name == name for s in u.sources)]
    return [u.id for u in units if any(k.name == name for k in u.sinks)]


async def _control(
    request: web.Request, role: EndpointRole, pick: Callable[[Services], Action]
) -> web.Response:
    services = services_of(request)
    name = request.match_info["name"]
    units = _units_of(services, name, role)
    if not units or not sees_any(request, units):
        raise not_found(_MISSING[role])
    for unit in units:
        require_unit(request, unit)
    result = await pick(services)(name, actor_of(request))
    return json_response(result.as_dict())


async def pause(request: web.Request) -> web.Response:
    return await _control(request, EndpointRole.SOURCE, lambda s: s.actions.pause_source)


async def resume(request: web.Request) -> web.Response:
    return await _control(request, EndpointRole.SOURCE, lambda s: s.actions.resume_source)


async def poll(request: web.Request) -> web.Response:
    return await _control(request, EndpointRole.SOURCE, lambda s: s.actions.poll_now)


async def retry(request: web.Request) -> web.Response:
    return await _control(request, EndpointRole.SINK, lambda s: s.actions.retry_sink)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/sources/{name}/pause", pause)
    app.router.add_post("/sources/{name}/resume", resume)
    app.router.add_post("/sources/{name}/poll", poll)
    app.router.add_post("/sinks/{name}/retry", retry)
