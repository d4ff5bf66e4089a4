"""A source down longer than the alert time: the alert mail reaches a real SMTP server once
(a daemon restart in between sends no second one), and when the source is back the end does."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.alerts.smtp_server import Inbox, smtp_server
from tests.e2e.harness import UNIT, UNIT_NAME, config_dict, wait_until

DOWN_AFTER_S = 1.0


def _alerting(raw: dict[str, Any], inbox: Inbox) -> dict[str, Any]:
    email = {"host": "127.0.0.1", "port": inbox.port, "tls": "none", "timeout_s": 5}
    email |= {"from": "lienthong@vandon.gov.vn", "to": ["it@vandon.gov.vn", "vt@vandon.gov.vn"]}
    alerts = {"road_down_after": DOWN_AFTER_S, "check_every": 0.2, "email": email}
    return raw | {"alerts": alerts}


async def _status(daemon: Daemon) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{daemon.http.port}/status") as resp,
    ):
        assert resp.status == 200
        body: dict[str, Any] = await resp.json()
        return body


async def test_source_down_mails_once_then_its_end(tmp_path: Path) -> None:
    async with (
        smtp_server() as inbox,
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        source.faults.down = True
        config = parse_config(
            _alerting(config_dict(tmp_path / "data", source, home, dropper), inbox), {}
        )
        async with build_daemon(config):
            await wait_until(lambda: inbox.mails, timeout_s=20, what="the alert mail")
        async with build_daemon(config) as daemon:  # restarted while the source is still down
            await asyncio.sleep(DOWN_AFTER_S + 1.5)  # past the alert time again: no second mail
            assert len(inbox.mails) == 1, inbox.subjects()
            firing = (await _status(daemon))["alerts"]
            assert [(a["key"], a["kind"]) for a in firing] == [("road:vd-tdoffice", "road_down")]
            source.faults.down = False
            await wait_until(lambda: len(inbox.mails) == 2, timeout_s=30, what="the end mail")
            await asyncio.sleep(0.6)  # a few evaluations more: nothing else is sent
            assert (await _status(daemon))["alerts"] == []
    start, end = inbox.mails
    assert len(inbox.mails) == 2, inbox.subjects()
    subject = str(start["subject"])
    assert subject.startswith("[lienthong] Nguồn vd-tdoffice không kết nối được "), subject
    assert " / Source vd-tdoffice down for " in subject
    body = start.get_content()
    assert f"{UNIT_NAME} ({UNIT})" in body and "vd-tdoffice" in body
    assert "Từ lúc / Since: " in body and "Trạng thái / State: " in body
    assert inbox.recipients[0] == ["it@vandon.gov.vn", "vt@vandon.gov.vn"]
    assert str(start["from"]) == "lienthong@vandon.gov.vn"
    assert str(end["subject"]).startswith("[lienthong] Đã kết nối lại nguồn vd-tdoffice sau ")
    assert " / Source vd-tdoffice back after " in str(end["subject"])
