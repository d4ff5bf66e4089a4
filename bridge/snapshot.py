"""The snapshot /status answers: units with their sources and sinks, and the totals the contract
lists; and readiness (what /readyz answers). Read from the store and a `RuntimeView`."""

from __future__ import annotations

import time
from typing import Any

from bridge.alerts.monitor import firing
from bridge.domain.enums import DeliveryState, HealthState, RecordOutcome
from bridge.services import RuntimeView
from bridge.settings import SinkSettings, SourceSettings
from bridge.store import Store

_DELIVERY_COUNTS = (DeliveryState.DELIVERED, DeliveryState.PENDING, DeliveryState.DEAD)


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
    """The whole /status answer."""
    counts = await store.counts()
    outcomes: dict[str, int] = counts["outcomes"]
    per_source: dict[str, int] = counts["per_source"]
    per_sink: dict[str, dict[str, int]] = counts["per_sink"]
    sink_errors = await store.last_sink_errors()
    units = []
    for unit in view.units():
        sources = [
            {
                **_health(view, s),
                "name": s.name,
                "profile": s.profile,
                "received": per_source.get(s.name, 0),
            }
            for s in unit.sources
        ]
        sinks = []
        for k in unit.sinks:
            health = _health(view, k)
            c = per_sink.get(k.name, {})
            sinks.append(
                {
                    **health,
                    **{state.value: c.get(state, 0) for state in _DELIVERY_COUNTS},
                    "last_error": health.get("last_error") or sink_errors.get(k.name),
                }
            )
        units.append({"id": unit.id, "name": unit.name, "sources": sources, "sinks": sinks})
    return {
        "version": view.version,
        "started_at": view.started_at.isoformat(),
        "ready": not not_ready(view),
        "tasks": view.tasks.snapshot(),
        "units": units,
        "totals": _totals(counts["documents"], outcomes, per_source, per_sink),
        "disk": view.disk(),
        "cluster": await _cluster(store, view.instance),
        "alerts": firing(await store.alerts()),  # e-mail and webhook alerts firing now
    }


def _totals(
    documents: int,
    outcomes: dict[str, int],
    per_source: dict[str, int],
    per_sink: dict[str, dict[str, int]],
) -> dict[str, int]:
    return {
        "received": sum(per_source.values()),
        "documents": documents,
        "duplicates": outcomes.get(RecordOutcome.DUPLICATE, 0),
        "revisions": outcomes.get(RecordOutcome.REVISION, 0),
        "quarantined": outcomes.get(RecordOutcome.QUARANTINED, 0),
        "waiting": outcomes.get(RecordOutcome.WAITING, 0),
        "unprocessed": outcomes.get("unprocessed", 0),
        **{
            state.value: sum(c.get(state, 0) for c in per_sink.values())
            for state in _DELIVERY_COUNTS
        },
    }


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
