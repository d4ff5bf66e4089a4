"""The snapshot /status answers: units with their sources and sinks, and the totals the contract
lists; and readiness (what /readyz answers). Read from the store and a `RuntimeView`."""

from __future__ import annotations

import time
from typing import Any

from bridge.alerts.monitor import firing
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


async def snapshot(store: Store, view: RuntimeView) -> dict[str, Any]:
    """The whole /status answer. Each unit carries its own `figures`; the `totals` are their
    sums (bridge/domain/figures.py: a document addressed to two units counts in each)."""
    counts = await store.counts()
    per_source: dict[str, int] = counts["per_source"]
    per_sink: dict[str, dict[str, int]] = counts["per_sink"]
    figures = await store.unit_figures()
    backlog = await store.backlog()
    sink_errors = await store.last_sink_errors()
    outboxes = await view.outbox_rows()
    internal = _internal_receivers(view)
    units = []
    for unit in view.units():
        sources = [
            {
                **_health(view, s),
                "name": s.name,
                "title": s.display_name,
                "profile": s.profile,
                "received": per_source.get(s.name, 0),
                "backlog": backlog.get((unit.id, s.name), 0),
            }
            for s in unit.sources
        ]
        if unit.id in internal:  # the internal road of sending, into this unit's flow
            sources.append(
                {
                    "name": "internal",
                    "title": "internal",
                    "profile": "internal",
                    "state": HealthState.OK,
                    "last_success_at": None,
                    "last_error": None,
                    "received": per_source.get("internal", 0),
                    "backlog": 0,
                }
            )
        sinks = []
        for k in unit.sinks:
            health = _health(view, k)
            c = per_sink.get(k.name, {})
            sinks.append(
                {
                    **health,
                    "title": k.display_name,
                    **{state.value: c.get(state, 0) for state in DELIVERY_KEYS},
                    "last_error": health.get("last_error") or sink_errors.get(k.name),
                }
            )
        units.append(
            {
                "id": unit.id,
                "name": unit.name,
                "figures": figures.get(unit.id) or total([]),
                "sources": sources,
                "sinks": sinks,
                **({"outboxes": outboxes.get(unit.id, [])} if unit.outboxes else {}),
            }
        )
    outbound = await store.outbound_figures() if any(u.outboxes for u in view.units()) else None
    return {
        "version": view.version,
        "started_at": view.started_at.isoformat(),
        "ready": not not_ready(view),
        "tasks": view.tasks.snapshot(),
        "units": units,
        "totals": total(figures.values()),
        "disk": view.disk(),
        "cluster": await _cluster(store, view.instance),
        "alerts": firing(await store.alerts()),  # e-mail and webhook alerts firing now
        "directory": await directory_block(store),
        **({"outbound": {k: v for k, v in outbound.items() if k != "taken"}} if outbound else {}),
    }


async def directory_block(store: Store) -> dict[str, Any]:
    """The organ directory's `organs` (not deleted), `version` (the newest synced),
    `synced_at` and `last_error` (the last sync's failure, null once one succeeds)."""
    state = await store.directory_state()
    return {key: state[key] for key in ("organs", "version", "synced_at", "last_error")}


def _internal_receivers(view: RuntimeView) -> set[str]:
    """Units the internal road may reach: those with a home system, once a unit sends."""
    units = view.units()
    sending = [o for u in units for o in u.outboxes if "internal" in getattr(o, "roads", ())]
    return {u.id for u in units if u.sinks} if sending else set()


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
