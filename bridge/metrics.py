"""Prometheus metrics, named after Prometheus' conventions: counters (`_total`) count events
only, gauges give levels, a timestamp is in seconds since the epoch.

The counts come from the store at scrape time rather than from in-process counters: they
survive the daemon's restarts and agree with /status. A counter read this way only grows (every
record, document and finished delivery stays in the store) except when retention purges old
rows or an operator replays a dead letter; `rate()` treats such a drop as a counter reset.
Latency is a live histogram, observed when a delivery completes. The renames of earlier names
are listed in docs/operations.md ("Metrics").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bridge.domain.enums import DeliveryState, HealthState
from bridge.health import STATES
from bridge.latency import LIVE
from bridge.services import RuntimeView
from bridge.snapshot import snapshot
from bridge.store import Store

_RESULTS = (DeliveryState.DELIVERED, DeliveryState.DEAD)  # finished; pending is a level


def _counter(name: str, doc: str, labels: list[str]) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=labels)


def _units(snap: dict[str, Any]) -> list[Metric]:
    """The per-unit families: records, documents, duplicates, deliveries, pending."""
    received = _counter("lienthong_records_received", "Source records taken in", ["unit", "source"])
    documents = _counter(
        "lienthong_documents", "Documents in the unit's register (one per unit)", ["unit"]
    )
    duplicates = _counter(
        "lienthong_duplicates", "Records bringing a document the unit had already", ["unit"]
    )
    delivered = _counter(
        "lienthong_deliveries", "Finished deliveries by result", ["unit", "sink", "result"]
    )
    pending = GaugeMetricFamily(
        "lienthong_deliveries_pending", "Deliveries waiting to be sent", labels=["unit", "sink"]
    )
    for unit in snap["units"]:
        uid = unit["id"]
        documents.add_metric([uid], unit["figures"]["documents"])
        duplicates.add_metric([uid], unit["figures"]["duplicates"])
        for s in unit["sources"]:
            received.add_metric([uid, s["name"]], s["received"])
        for k in unit["sinks"]:
            for result in _RESULTS:
                delivered.add_metric([uid, k["name"], result], k[result])
            pending.add_metric([uid, k["name"]], k[DeliveryState.PENDING])
    return [received, documents, duplicates, delivered, pending]


def _endpoints(snap: dict[str, Any]) -> list[Metric]:
    """Each endpoint's state and the time of its last success."""
    state = GaugeMetricFamily(
        "lienthong_endpoint_state",
        "1 for the endpoint's current state",
        labels=["name", "role", "state"],
    )
    last_ok = GaugeMetricFamily(
        "lienthong_last_success_timestamp_seconds",
        "When the endpoint last succeeded (seconds since the epoch)",
        labels=["endpoint"],
    )
    for unit in snap["units"]:
        for role, endpoints in (("source", unit["sources"]), ("sink", unit["sinks"])):
            for e in endpoints:
                for st in STATES:
                    state.add_metric([e["name"], role, st], 1.0 if e["state"] == st else 0.0)
                if e.get("last_success_at"):
                    at = dt.datetime.fromisoformat(e["last_success_at"]).timestamp()
                    last_ok.add_metric([e["name"]], at)
    return [state, last_ok]


def _levels(snap: dict[str, Any]) -> list[Metric]:
    """Levels of the whole daemon: quarantine, dead letters, tasks, readiness."""
    totals = snap["totals"]
    quarantined = GaugeMetricFamily("lienthong_quarantined", "Records held in quarantine")
    quarantined.add_metric([], float(totals["quarantined"]))
    dead = GaugeMetricFamily("lienthong_dead_letters", "Deliveries given up, waiting for a replay")
    dead.add_metric([], float(totals[DeliveryState.DEAD]))
    old = GaugeMetricFamily(
        "lienthong_totals", "Deprecated (one release): the /status totals", labels=["kind"]
    )
    for key, value in totals.items():
        old.add_metric([key], float(value))
    tasks = GaugeMetricFamily(
        "lienthong_task_failing",
        "1 while a supervised background task is failing (restarting)",
        labels=["task"],
    )
    restarts = _counter(
        "lienthong_task_restarts", "Restarts of a supervised background task", ["task"]
    )
    for task in snap["tasks"]:
        tasks.add_metric([task["name"]], 1.0 if task["state"] == HealthState.FAILING else 0.0)
        restarts.add_metric([task["name"]], task["restarts"])
    ready = GaugeMetricFamily("lienthong_ready", "1 when /readyz answers 200")
    ready.add_metric([], 1.0 if snap["ready"] else 0.0)
    return [quarantined, dead, old, tasks, restarts, ready]


def _directory(snap: dict[str, Any]) -> list[Metric]:
    """The organ directory: its size, the version synced, whether the last sync failed."""
    block = snap["directory"]
    organs = GaugeMetricFamily("lienthong_directory_organs", "Organ directory entries not deleted")
    organs.add_metric([], float(block["organs"]))
    version = GaugeMetricFamily("lienthong_directory_version", "Newest directory version synced")
    version.add_metric([], float(block["version"] or 0))
    failing = GaugeMetricFamily(
        "lienthong_directory_sync_failing",
        "1 while the last directory sync failed (the last good directory stays in force)",
    )
    failing.add_metric([], 1.0 if block["last_error"] else 0.0)
    return [organs, version, failing]


async def render(store: Store, view: RuntimeView) -> bytes:
    """The Prometheus text exposition of the /status snapshot and the live histograms."""
    snap = await snapshot(store, view)
    families = _units(snap) + _endpoints(snap) + _levels(snap) + _directory(snap)
    reg = CollectorRegistry(auto_describe=False)

    class _Snapshot:
        def collect(self) -> list[Metric]:
            return families

    reg.register(_Snapshot())
    return generate_latest(reg) + generate_latest(LIVE)
