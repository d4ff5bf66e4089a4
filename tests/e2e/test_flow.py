"""One unit's documents flow end to end through a real daemon, over loopback HTTP."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, delivered_symbols, make_doc, wait_until


async def _status(daemon: Daemon) -> dict[str, Any]:
    url = f"http://127.0.0.1:{daemon.http.port}/status"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200
        status: dict[str, Any] = await resp.json()
        return status


async def test_documents_delivered_once_and_second_road_recognised(tmp_path: Path) -> None:
    """Six documents reach the home sink once each; the two that also came by folder are duplicates."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        for i in range(6):
            doc, files = make_doc(i)
            source.add_document(doc, files, unit=UNIT)
            if i < 2:
                dropper.add_document(doc, files, unit=UNIT)
        config = parse_config(config_dict(tmp_path / "data", source, home, dropper), {})
        async with build_daemon(config) as daemon:
            await wait_until(lambda: len(home.received) >= 6, what="six deliveries")
            await wait_until(
                lambda: len(list((tmp_path / "inbox" / ".done").glob("*.json"))) == 2,
                what="folder ack",
            )
            await daemon.processor.process_pending()

            async def recorded() -> bool:  # the sink has them; now the store says so too
                return bool((await _status(daemon))["totals"]["delivered"] == 6)

            await wait_until(recorded, what="six deliveries recorded")
            status = await _status(daemon)
        assert Counter(delivered_symbols(home)).most_common(1)[0][1] == 1
        assert len(home.received) == 6
        t = status["totals"]
        assert t["documents"] == 6 and t["duplicates"] == 2 and t["received"] == 8
        assert t["received"] == t["documents"] + t["duplicates"] + t["revisions"] + t["quarantined"]
        assert t["delivered"] == 6 and t["pending"] == 0
        unit = status["units"][0]
        assert {s["name"]: s["received"] for s in unit["sources"]} == {
            "vd-tdoffice": 6,
            "vd-folder": 2,
        }
        assert unit["sinks"][0]["delivered"] == 6


async def test_restart_resumes_from_cursor_without_redelivery(tmp_path: Path) -> None:
    """A restarted daemon continues from the stored cursor and sends nothing twice."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        for i in range(4):
            source.add_document(*make_doc(i), unit=UNIT)
        config = parse_config(config_dict(tmp_path / "data", source, home, dropper), {})
        async with build_daemon(config):
            await wait_until(lambda: len(home.received) == 4, what="first four")
        calls_before = len(source.calls("GET", "/api/v2/documents/inbox"))
        for i in range(4, 7):
            source.add_document(*make_doc(i), unit=UNIT)
        async with build_daemon(config):
            await wait_until(lambda: len(home.received) == 7, what="three more")
        first_after = source.calls("GET", "/api/v2/documents/inbox")[calls_before]
        assert first_after.query.get("cursor"), (
            "the restarted daemon resumed from its stored cursor"
        )
        assert len(delivered_symbols(home)) == len(set(delivered_symbols(home))) == 7
        creates = home.calls("POST", "/api/v2/documents/incoming")
        assert len({c.headers["Idempotency-Key"] for c in creates}) == 7


async def test_malformed_record_quarantined_and_the_rest_flow(tmp_path: Path) -> None:
    """A broken metadata file is kept aside with its reason; the documents around it still arrive."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        dropper.add_document(*make_doc(1), unit=UNIT)
        dropper.add_raw("VB_broken.json", b'{"codeNumber": "12", "codeNotation": ')
        dropper.add_document(*make_doc(2), unit=UNIT)
        config = parse_config(config_dict(tmp_path / "data", source, home, dropper), {})
        async with build_daemon(config) as daemon:
            await wait_until(lambda: len(home.received) == 2, what="two good documents")
            await wait_until(
                lambda: (tmp_path / "inbox" / ".rejected").exists(), what="rejected move"
            )
            await daemon.processor.process_pending()
            status = await _status(daemon)
            quarantined = await daemon.store.quarantined()
        assert status["totals"]["quarantined"] == 1
        assert quarantined[0]["kind"] == "unreadable" and "JSON" in quarantined[0]["reason"].upper()
