"""An operator's controls through the real daemon and simulators: pause stops pulling (and
survives a restart), resume and poll now pull at once, retry now delivers a parked delivery
as soon as the home system is back; each action is in /audit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until
from tests.faults.harness import push_object

SOURCE, SINK = "vd-tdoffice", "vd-home"
INBOX = "/api/v2/documents/inbox"
ACTOR = {"X-Actor": "lan"}  # the operator named without tokens (loopback only)


@asynccontextmanager
async def _sims(tmp_path: Path) -> AsyncIterator[tuple[TdofficeSim, TdofficeSim, FolderDropper]]:
    """The source's and home's tdoffice and a drop folder, as the harness configures them."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        yield source, home, dropper


async def _post(daemon: Daemon, path: str) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{daemon.http.port}{path}"
    async with aiohttp.ClientSession() as http, http.post(url, headers=ACTOR) as resp:
        return resp.status, await resp.json()


async def _get(daemon: Daemon, path: str) -> Any:
    url = f"http://127.0.0.1:{daemon.http.port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200
        return await resp.json()


async def _stored(daemon: Daemon) -> int:
    found = await daemon.store.search_documents(
        unit=None, q=None, state=None, limit=50, before=None
    )
    return len(found)


async def _paused(daemon: Daemon) -> bool:
    status = await _get(daemon, "/status")
    return bool(next(s for s in status["units"][0]["sources"] if s["name"] == SOURCE)["paused"])


async def _actions(daemon: Daemon) -> list[tuple[str, str, str]]:
    trail = (await _get(daemon, "/audit"))["items"]
    return [(a["action"], a["target"], a["actor"]) for a in reversed(trail)]


async def test_pause_stops_pulling_survives_a_restart_and_resume_pulls(tmp_path: Path) -> None:
    async with _sims(tmp_path) as (source, home, dropper):
        config = parse_config(config_dict(tmp_path / "data", source, home, dropper), {})
        async with build_daemon(config) as daemon:
            await wait_until(lambda: source.calls("GET", INBOX), what="the first pull")
            assert await _post(daemon, f"/sources/{SOURCE}/pause") == (200, {
                "name": SOURCE, "role": "source", "paused": True, "changed": True, "released": 0,
            })  # fmt: skip
            status, again = await _post(daemon, f"/sources/{SOURCE}/pause")
            assert status == 200 and again["paused"] and not again["changed"]
            await asyncio.sleep(0.5)  # a pull under way when paused ends
            pulls = len(source.calls("GET", INBOX))
            source.add_document(*make_doc(1), unit=UNIT)
            assert await _paused(daemon)
            await asyncio.sleep(1.5)  # five poll intervals
            assert await _stored(daemon) == 0
            assert len(source.calls("GET", INBOX)) == pulls

        async with build_daemon(config) as daemon:  # the pause outlives a restart
            await asyncio.sleep(1.5)
            assert await _stored(daemon) == 0 and len(source.calls("GET", INBOX)) == pulls
            assert await _paused(daemon)
            status, resumed = await _post(daemon, f"/sources/{SOURCE}/resume")
            assert status == 200 and resumed["paused"] is False and resumed["changed"]
            await wait_until(lambda: _stored(daemon), timeout_s=5, what="the document")
            assert not await _paused(daemon)
            assert await _actions(daemon) == [
                ("pause", f"source:{SOURCE}", "lan"),
                ("pause", f"source:{SOURCE}", "lan"),
                ("resume", f"source:{SOURCE}", "lan"),
            ]


async def test_poll_now_pulls_at_once_and_unknown_names_are_404(tmp_path: Path) -> None:
    async with _sims(tmp_path) as (source, home, dropper):
        raw = config_dict(tmp_path / "data", source, home, dropper, poll_s=60)
        async with build_daemon(parse_config(raw, {})) as daemon:
            await wait_until(lambda: source.calls("GET", INBOX), what="the first pull")
            await asyncio.sleep(0.3)
            source.add_document(*make_doc(2), unit=UNIT)
            asked = time.monotonic()
            status, body = await _post(daemon, f"/sources/{SOURCE}/poll")
            assert status == 200 and body["changed"] and not body["paused"]
            await wait_until(lambda: _stored(daemon), timeout_s=5, what="the polled document")
            assert time.monotonic() - asked < 1.5
            for path in ("/sources/nope/pause", "/sources/nope/poll", f"/sinks/{SOURCE}/retry"):
                status, body = await _post(daemon, path)
                assert status == 404 and " / " in body["error"], path
            status, _ = await _post(daemon, f"/sources/{SINK}/resume")
            assert status == 404
            assert await _actions(daemon) == [("poll_now", f"source:{SOURCE}", "lan")]


async def test_retry_now_delivers_a_parked_delivery_once_home_is_back(tmp_path: Path) -> None:
    """Home refuses with Retry-After 60 s: the delivery and the sink's breaker wait a minute;
    once home is back, retry now delivers it within a second or two."""
    async with _sims(tmp_path) as (source, home, dropper):
        home.faults.retry_after_s = 60
        home.faults.set_rates(throttle_rate=1.0)
        source.add_document(*make_doc(3), unit=UNIT)
        raw = config_dict(tmp_path / "data", source, home, dropper)
        async with build_daemon(parse_config(raw, {})) as daemon:
            await wait_until(lambda: _stored(daemon), what="the document stored")
            await wait_until(lambda: home.faults.counts.get("throttle"), what="home refused")
            await asyncio.sleep(1.0)
            assert home.received == {}
            home.faults.set_rates()  # home is back; left alone, the bridge waits out the minute
            asked = time.monotonic()
            status, body = await _post(daemon, f"/sinks/{SINK}/retry")
            assert status == 200 and body["role"] == "sink"
            await wait_until(lambda: home.received, timeout_s=10, what="delivered")
            assert time.monotonic() - asked < 3.0
            assert await _actions(daemon) == [("retry_now", f"sink:{SINK}", "lan")]


async def test_a_paused_push_source_answers_503_so_the_sender_keeps_it(tmp_path: Path) -> None:
    async with _sims(tmp_path) as (source, home, dropper):
        raw = config_dict(tmp_path / "data", source, home, dropper, poll_s=60)
        raw["units"][0]["sources"][0]["webhook_secret"] = "hook-secret"
        async with build_daemon(parse_config(raw, {})) as daemon:
            hook = f"http://127.0.0.1:{daemon.http.port}/hooks/{SOURCE}"
            assert (await _post(daemon, f"/sources/{SOURCE}/pause"))[0] == 200
            obj = push_object(source, *make_doc(4))
            status = await source.push(hook, "document.created", obj, "hook-secret", max_attempts=1)
            assert status == 503 and await _stored(daemon) == 0
            async with aiohttp.ClientSession() as http, http.post(hook, data=b"{}") as resp:
                assert resp.status == 503 and resp.headers["Retry-After"] == "60"
                assert " / " in (await resp.json())["error"]
            assert (await _post(daemon, f"/sources/{SOURCE}/resume"))[0] == 200
            status = await source.push(hook, "document.created", obj, "hook-secret", max_attempts=1)
            assert status == 200
            await wait_until(lambda: _stored(daemon), timeout_s=5, what="the pushed document")
