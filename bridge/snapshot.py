"""The snapshot /status answers: units with their sources and sinks, and the totals the contract
lists; and readiness (what /readyz answers). Read from the store and a `RuntimeView`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bridge.alerts.monitor import firing
from bridge.config import UnitConfig
from bridge.domain.enums import HealthState
from bridge.domain.figures import DELIVERY_KEYS, total
from bridge.services import RuntimeView
from bridge.settings import SinkSettings, SourceSettings
from bridge.store import Store


def not_ready(view: RuntimeView) -> list[str]:
    """Why the daemon is not ready (Vietnamese / English), empty when it is: not started yet
    or stopping, a supervised task failing (restarting), or one that could not be kept running."""
    reasons = []
    if not view.ready:
        reasons.append("chưa khởi động xong hoặc đang dừng / starting or stopping")
    supervisor = view.tasks
    if supervisor.gave_up is not None:
        reasons.append(
            f"tác vụ {supervisor.gave_up} lỗi liên tục, dịch vụ đang dừng / "
            f"task {supervisor.gave_up} keeps failing, the daemon is stopping"
        )
    for task in supervisor.failing():
        reasons.append(
            f"tác vụ {task.name} bị lỗi, đang khởi động lại / task {task.name} failed, restarting"
        )
    return reasons


def _health(view: RuntimeView, ep: SourceSettings | SinkSettings) -> dict[str, Any]:
    health = view.health_of(ep.name)
    if health is None:
        return {"name": ep.name, "profile": ep.profile, "state": HealthState.DISABLED}
    return health.as_dict()


@dataclass(frozen=True)
class Counters:
    """What the store says once per /status answer, for every unit card it builds."""

    per_source_unit: dict[tuple[str, str], int]
    per_sink: dict[str, dict[str, int]]
    figures: dict[str, dict[str, int]]
    backlog: dict[tuple[str, str], int]
    sink_errors: dict[str, str]
    per_source: dict[str, int]
    outboxes: dict[str, list[dict[str, object]]]  # sending: each unit's outboxes
    internal: set[str]  # units the internal road of sending reaches
    outbound: dict[str, Any] | None  # the `outbound` block, when a unit sends

    @classmethod
    async def read(cls, store: Store, view: RuntimeView) -> Counters:
        counts = await store.counts()
        sending = any(u.outboxes for u in view.units())
        return cls(
            counts["per_source_unit"],
            counts["per_sink"],
            await store.unit_figures(),
            await store.backlog(),
            await store.last_sink_errors(),
            counts["per_source"],
            await view.outbox_rows() if sending else {},
            _internal_receivers(view),
            await store.outbound_figures() if sending else None,
        )


def _source_card(
    view: RuntimeView, unit: UnitConfig, s: SourceSettings, c: Counters
) -> dict[str, Any]:
    """A source of `unit` as /status shows it. A source on a shared node (one poller for
    several units) shows the node's health and what the node received for this unit alone,
    so each unit's `received` adds up to its own records."""
    node, units = view.node_of(s.name)
    health = view.health_of(node)
    card: dict[str, Any] = (
        health.as_dict()
        if health is not None
        else {"name": s.name, "profile": s.profile, "state": HealthState.DISABLED}
    )
    card |= {
        "name": s.name,
        "title": s.display_name,
        "profile": s.profile,
        "received": c.per_source_unit.get((node, unit.id), 0),
        "backlog": c.backlog.get((unit.id, node), 0),
    }
    if len(units) > 1:
        card["node"] = {"name": node, "units": len(units)}
    return card


