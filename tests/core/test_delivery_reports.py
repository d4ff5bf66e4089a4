"""The daemon's side of the delivery process reads the child's reports from a real stream:
lines that are not reports are skipped, the good ones still apply."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import orjson

from bridge.delivery_link import DeliveryChild, apply_health, health_report
from bridge.health import FAILING, Health


def _child(health: Health) -> DeliveryChild:
    return DeliveryChild(
        config_path=Path("unused.toml"),
        health_of=lambda name: health if name == "home" else None,
        grace_s=1.0,
        daemon_stop=asyncio.Event(),
    )


async def test_unreadable_reports_are_skipped_and_good_ones_apply() -> None:
    home = Health("home", "tdoffice")
    reported = Health("home", "tdoffice", state=FAILING, failures=3, count=7)
    reported.last_error = "tdoffice create: HTTP 503"
    reported.last_success_at = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)
    reader = asyncio.StreamReader()
    for line in (
        b"not json at all",
        b"[1, 2, 3]",
        b'{"health": 5}',
        b'{"latency": [["home"]]}',
        b'{"health": {"elsewhere": {"count": 99}}}',
        orjson.dumps({"health": {"home": health_report(reported)}}),
    ):
        reader.feed_data(line + b"\n")
    reader.feed_eof()
    await _child(home).read_reports(reader)
    assert (home.state, home.failures, home.count) == (FAILING, 3, 7)
    assert home.last_error == "tdoffice create: HTTP 503"
    assert home.last_success_at == reported.last_success_at


async def test_a_report_over_the_size_limit_ends_the_reading() -> None:
    home = Health("home", "tdoffice")
    reader = asyncio.StreamReader(limit=64)
    reader.feed_data(b'{"health": {"home": {"count": 1}}}' + b" " * 100 + b"\n")
    reader.feed_data(orjson.dumps({"health": {"home": {"count": 2}}}) + b"\n")
    reader.feed_eof()
    await _child(home).read_reports(reader)  # returns: the child would be killed and restarted
    assert home.count == 0


def test_health_survives_the_round_trip() -> None:
    source = Health("home", "tdoffice", state=FAILING, failures=2, count=5, standby=True)
    source.last_error_at = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    copy = Health("home", "tdoffice")
    apply_health(copy, orjson.loads(orjson.dumps(health_report(source))))
    assert health_report(copy) == health_report(source)
