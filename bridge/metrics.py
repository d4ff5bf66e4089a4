"""Prometheus metrics: counters derived from the store at scrape time, plus live histograms.

Counts come from the store rather than in-process counters so they survive restarts and agree
with /status. Latency is observed when a delivery completes.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from bridge.domain.enums import DeliveryState, HealthState
from bridge.health import STATES
from bridge.latency import LIVE
from bridge.services import RuntimeView
from bridge.snapshot import snapshot
from bridge.store import Store


async def render(store: Store, view: RuntimeView) -> bytes:
    """The Prometheus text exposition of the /status snapshot and the live histograms."""
    snap = await snapshot(store, view)
    reg = CollectorRegistry(auto_describe=False)
    received = CounterMetricFamily(
        "lienthong_records_received", "Source records taken in", labels=["unit", "source"]
    )
    delivered = CounterMetricFamily(
        "lienthong_deliveries", "Deliveries by outcome", labels=["unit", "sink", "state"]
    )
    state = GaugeMetricFamily(
        "lienthong_endpoint_state",
        "1 for the endpoint's current state",
        labels=["name", "role", "state"],
    )
    for unit in snap["units"]:
        for s in unit["sources"]:
            received.add_metric([unit["id"], s["name"]], s["received"])
            for st in STATES:
                state.add_metric([s["name"], "source", st], 1.0 if s["state"] == st else 0.0)
        for k in unit["sinks"]:
            for ds in (DeliveryState.DELIVERED, DeliveryState.PENDING, DeliveryState.DEAD):
                delivered.add_metric([unit["id"], k["name"], ds], k[ds])
            for st in STATES:
                state.add_metric([k["name"], "sink", st], 1.0 if k["state"] == st else 0.0)
    totals = GaugeMetricFamily(
        "lienthong_totals", "Totals as /status reports them", labels=["kind"]
    )
    for key, value in snap["totals"].items():
        totals.add_metric([key], float(value))
    tasks = GaugeMetricFamily(
        "lienthong_task_failing",
        "1 while a supervised background task is failing (restarting)",
        labels=["task"],
    )
    restarts = CounterMetricFamily(
        "lienthong_task_restarts", "Restarts of a supervised background task", labels=["task"]
    )
    for task in snap["tasks"]:
        tasks.add_metric([task["name"]], 1.0 if task["state"] == HealthState.FAILING else 0.0)
        restarts.add_metric([task["name"]], task["restarts"])
    ready = GaugeMetricFamily("lienthong_ready", "1 when /readyz answers 200")
    ready.add_metric([], 1.0 if snap["ready"] else 0.0)
    families = [received, delivered, state, totals, tasks, restarts, ready]

    class _Snapshot:
        def collect(self) -> list[object]:
            return families  # type: ignore[return-value]

    reg.register(_Snapshot())  # type: ignore[arg-type]
    return generate_latest(reg) + generate_latest(LIVE)
