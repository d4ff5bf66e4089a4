"""Figures over time and where documents went: `GET /throughput` (records received, documents
delivered and the pending queue, bucketed over the last hours) and the `delivered_to` list the
document endpoints carry (every home system a document reached, by its display name)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from bridge.domain.throughput import Delivery, buckets
from bridge.http.context import json_response, services_of
from bridge.http.operators import operator_of
from bridge.services import Services

MAX_HOURS = 24 * 7


def _time(text: str) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def _query_int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name, str(default))
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise web.HTTPBadRequest(
            text=f"{name}: phải là số từ {lo} đến {hi} / must be an integer from {lo} to {hi}"
        )
    return int(raw)


async def throughput(request: web.Request) -> web.Response:
    """`?hours=24&step=60` (minutes per bucket, 10 to 60): the buckets, oldest first."""
    hours = _query_int(request, "hours", 24, 1, MAX_HOURS)
    step = dt.timedelta(minutes=_query_int(request, "step", 60, 10, 60))
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(hours=hours) - step
    units = operator_of(request).units  # None: every unit
    received, rows = await services_of(request).store.throughput_rows(since.isoformat(), units)
    deliveries = [
        Delivery(_time(created), _time(done) if done else None, ok) for created, done, ok in rows
    ]
    found = buckets(now, hours, step, [_time(r) for r in received], deliveries)
    return json_response(
        {
            "hours": hours,
            "step_minutes": int(step.total_seconds() // 60),
            "buckets": [b.as_dict() for b in found],
        }
    )


def system_names(services: Services) -> dict[str, str]:
    """Each configured endpoint's display name, by its configuration name."""
    return {
        ep.name: ep.display_name
        for unit in services.view.units()
        for ep in (*unit.sources, *unit.sinks)
    }


async def delivered_to(services: Services, doc_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every home system each document reached: sink, its display name, remote id, when."""
    names = system_names(services)
    found = await services.store.delivered_to(doc_ids)
    return {
        doc_id: [
            {
                "sink": d["sink"],
                "unit": d["unit"],
                "system_name": names.get(d["sink"], d["sink"]),
                "remote_id": d["remote_id"],
                "at": d["at"],
            }
            for d in items
        ]
        for doc_id, items in found.items()
    }


def add_routes(app: web.Application) -> None:
    app.router.add_get("/throughput", throughput)
