"""Who is calling: the bearer token resolved to a named operator, and what it may see and do.

Every path but the page, /healthz, /readyz and /hooks/* needs a token once one is configured
(`[[operators]]` or the single `[http] token`). The middleware puts the operator on the
request (`operator_name`, `operator_units`: None for every unit); handlers filter by it with
`sees`/`visible_units` and guard each action with `require_unit`. Without a token configured
the API is open (loopback only, see `bridge.http.guard`) and the caller is named by X-Actor.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Collection, Iterable

from aiohttp import web

from bridge.http.context import json_response, services_of
from bridge.operators import ADMIN, EVERYONE, Operator, Operators

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPEN_PATHS = ("/healthz", "/readyz", "/hooks/")  # health probes and webhooks send no token
PAGE = "/"  # the page holds no data; every call it makes carries the token
_READS = ("GET", "HEAD", "OPTIONS")
OPERATOR = web.RequestKey("operator", Operator)


def _refused(status: int, message: str) -> web.Response:
    response = json_response({"error": message}, status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _bearer(request: web.Request) -> str:
    given = request.headers.get("Authorization", "")
    return given[len("Bearer ") :] if given.startswith("Bearer ") else ""


def _caller(request: web.Request, known: Operators) -> Operator | None:
    """The operator the request's token names; without tokens configured, the X-Actor."""
    if not known.required:
        return Operator(request.headers.get("X-Actor", "") or request.remote or "http", None)
    token = _bearer(request)
    found = known.resolve(token) if token else None
    if found is EVERYONE:  # the shared token: the only name there is, is the one it gives
        return Operator(request.headers.get("X-Actor", "") or ADMIN, None)
    return found


@web.middleware
async def operators(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the token (401 without or with a wrong one); a viewer may only read (403)."""
    if request.path == PAGE or request.path.startswith(OPEN_PATHS):
        return await handler(request)
    services = services_of(request)
    caller = _caller(request, Operators(services.operators(), services.http.token))
    if caller is None:
        return _refused(401, "cần mã truy cập / bearer token required")
    if request.method not in _READS and not caller.may_act:
        return _refused(
            403, "mã này chỉ được xem, không được thao tác / this token may read but not act"
        )
    request[OPERATOR] = caller
    with warnings.catch_warnings():
        # plain string keys on purpose: the names other handlers read, e.g.
        # request.get("operator_name", "token"), whatever module they live in
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        request["operator_name"] = caller.name
        request["operator_units"] = caller.units
    return await handler(request)


def operator_of(request: web.Request) -> Operator:
    caller = request.get(OPERATOR)
    return caller if isinstance(caller, Operator) else EVERYONE


def actor_of(request: web.Request) -> str:
    """The name the audit log records for this request's actions."""
    return str(request.get("operator_name", "token"))


def sees(request: web.Request, unit: str) -> bool:
    return operator_of(request).sees(unit)


def sees_any(request: web.Request, units: Iterable[str]) -> bool:
    return any(sees(request, u) for u in units)


def visible_units(request: web.Request, units: Collection[str]) -> list[str]:
    """Those of `units` this request's operator may see, in their order."""
    return [u for u in units if sees(request, u)]


def not_found(message: str = "không có / not found") -> web.HTTPNotFound:
    """What another unit's row answers: as if it did not exist, so existence does not leak."""
    return web.HTTPNotFound(
        text=json_response({"error": message}).text, content_type="application/json"
    )


def require_unit(request: web.Request, unit: str | None) -> None:
    """Raise 403 unless this request's operator may act on `unit` (None: every unit at once,
    which only an operator of all units may)."""
    caller = operator_of(request)
    if not caller.may_act:
        raise _forbidden("mã này chỉ được xem / this token may read but not act")
    if caller.units is not None and (unit is None or unit not in caller.units):
        raise _forbidden(
            f"mã này không được thao tác trên đơn vị {unit or '*'} / "
            f"this token may not act on unit {unit or '*'}"
        )


def require_all_units(request: web.Request) -> None:
    """Raise 403 unless this request's operator sees every unit (e.g. for /metrics)."""
    if operator_of(request).units is not None:
        raise _forbidden("chỉ dành cho mã xem mọi đơn vị / for tokens of every unit only")


def _forbidden(message: str) -> web.HTTPForbidden:
    return web.HTTPForbidden(
        text=json_response({"error": message}).text, content_type="application/json"
    )


async def whoami(request: web.Request) -> web.Response:
    """Who the token signs in as: the page shows the name in its header."""
    caller = operator_of(request)
    units = sorted(caller.units) if caller.units is not None else None
    return json_response({"name": caller.name, "units": units, "role": caller.role})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/whoami", whoami)
