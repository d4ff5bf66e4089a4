"""What an operator of some units reads: /status and the audit trail cut to those units.

An operator of every unit reads them whole. For one of some units, /status lists only those
units, its totals are counted over them, and the tasks and leases naming another unit's
sources or sinks are left out; the audit trail keeps the rows whose target belongs to those
units (a row whose unit cannot be told is left out too).
"""

from __future__ import annotations

from typing import Any

from bridge.config import UnitConfig
from bridge.domain.figures import total
from bridge.services import RuntimeView
from bridge.store import Store

AUDIT_SCAN = 5000  # the latest audit rows searched for an operator of some units


def _endpoint_names(units: tuple[UnitConfig, ...]) -> set[str]:
    return {ep.name for u in units for ep in (*u.sources, *u.sinks)}


def _names_hidden(text: str, hidden: set[str]) -> bool:
    return any(text == name or text.endswith(f":{name}") for name in hidden)


async def scoped_snapshot(
    snap: dict[str, Any], units: frozenset[str], store: Store, view: RuntimeView
) -> dict[str, Any]:
    """`snap` (the whole /status answer) as an operator of `units` may read it."""
    cards = [u for u in snap["units"] if u["id"] in units]
    hidden = hidden_endpoints(view, units)
    totals = total(u["figures"] for u in cards)  # the figures add up, per unit and in all
    cluster = dict(snap.get("cluster", {}))
    if "leases" in cluster:
        cluster["leases"] = [
            row for row in cluster["leases"] if not _names_hidden(row["resource"], hidden)
        ]
    tasks = [t for t in snap.get("tasks", []) if not _names_hidden(str(t["name"]), hidden)]
    alerts = [a for a in snap.get("alerts", []) if _alert_within(a, units)]
    if "outbound" in snap:  # sending: the figures of these units' documents only
        mine = await store.outbound_figures(sorted(units))
        snap = {**snap, "outbound": {k: v for k, v in mine.items() if k != "taken"}}
    return {
        **snap,
        "units": cards,
        "totals": totals,
        "tasks": tasks,
        "cluster": cluster,
        "alerts": alerts,
    }


def _alert_within(alert: dict[str, Any], units: frozenset[str]) -> bool:
    """An alert an operator of `units` may read: one naming only their units (the growth of
    dead letters or quarantine is counted over every unit, so it is for all-unit tokens)."""
    named = alert.get("detail", {}).get("units")
    return bool(named) and all(str(u[0]) in units for u in named)


def hidden_endpoints(view: RuntimeView, units: frozenset[str] | None) -> set[str]:
    """The names of the sources and sinks of the units an operator of `units` does not see."""
    if units is None:
        return set()
    return _endpoint_names(tuple(u for u in view.units() if u.id not in units))


def scoped_document(body: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """A document (its summary or its whole view) addressed to several units, as an operator
    of some of them reads it: the roads, conflicts and status of the other units' sources and
    sinks left out."""
    if not hidden:
        return body
    out = {**body, "roads": [r for r in body["roads"] if r not in hidden]}
    if "document" in body:
        doc = dict(body["document"])
        doc["provenance"] = [p for p in doc.get("provenance", []) if p["source"] not in hidden]
        out["document"] = doc
    if "conflicts" in body:
        out["conflicts"] = [c for c in body["conflicts"] or [] if c.get("source") not in hidden]
    if "status" in body:
        out["status"] = {
            "home": [s for s in body["status"]["home"] if s["sink"] not in hidden],
            "sent": [s for s in body["status"]["sent"] if s["source"] not in hidden],
        }
    return out


def received_in(
    rows: list[dict[str, Any]], units: frozenset[str] | None, view: RuntimeView
) -> list[dict[str, Any]]:
    """The monthly report's rows (`documents_received`) of `units`, naming no other unit's
    unit ids or roads."""
    if units is None:
        return rows
    hidden = hidden_endpoints(view, units)
    return [
        {
            **row,
            "units": [u for u in row["units"] if u in units],
            "roads": [r for r in row["roads"] if r not in hidden],
        }
        for row in rows
        if units.intersection(row["units"])
    ]


async def replay_in(store: Store, units: frozenset[str], actor: str) -> int:
    """Replay every dead letter of `units`, one by one (each audited with its own id)."""
    count = 0
    for dead in await store.dead_letters():
        if dead.unit in units:
            count += await store.replay(dead.id, actor=actor)
    return count


async def _target_units(row: dict[str, Any], store: Store, owners: dict[str, str]) -> set[str]:
    """The units an audit row's action touched, as far as they can be told."""
    given = row.get("detail")
    detail: dict[str, Any] = given if isinstance(given, dict) else {}
    kind, _, ref = str(row["target"]).partition(":")
    if isinstance(detail.get("units"), list):
        return {str(u) for u in detail["units"]}
    if isinstance(detail.get("unit"), str):
        return {detail["unit"]}
    if kind == "document" and ref.isdigit():
        return await store.document_units(int(ref))
    if kind == "quarantine" and ref.isdigit():
        unit = await store.quarantine_unit(int(ref))
        return {unit} if unit else set()
    if kind.isdigit() and row["action"] == "replay":
        unit = await store.delivery_unit(int(kind))
        return {unit} if unit else set()
    name = ref or kind
    return {owners[name]} if name in owners else set()


async def scoped_audit(
    store: Store, view: RuntimeView, units: frozenset[str] | None, limit: int
) -> list[dict[str, Any]]:
    """The latest `limit` audit rows an operator of `units` (None: every unit) may read."""
    if units is None:
        return await store.audit_trail(limit)
    owners = {ep.name: u.id for u in view.units() for ep in (*u.sources, *u.sinks)}
    kept: list[dict[str, Any]] = []
    for row in await store.audit_trail(AUDIT_SCAN):
        if await _target_units(row, store, owners) & units:
            kept.append(row)
            if len(kept) == limit:
                break
    return kept
