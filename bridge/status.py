"""The /status snapshot: units with their sources and sinks, and the totals the contract lists;
and readiness (what /readyz answers)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bridge.health import DISABLED

if TYPE_CHECKING:
    from bridge.daemon import Daemon


def not_ready(daemon: Daemon) -> list[str]:
    """Why the daemon is not ready (Vietnamese / English), empty when it is: not started yet
    or stopping, a supervised task failing (restarting), or one that could not be kept running."""
    reasons = []
    if not daemon.ready:
        reasons.append("chưa khởi động xong hoặc đang dừng / starting or stopping")
    supervisor = daemon.supervisor
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


async def snapshot(daemon: Daemon) -> dict[str, Any]:
    counts = await daemon.store.counts()
    outcomes: dict[str, int] = counts["outcomes"]
    per_source: dict[str, int] = counts["per_source"]
    per_sink: dict[str, dict[str, int]] = counts["per_sink"]
    sink_errors = await daemon.store.last_sink_errors()
    units = []
    for unit in daemon.units():
        sources = []
        for s in unit.sources:
            ep = daemon.endpoints.get(s.name)
            health = (
                ep.health.as_dict()
                if ep
                else {"name": s.name, "profile": s.profile, "state": DISABLED}
            )
            sources.append(
                {
                    **health,
                    "name": s.name,
                    "profile": s.profile,
                    "received": per_source.get(s.name, 0),
                }
            )
        sinks = []
        for k in unit.sinks:
            ep = daemon.endpoints.get(k.name)
            health = (
                ep.health.as_dict()
                if ep
                else {"name": k.name, "profile": k.profile, "state": DISABLED}
            )
            c = per_sink.get(k.name, {})
            sinks.append(
                {
                    **health,
                    "delivered": c.get("delivered", 0),
                    "pending": c.get("pending", 0),
                    "dead": c.get("dead", 0),
                    "last_error": health.get("last_error") or sink_errors.get(k.name),
                }
            )
        units.append({"id": unit.id, "name": unit.name, "sources": sources, "sinks": sinks})
    received = sum(per_source.values())
    totals = {
        "received": received,
        "documents": counts["documents"],
        "duplicates": outcomes.get("duplicate", 0),
        "revisions": outcomes.get("revision", 0),
        "quarantined": outcomes.get("quarantined", 0),
        "waiting": outcomes.get("waiting", 0),
        "unprocessed": outcomes.get("unprocessed", 0),
        "delivered": sum(c.get("delivered", 0) for c in per_sink.values()),
        "pending": sum(c.get("pending", 0) for c in per_sink.values()),
        "dead": sum(c.get("dead", 0) for c in per_sink.values()),
    }
    return {
        "version": daemon.version,
        "started_at": daemon.started_at.isoformat(),
        "ready": not not_ready(daemon),
        "tasks": daemon.supervisor.snapshot(),
        "units": units,
        "totals": totals,
        "disk": daemon.retention.disk.as_dict(),
        "cluster": await _cluster(daemon),
    }


async def _cluster(daemon: Daemon) -> dict[str, Any]:
    """Which instances are alive, and which holds which source and the matching."""
    now = time.time()
    rows = await daemon.store.leases()
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
    return {"instance": daemon.instance, "instances": instances, "leases": work}
