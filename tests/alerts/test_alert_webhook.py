"""Alerts by webhook to a real aiohttp server on 127.0.0.1: the JSON and its bearer secret,
retries of a server that fails for a moment, a reminder, the end; a channel down is owed the
same notice at the next evaluation; a 01 owed past its deadline."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bridge.alerts.monitor import AlertMonitor, Road
from bridge.alerts.settings import AlertsSettings, WebhookSettings
from bridge.domain.enums import EndpointRole
from bridge.health import Health
from bridge.store import SqliteStore, StatusReply
from tests.store.conftest import document, new_document_outcome, raw

UNIT, UNIT_NAME = "000.00.33.H49", "Ủy ban nhân dân huyện Vân Đồn"
T0 = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)  # Monday 10:00 in Vietnam


@dataclass
class Hook:
    received: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    fail_next: int = 0  # answer 503 to this many requests first
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=503)
        self.authorizations.append(request.headers.get("Authorization"))
        self.received.append(await request.json())
        return web.Response(status=204)

    def said(self) -> list[tuple[str, str]]:
        return [(r["alert"], r["notice"]) for r in self.received]


@contextlib.asynccontextmanager
async def hook_server() -> AsyncIterator[Hook]:
    hook = Hook()
    app = web.Application()
    app.router.add_post("/alerts", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    hook.url = f"http://127.0.0.1:{port}/alerts"
    try:
        yield hook
    finally:
        await runner.cleanup()


@dataclass
class Endpoint:
    """A running source as the daemon holds it (health, units, role)."""

    health: Health
    units: tuple[str, ...] = (UNIT,)
    role: str = EndpointRole.SOURCE


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


async def test_webhook_start_retry_remind_end(tmp_path: Path) -> None:
    health = Health("vd-vxp", "vxp", state="failing", last_error="HTTP 503")
    roads: dict[str, Road] = {"vd-vxp": Endpoint(health)}
    async with hook_server() as hook, SqliteStore(tmp_path / "db.sqlite3") as store:
        settings = AlertsSettings(
            road_down_after=600, webhook=WebhookSettings(url=hook.url, secret="s3cr3t")
        )
        monitor = AlertMonitor(
            store, lambda: settings, lambda: roads, lambda: {UNIT: UNIT_NAME}, at(-1)
        )
        hook.fail_next = 1  # the first try fails, the channel's own retry gets through
        await monitor.evaluate(settings, at(0))
        assert hook.said() == [("road:vd-vxp", "start")]
        assert hook.authorizations == ["Bearer s3cr3t"]
        start = hook.received[0]
        assert start["since"] == at(-1).isoformat() and start["detail"]["units"] == [
            [UNIT, UNIT_NAME]
        ]
        assert start["summary_vi"] == "Nguồn vd-vxp không kết nối được 1 giờ 0 phút"
        assert start["summary_en"] == "Source vd-vxp down for 1 h 0 min"
        await monitor.evaluate(settings, at(1))
        await monitor.evaluate(settings, at(3.9))
        assert len(hook.received) == 1
        await monitor.evaluate(settings, at(4))
        assert hook.said()[-1] == ("road:vd-vxp", "remind")
        hook.fail_next = 3  # the channel is down: every try fails, the end stays owed
        health.succeeded()
        await monitor.evaluate(settings, at(5))
        assert len(hook.received) == 2
        again = AlertMonitor(store, lambda: settings, lambda: roads, dict, at(5))  # restarted
        await again.evaluate(settings, at(5.1))
        await again.evaluate(settings, at(5.2))
        assert hook.said() == [("road:vd-vxp", s) for s in ("start", "remind", "end")]
        assert hook.received[-1]["ended_at"] == at(5).isoformat()


async def test_a_01_not_sent_by_the_end_of_the_next_working_day(tmp_path: Path) -> None:
    async with hook_server() as hook, SqliteStore(tmp_path / "db.sqlite3") as store:
        (rid,) = await store.save_records([raw("a", source="vd-vxp", unit=UNIT)])
        reply = StatusReply("01", "đã đến / arrived", UNIT, {"code": "H55"}, {"number": "1"})
        outcome = new_document_outcome(rid, document())
        await store.apply(dataclasses.replace(outcome, status_replies=(reply,)))
        arrived = dt.datetime.now(dt.UTC)
        settings = AlertsSettings(webhook=WebhookSettings(url=hook.url))
        monitor = AlertMonitor(store, lambda: settings, dict, lambda: {UNIT: UNIT_NAME}, arrived)
        await monitor.evaluate(settings, arrived + dt.timedelta(hours=20))
        assert hook.said() == []  # not yet due
        await monitor.evaluate(settings, arrived + dt.timedelta(days=4, hours=1))
        assert hook.said() == [("status01:vd-vxp", "start")]
        assert hook.received[0]["detail"]["count"] == 1
        (owed,) = await store.due_status("vd-vxp")
        await store.status_sent(owed.id, "sent")
        await monitor.evaluate(settings, arrived + dt.timedelta(days=4, hours=2))
        assert hook.said()[-1] == ("status01:vd-vxp", "end")
