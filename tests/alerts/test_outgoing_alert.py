"""An alert when a recipient of a document sent on the axis has not said 01 ("arrived") by the
end of the next working day after sending; it ends once the 01 comes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bridge.alerts.monitor import AlertMonitor
from bridge.alerts.settings import AlertsSettings, WebhookSettings
from bridge.domain.outgoing import Intake, Move, NewRecipient
from bridge.store import SqliteStore
from tests.alerts.test_alert_webhook import UNIT, UNIT_NAME, hook_server
from tests.store.conftest import raw


async def test_a_recipient_silent_past_the_next_working_day(tmp_path: Path) -> None:
    async with hook_server() as hook, SqliteStore(tmp_path / "db.sqlite3") as store:
        (item,) = await store.save_outbox_items("out", [raw("s1", source="out", unit=UNIT)])
        axis = NewRecipient(
            "000.00.40.H59",
            ("000.00.40.H59",),
            "Sở Tài chính",
            None,
            "axis",
            "000.00.40.H59",
            "có nút",
            "queued",
        )
        data = {"document": {"number": "12", "notation": "UBND-VP"}}
        doc_id = await store.take_item(
            Intake(
                item, UNIT, "out", "D1", "k", 1, "active", "new", None, data, new_recipients=(axis,)
            )
        )
        (r,) = await store.recipients_of(doc_id)
        await store.move(Move(r.id, "sent"))
        sent = dt.datetime.now(dt.UTC)
        settings = AlertsSettings(webhook=WebhookSettings(url=hook.url))
        monitor = AlertMonitor(store, lambda: settings, dict, lambda: {UNIT: UNIT_NAME}, sent)
        await monitor.evaluate(settings, sent + dt.timedelta(hours=20))
        assert hook.said() == []  # not yet due
        await monitor.evaluate(settings, sent + dt.timedelta(days=4, hours=1))
        assert hook.said() == [(f"outgoing01:{UNIT}", "start")]
        start = hook.received[0]
        assert start["detail"]["recipients"] == ["000.00.40.H59"]
        assert start["detail"]["documents"] == ["12/UBND-VP"]
        assert "01" in start["summary_vi"] and start["detail"]["units"] == [[UNIT, UNIT_NAME]]
        await store.move(Move(r.id, "arrived", status_code="01"))
        await monitor.evaluate(settings, sent + dt.timedelta(days=4, hours=2))
        assert hook.said()[-1] == (f"outgoing01:{UNIT}", "end")
