"""Sending (văn bản đi) over HTTP: the outgoing documents newest first, one document with its
versions and per recipient the resolved code, the road and why, the state, the last status
code and each attempt with its error; retry and cancel of a recipient (audited, scoped to the
operator's units: another unit's document answers 404, a unit it may not act on 403); the
paper dispatches still to do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from bridge.domain.outgoing import OutDoc, OutRecipient
from bridge.http.api import list_query
from bridge.http.context import json_response, services_of
from bridge.http.operators import (
    actor_of,
    not_found,
    operator_of,
    require_unit,
    sees,
)
from bridge.outbound.actions import RecipientActionError
from schemas.outgoing import DispatchState

STATES = tuple(s.value for s in DispatchState)
_NO_DOC = "không có văn bản đi này / no such outgoing document"


def _summary(doc: OutDoc, recipients: list[OutRecipient]) -> dict[str, Any]:
    d = doc.data.get("document", {})
    return {
        "id": doc.id,
        "unit": doc.unit,
        "outbox": doc.outbox,
        "document_id": doc.home_id,
        "document_key": doc.document_key,
        "number": d.get("number"),
        "notation": d.get("notation"),
        "issued_on": d.get("issued_on"),
        "subject": d.get("subject"),
        "version": doc.version,
        "state": doc.state,
        "refused": doc.refused,
        "created_at": doc.created_at,
        "recipients": [_recipient(r) for r in recipients],
    }


def _recipient(r: OutRecipient) -> dict[str, Any]:
    since = None
    if r.sent_at:
        since = (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(r.sent_at)).total_seconds()
    return {
        "code": r.code,
        "listed": list(r.listed),
        "name": r.name,
        "road": r.road,
        "to": r.to,
        "why": r.why,
        "state": r.state,
        "status_code": r.status_code,
        "version": r.version,
        "failed_roads": list(r.failed_roads),
        "attempts": r.attempts,
        "last_error": r.last_error,
        "sent_at": r.sent_at,
        "seconds_since_sent": None if since is None else round(since),
        "updated_at": r.updated_at,
    }


async def outgoing(request: web.Request) -> web.Response:
    services = services_of(request)
    unit, state, units, limit, cursor = list_query(request, STATES)
    before = int(cursor) if cursor.isdigit() else None
    scope = [unit] if unit is not None else (None if operator_of(request).units is None else units)
    docs = await services.store.outgoing_page(scope, state, limit, before)
    items = [_summary(d, await services.store.recipients_of(d.id)) for d in docs]
    next_cursor = str(docs[-1].id) if len(docs) == limit else None
    return json_response({"items": items, "next_cursor": next_cursor})


async def _visible_doc(request: web.Request) -> OutDoc:
    raw = request.match_info["id"]
    doc = await services_of(request).store.outgoing_doc_by_id(int(raw)) if raw.isdigit() else None
    if doc is None or not sees(request, doc.unit):
        raise not_found(_NO_DOC)
    return doc


async def outgoing_one(request: web.Request) -> web.Response:
    store = services_of(request).store
    doc = await _visible_doc(request)
    recipients = await store.recipients_of(doc.id)
    body = _summary(doc, recipients)
    for row, r in zip(body["recipients"], recipients, strict=True):
        row["attempts_log"] = await store.attempts_of(r.id)
    body["versions"] = [
        {
            "version": m.version,
            "road": m.road,
            "kind": m.kind,
            "ident": m.ident,
            "remote_id": m.remote_id,
            "state": m.state,
            "recipients": len(m.recipients),
        }
        for m in await store.messages_of(doc.id)
    ]
    body["item"] = doc.data
    return json_response(body)


async def _act(request: web.Request, cancel: bool) -> web.Response:
    services = services_of(request)
    doc = await _visible_doc(request)
    require_unit(request, doc.unit)
    code = request.match_info["code"]
    act = services.actions.cancel_recipient if cancel else services.actions.retry_recipient
    try:
        done = await act(doc.id, code, actor_of(request))
    except RecipientActionError as exc:
        return json_response({"error": exc.reason}, status=exc.status)
    return json_response(done)


async def retry(request: web.Request) -> web.Response:
    return await _act(request, cancel=False)


async def cancel(request: web.Request) -> web.Response:
    return await _act(request, cancel=True)


async def paper(request: web.Request) -> web.Response:
    """The paper dispatches still to do ("Gửi bản giấy"), of the operator's units."""
    units = operator_of(request).units
    tasks = await services_of(request).store.paper_tasks(None if units is None else list(units))
    return json_response({"items": tasks})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/outgoing", outgoing)
    app.router.add_get("/outgoing/paper", paper)
    app.router.add_get("/outgoing/{id}", outgoing_one)
    app.router.add_post("/outgoing/{id}/recipients/{code}/retry", retry)
    app.router.add_post("/outgoing/{id}/recipients/{code}/cancel", cancel)
