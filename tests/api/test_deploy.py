"""deploy/: the alert rules use metrics the daemon exports; the unit keeps its hardening."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bridge.config import BridgeSection

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
EXPORTED = {
    # bridge/metrics.py; counters gain the _total suffix in the exposition
    "lienthong_records_received_total",
    "lienthong_deliveries_total",
    "lienthong_endpoint_state",
    "lienthong_totals",
    "lienthong_ingest_to_delivered_seconds",
    "lienthong_task_failing",
    "lienthong_task_restarts_total",
    "lienthong_ready",
    "lienthong_dead_letters",
    "lienthong_deliveries_pending",
}


def test_alert_rules_parse_and_use_exported_metrics() -> None:
    """Every lienthong_* series an alert reads is one bridge/metrics.py exports; each has a bilingual summary."""
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text(encoding="utf-8"))
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    names = {a["alert"] for a in alerts}
    assert {"LienthongRoadDown", "LienthongSinkFailing", "LienthongDiskFilling"} <= names
    assert "LienthongCertificateExpiring" in names and "LienthongDeadLettersGrowing" in names
    for alert in alerts:
        used = set(re.findall(r"lienthong_[a-z_]+", alert["expr"]))
        assert used <= EXPORTED, f"{alert['alert']} reads unknown series {used - EXPORTED}"
        assert " / " in alert["annotations"]["summary"], "Vietnamese / English summary"


def test_unit_is_hardened_and_outlasts_the_shutdown_grace() -> None:
    """The systemd unit sandboxes the daemon and waits longer than shutdown_grace before killing."""
    text = (DEPLOY / "lienthong.service").read_text(encoding="utf-8")
    for line in (
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/lienthong",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=\n",
        "SystemCallFilter=@system-service",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
    ):
        assert line in text, line
    assert re.search(r"^RestrictAddressFamilies=.*AF_INET", text, re.M)
    assert re.search(r"^(DynamicUser=yes|User=\S+)", text, re.M)
    stop_s = int(re.search(r"^TimeoutStopSec=(\d+)", text, re.M).group(1))  # type: ignore[union-attr]
    assert stop_s > BridgeSection().shutdown_grace
