"""`GET /directory?q=&at=`: organs by code or name, as clerks type them (bridge/domain/search.py
folding), each with its current code, old codes, successor, mail, node, deletion and dated names;
with `at` (yyyy-MM-dd), what `q` meant on that day and why. And the last sync."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from bridge.domain.search import fold_search, query_key
from bridge.http.context import json_response, services_of
from bridge.normalize.directory import OrganDirectory, Resolution, today
from bridge.normalize.organ_history import OrganRecord, Span, other_form
from bridge.snapshot import directory_block

LIMIT = 200


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _spans(spans: list[Span], key: str) -> list[dict[str, Any]]:
    return [{key: s.value, "from": _day(s.since), "to": _day(s.until)} for s in spans]


def organ_view(directory: OrganDirectory, record: OrganRecord, at: dt.date) -> dict[str, Any]:
    """One organ as the directory page and API show it, as of `at`."""
    successor = directory.successor_of(record)
    return {
        "code": record.code,
        "other_form": other_form(record.code),
        "name": record.name_at(at) or None,
        "old_codes": record.old_codes(),
        "successor": successor[0] if successor else None,
        "successor_from": _day(successor[1]) if successor else None,
        "mail": record.mail,
        "has_node": record.has_node,
        "is_agency": record.is_agency,
        "deleted": record.deleted,
        "deleted_on": _day(record.deleted_on),
        "from_configuration": record.key.startswith("config:"),
        "names": _spans(record.names, "name"),
        "codes": _spans(record.codes, "code"),
    }


def resolution_view(found: Resolution) -> dict[str, Any]:
    return {
        "code": found.code,
        "name": found.name,
        "known": found.known,
        "deleted": found.deleted,
        "has_node": found.has_node,
        "mail": found.mail,
        "since": _day(found.since),
        "successors": list(found.successors),
        "reason": found.reason,
    }


def _matches(record: OrganRecord, key: str) -> bool:
    texts = [
        *(s.value for s in record.codes),
        *record.aliases,
        *(s.value for s in record.names),
        record.name,
    ]
    forms = [f for c in (s.value for s in record.codes) if (f := other_form(c))]
    return any(key in fold_search(t) for t in [*texts, *forms] if t)


async def directory(request: web.Request) -> web.Response:
    services = services_of(request)
    organs = services.view.directory()
    at_text = request.query.get("at", "").strip()
    try:
        at = dt.date.fromisoformat(at_text) if at_text else None
    except ValueError:
        return json_response(
            {"error": f"at: ngày phải là yyyy-MM-dd / the date must be yyyy-MM-dd: {at_text!r}"},
            status=400,
        )
    q = request.query.get("q", "").strip()
    sync = await directory_block(services.store)
    if organs is None:
        return json_response({"q": q, "at": at_text or None, "organs": [], "sync": sync})
    day = at or today()
    key = query_key(q) if q else ""
    records = sorted(organs.records(), key=lambda r: (r.deleted, r.code))
    hits = [r for r in records if not key or _matches(r, key)]
    answer: dict[str, Any] = {
        "q": q,
        "at": at_text or None,
        "total": len(hits),
        "organs": [organ_view(organs, r, day) for r in hits[:LIMIT]],
        "sync": sync,
    }
    if q:
        answer["resolved"] = resolution_view(organs.resolve_at(q, at))
    return json_response(answer)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/directory", directory)
