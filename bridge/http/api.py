"""The operators' JSON API: health, status, documents, dead letters, quarantine."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from bridge.domain.enums import HealthState
from bridge.domain.search import EXACT, PARTIAL, STATES, search_patterns
from bridge.domain.timeline import timeline, without
from bridge.export import csv_rows, period
from bridge.http import scoped
from bridge.http.context import json_response, services_of
from bridge.http.figures import delivered_to
from bridge.http.operators import (
    actor_of,
    not_found,
    operator_of,
    require_all_units,
    sees,
    sees_any,
    visible_units,
)
from bridge.interfaces import Operation
from bridge.metrics import render
from bridge.snapshot import not_ready, snapshot
from bridge.status_pages import QueryError, StatusQuery, status_page


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": HealthState.OK})


async def readyz(request: web.Request) -> web.Response:
    """200 when started and every supervised task runs; 503 with the reasons otherwise (task
    names only: this answer needs no token, so no error text goes in it)."""
    reasons = not_ready(services_of(request).view)
    return json_response({"ready": not reasons, "reasons": reasons}, status=503 if reasons else 200)


async def metrics(request: web.Request) -> web.Response:
    require_all_units(request)
    services = services_of(request)
    body = await render(services.store, services.view)
    return web.Response(
        body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
    )


async def status_snapshot(request: web.Request) -> web.Response:
    """The whole snapshot, or with `unit`, `state`, `area`, `limit`, `cursor` the units asked
    for with a summary of all (bridge.status_pages)."""
    services = services_of(request)
    units = operator_of(request).units
    try:
        query = StatusQuery.parse(request.query)
    except QueryError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    if query is not None:
        snap = await status_page(services.store, services.view, query, units)
        if units is not None:  # tasks, leases and alerts cut to them; totals as counted
            totals = snap["totals"]
            snap = await scoped.scoped_snapshot(snap, units, services.store, services.view)
            snap["totals"] = totals
        return json_response(snap)
    snap = await snapshot(services.store, services.view)
    if units is not None:
        snap = await scoped.scoped_snapshot(snap, units, services.store, services.view)
    return json_response(snap)


def list_query(
    request: web.Request, states: Sequence[str]
) -> tuple[str | None, str | None, list[str], int, str]:
    """A list's query: (unit, state, the units the operator sees, limit, cursor). Raises a 400
    naming an unknown `unit` or `state`, never an empty list for them."""
    unit = request.query.get("unit") or None
    state = request.query.get("state") or None
    units = visible_units(request, [u.id for u in services_of(request).view.units()])
    if (refused := _filter_error(units, unit, state, states)) is not None:
        raise web.HTTPBadRequest(text=refused.text, content_type="application/json")
    return unit, state, units, int_param(request, "limit", 50), request.query.get("cursor", "")


def _filter_error(
    units: Sequence[str], unit: str | None, state: str | None, states: Sequence[str]
) -> web.Response | None:
    if unit is not None and unit not in units:
        return json_response(
            {
                "error": f"unit: đơn vị {unit!r} không có trong cấu hình / not a configured unit"
                f" (có / known: {', '.join(units)})"
            },
            status=400,
        )
    if state is not None and state not in states:
        return json_response(
            {
                "error": f"state: trạng thái {state!r} không có / unknown state"
                f" (có / known: {', '.join(states)})"
            },
            status=400,
        )
    return None


def int_param(request: web.Request, name: str, default: int, hi: int = 500) -> int:
    try:
        return max(1, min(hi, int(request.query.get(name, default))))
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name}: phải là số / must be an integer") from None


async def documents(request: web.Request) -> web.Response:
    """Exact hits first, then partial ones, each saying which; the latest documents without
    `q`. An unknown `unit` or `state` is a 400 naming it, never an empty list."""
    services = services_of(request)
    unit, state, units, limit, cursor = list_query(request, STATES)
    rank = PARTIAL if cursor.startswith("p") else EXACT
    before = int(cursor.lstrip("p")) if cursor.lstrip("p").isdigit() else None
    q = request.query.get("q") or None
    searching = q is not None and search_patterns(q) is not None
    rows = await services.store.search_documents(
        unit=unit,
        q=q,
        state=state,
        limit=limit,
        before=before,
        before_rank=rank,
        units=None if operator_of(request).units is None else units,
    )
    hidden = scoped.hidden_endpoints(services.view, operator_of(request).units)
    reached = {
        doc: [e for e in entries if sees(request, e["unit"])]
        for doc, entries in (await delivered_to(services, [r.id for r in rows])).items()
    }
    items = [
        {
            **scoped.scoped_document(
                document_summary(r.id, r.document, r.state, r.revision), hidden
            ),
            "match": None if not searching else "exact" if r.exact else "partial",
            "delivered_to": reached.get(r.id, []),
        }
        for r in rows
    ]
    next_cursor = None
    if len(rows) == limit:
        next_cursor = ("" if rows[-1].exact else "p") + str(rows[-1].id)
    return json_response({"items": items, "next_cursor": next_cursor})


def document_summary(doc_id: int, doc: Any, state: str, revision: int) -> dict[str, Any]:
    return {
        "id": doc_id,
        "symbol": doc.symbol,
        "number": doc.number,
        "notation": doc.notation,
        "issued_on": doc.issued_on.isoformat() if doc.issued_on else None,
        "issuer": doc.issuer.model_dump(),
        "subject": doc.subject,
        "type_name": doc.type_name,
        "state": state,
        "revision": revision,
        "roads": sorted({p.source for p in doc.provenance}),
    }


async def document(request: web.Request) -> web.Response:
    services = services_of(request)
    store = services.store
    try:
        doc_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    row = await store.document(doc_id)
    if row is None or not sees_any(request, await store.document_units(doc_id)):
        return json_response({"error": "không có văn bản này / no such document"}, status=404)
    records = [r for r in await store.records_of(doc_id) if sees(request, r.raw.unit)]
    deliveries = [d for d in await store.deliveries_of(doc_id) if sees(request, d.unit)]
    hidden = scoped.hidden_endpoints(services_of(request).view, operator_of(request).units)
    body = scoped.scoped_document(
        {
            **document_summary(row.id, row.document, row.state, row.revision),
            "document": row.document.model_dump(mode="json"),
            "records": [
                {
                    "id": r.id,
                    "source": r.raw.source,
                    "unit": r.raw.unit,
                    "external_id": r.raw.external_id,
                    "version": r.raw.version,
                    "received_at": r.raw.received_at.isoformat(),
                    "outcome": r.outcome,
                    "decision": r.decision,
                }
                for r in records
            ],
            "revisions": await store.revisions_of(doc_id),
            "conflicts": row.conflicts,
            "corrections": corrections_of(records, deliveries),
            "status": await store.statuses_of(doc_id),
            "deliveries": [delivery_view(d) for d in deliveries],
            "delivered_to": [
                e
                for e in (await delivered_to(services, [doc_id])).get(doc_id, [])
                if sees(request, e["unit"])
            ],
            "timeline": without(timeline(await store.timeline_rows(doc_id)), hidden),
        },
        hidden,
    )
    return json_response(body)


def corrections_of(records: list[Any], deliveries: list[Any]) -> dict[str, Any]:
    """Fields later roads wrote better than the document held, each with the road (record)
    that taught it, and the corrections sent to sinks for them (state and note)."""
    taught = [
        {"record_id": r.id, "source": r.raw.source, "fields": r.decision["corrected"]}
        for r in records
        if isinstance(r.decision, dict) and r.decision.get("corrected")
    ]
    sent = [delivery_view(d) for d in deliveries if d.op == Operation.CORRECT]
    return {"taught": taught, "deliveries": sent}


def delivery_view(d: Any) -> dict[str, Any]:
    return {
        "id": d.id,
        "document_id": d.document_id,
        "unit": d.unit,
        "sink": d.sink,
        "op": d.op,
        "revision": d.revision,
        "state": d.state,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "remote_id": d.remote_id,
        "key": d.key,
        "note": d.note,
    }


async def dead_letters(request: web.Request) -> web.Response:
    rows = await services_of(request).store.dead_letters()
    return json_response({"items": [delivery_view(d) for d in rows if sees(request, d.unit)]})


async def replay(request: web.Request) -> web.Response:
    services = services_of(request)
    raw_id = request.match_info["id"]
    target = None if raw_id == "all" else int(raw_id) if raw_id.isdigit() else -1
    units = operator_of(request).units
    if target is None and units is not None:  # replay all: of its units only, one by one
        count = await scoped.replay_in(services.store, units, actor_of(request))
        services.actions.deliveries_changed()
        return json_response({"replayed": count})
    if target is not None:
        unit = await services.store.delivery_unit(target)
        if unit is None or not sees(request, unit):
            raise not_found("không có thư chết này / no such dead letter")
    count = await services.store.replay(target, actor=actor_of(request))
    services.actions.deliveries_changed()
    if count == 0 and target is not None:
        return json_response({"error": "không có thư chết này / no such dead letter"}, status=404)
    return json_response({"replayed": count})


async def quarantine(request: web.Request) -> web.Response:
    rows = await services_of(request).store.quarantined()
    return json_response({"items": [q for q in rows if sees(request, q["unit"])]})


async def _quarantine_action(request: web.Request, *, release: bool) -> web.Response:
    services = services_of(request)
    qid = _pathint_param(request, "id")
    unit = await services.store.quarantine_unit(qid)
    if unit is not None and not sees(request, unit):
        unit = None  # another unit's record answers as one that does not exist
    if unit is None or not await services.store.release_quarantined(
        qid, actor_of(request), release=release
    ):
        return json_response(
            {"error": "không có bản ghi cách ly này / no such quarantined record"}, status=404
        )
    services.actions.records_changed()
    return json_response({"released" if release else "retried": qid})


async def quarantine_release(request: web.Request) -> web.Response:
    return await _quarantine_action(request, release=True)


async def quarantine_retry(request: web.Request) -> web.Response:
    return await _quarantine_action(request, release=False)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="JSON không hợp lệ / invalid JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="cần đối tượng JSON / a JSON object is required")
    return body


def _pathint_param(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise web.HTTPNotFound() from None


async def split(request: web.Request) -> web.Response:
    services = services_of(request)
    doc_id = _pathint_param(request, "id")
    record_id = (await _json_body(request)).get("record_id")
    if not isinstance(record_id, int):
        return json_response(
            {"error": "cần record_id (số) / record_id (integer) required"}, status=400
        )
    record = await services.store.record(record_id)
    if record is None or not sees(request, record.raw.unit):
        raise not_found("bản ghi không thuộc văn bản này / record not in that document")
    if not await services.store.split_record(doc_id, record_id, actor_of(request)):
        return json_response(
            {"error": "bản ghi không thuộc văn bản này / record not in that document"}, status=404
        )
    services.actions.records_changed()
    return json_response({"split": record_id, "from": doc_id})


async def merge(request: web.Request) -> web.Response:
    services = services_of(request)
    doc_id = _pathint_param(request, "id")
    other_id = (await _json_body(request)).get("other_id")
    if not isinstance(other_id, int):
        return json_response(
            {"error": "cần other_id (số) / other_id (integer) required"}, status=400
        )
    for each in (doc_id, other_id):
        if not sees_any(request, await services.store.document_units(each)):
            raise not_found("không gộp được hai văn bản này / cannot merge those documents")
    if not await services.store.merge_documents(doc_id, other_id, actor_of(request)):
        return json_response(
            {"error": "không gộp được hai văn bản này / cannot merge those documents"}, status=404
        )
    services.actions.records_changed()
    return json_response({"merged": other_id, "into": doc_id})


async def audit(request: web.Request) -> web.Response:
    services = services_of(request)
    limit = int_param(request, "limit", 200, 1000)
    rows = await scoped.scoped_audit(
        services.store, services.view, operator_of(request).units, limit
    )
    return json_response({"items": rows})


async def export_csv(request: web.Request) -> web.StreamResponse:
    """Documents received in [from, to] as CSV (UTF-8 with BOM, so spreadsheet programs read it)."""
    try:
        start, end = period(request.query.get("from"), request.query.get("to"))
    except ValueError as exc:
        return json_response({"error": str(exc)}, status=400)
    unit = request.query.get("unit") or None
    if unit is not None and not sees(request, unit):
        return json_response(
            {"error": f"unit: không có đơn vị {unit!r} / unknown unit"}, status=400
        )
    services = services_of(request)
    rows = scoped.received_in(
        await services.store.documents_received(start, end, unit),
        operator_of(request).units,
        services.view,
    )
    body = "\ufeff" + "".join(csv_rows(rows))
    return web.Response(
        body=body.encode("utf-8"),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="van-ban-den_{start}_{end}.csv"',
        },
    )


OPENAPI_PATH = Path(__file__).resolve().with_name("openapi.yaml")  # docs/openapi.yaml links here


async def openapi(request: web.Request) -> web.Response:
    try:
        text = await asyncio.to_thread(OPENAPI_PATH.read_text, encoding="utf-8")
    except FileNotFoundError:
        return json_response({"error": "openapi.yaml missing from the package"}, status=404)
    return web.Response(text=text, content_type="application/yaml")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/status", status_snapshot)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/documents", documents)
    app.router.add_get("/documents/{id}", document)
    app.router.add_get("/dead-letters", dead_letters)
    app.router.add_post("/dead-letters/{id}/replay", replay)
    app.router.add_get("/quarantine", quarantine)
    app.router.add_post("/quarantine/{id}/release", quarantine_release)
    app.router.add_post("/quarantine/{id}/retry", quarantine_retry)
    app.router.add_post("/documents/{id}/split", split)
    app.router.add_post("/documents/{id}/merge", merge)
    app.router.add_get("/audit", audit)
    app.router.add_get("/export.csv", export_csv)
    app.router.add_get("/openapi.yaml", openapi)
