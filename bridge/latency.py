"""The live delivery-latency histogram: observed where a delivery completes (in this process or
reported by the delivery process), exposed by `/metrics` beside the snapshot's counts."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

LIVE = CollectorRegistry(auto_describe=True)
DELIVERY_LATENCY = Histogram(
    "lienthong_ingest_to_delivered_seconds",
    "Seconds from a delivery being enqueued (the record stored) to the sink accepting it",
    ["sink"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
    registry=LIVE,
)