def unit_card(view: RuntimeView, unit: UnitConfig, c: Counters) -> dict[str, Any]:
    """One unit of the /status answer: its figures, sources and sinks."""
    sinks = []
    for k in unit.sinks:
        health = _health(view, k)
        per = c.per_sink.get(k.name, {})
        sinks.append(
            {
                **health,
                "title": k.display_name,
                **{state.value: per.get(state, 0) for state in DELIVERY_KEYS},
                "last_error": health.get("last_error") or c.sink_errors.get(k.name),
            }
        )
    sources = [_source_card(view, unit, s, c) for s in unit.sources]
    if unit.id in c.internal:  # the internal road of sending, into this unit's flow
        sources.append(
            {
                "name": "internal",
                "title": "internal",
                "profile": "internal",
                "state": HealthState.OK,
                "last_success_at": None,
                "last_error": None,
                "received": c.per_source.get("internal", 0),
                "backlog": 0,
            }
        )
    return {
        "id": unit.id,
        "name": unit.name,
        "figures": c.figures.get(unit.id) or total([]),
        "sources": sources,
        "sinks": sinks,
        **({"outboxes": c.outboxes.get(unit.id, [])} if unit.outboxes else {}),
    }


def _internal_receivers(view: RuntimeView) -> set[str]:
    """Units the internal road may reach: those with a home system, once a unit sends."""
    units = view.units()
    sending = [o for u in units for o in u.outboxes if "internal" in getattr(o, "roads", ())]
    return {u.id for u in units if u.sinks} if sending else set()


def shared_nodes(view: RuntimeView, c: Counters) -> list[dict[str, Any]]:
    """Each node polled once for several units: its health, the units it serves, and what it
    received for each of them."""
    seen: dict[str, dict[str, Any]] = {}
    for unit in view.units():
        for s in unit.sources:
            node, units = view.node_of(s.name)
            if len(units) < 2 or node in seen:
                continue
            health = view.health_of(node)
            seen[node] = {
                "name": node,
                "profile": s.profile,
                "state": health.state if health is not None else HealthState.DISABLED,
                "units": list(units),
                "received": {u: c.per_source_unit.get((node, u), 0) for u in units},
            }
    return list(seen.values())


async def snapshot(store: Store, view: RuntimeView) -> dict[str, Any]:
    """The whole /status answer. Each unit carries its own `figures`; the `totals` are their
    sums (bridge/domain/figures.py: a document addressed to two units counts in each)."""
    c = await Counters.read(store, view)
    return {
        **await frame(store, view, c),
        "units": [unit_card(view, unit, c) for unit in view.units()],
    }


async def frame(store: Store, view: RuntimeView, c: Counters) -> dict[str, Any]:
    """Everything of the /status answer but its units."""
    return {
        "version": view.version,
        "started_at": view.started_at.isoformat(),
        "ready": not not_ready(view),
        "tasks": view.tasks.snapshot(),
        "totals": total(c.figures.values()),
        "nodes": shared_nodes(view, c),
        "disk": view.disk(),
        "cluster": await _cluster(store, view.instance),
        "alerts": firing(await store.alerts()),  # e-mail and webhook alerts firing now
        "directory": await directory_block(store),
        **(
            {"outbound": {k: v for k, v in c.outbound.items() if k != "taken"}}
            if c.outbound
            else {}
        ),
    }


async def directory_block(store: Store) -> dict[str, Any]:
    """The organ directory's `organs` (not deleted), `version` (the newest synced),
    `synced_at` and `last_error` (the last sync's failure, null once one succeeds)."""
    state = await store.directory_state()
    return {key: state[key] for key in ("organs", "version", "synced_at", "last_error")}


async def _cluster(store: Store, instance: str) -> dict[str, Any]:
    """Which instances are alive, and which holds which source and the matching."""
    now = time.time()
    rows = await store.leases()
    instances = [
        {"name": row["owner"], "live": row["expires_at"] > now}
        for row in rows
        if row["resource"].startswith("instance:")
    ]
    work = [
        {"resource": row["resource"], "owner": row["owner"], "live": row["expires_at"] > now}
        for row in rows
        if row["resource"].startswith("source:") or row["resource"] == "processor"
    ]
    return {"instance": instance, "instances": instances, "leases": work}
