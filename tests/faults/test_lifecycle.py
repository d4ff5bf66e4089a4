"""The daemon's lifecycle as an operator meets it: SIGHUP reload, SIGTERM, the HTTP token,
and the dead-letters command line against a running daemon."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from pathlib import Path
from typing import Any

from simulators.demo_data import generate
from simulators.moffice import MofficeSim
from simulators.tdoffice import TdofficeSim, require_number_and_subject
from tests.faults.harness import (
    UNIT,
    UNIT_NAME,
    DaemonProcess,
    free_port,
    run_cli,
    running,
    sources_wiring,
    wait_until,
)

INCOMING = "/api/v2/documents/incoming"


def _unit(sources: list[dict[str, Any]], home: TdofficeSim) -> dict[str, Any]:
    sink = {"name": "vd-home", "profile": "tdoffice", "base_url": home.base_url}
    sink["api_key"] = home.api_key
    return {"units": [{"id": UNIT, "name": UNIT_NAME, "sources": sources, "sinks": [sink]}]}


def _source(name: str, profile: str, sim: Any) -> dict[str, Any]:
    return {"name": name, "profile": profile, "poll_interval": 0.2, **sources_wiring(sim, profile)}


def _seeds(count: int, seed: int) -> list[Any]:
    return generate(seed=seed, count=count, units=[UNIT])


async def test_sighup_swaps_sources_and_refuses_a_bad_config(tmp_path: Path) -> None:
    """SIGHUP starts an added source, stops a removed one, and keeps running on a bad file."""
    async with (
        running(TdofficeSim(seed=1, api_key="src")) as old,
        running(MofficeSim(seed=2)) as new,
        running(TdofficeSim(seed=3, api_key="home")) as home,
    ):
        for s in _seeds(5, 1):
            old.add_document(s.document, s.files, unit=UNIT)
        for s in _seeds(5, 2):
            new.add_document(s.document, s.files, unit=UNIT)
        daemon = DaemonProcess(tmp_path, _unit([_source("vd-old", "tdoffice", old)], home))
        await daemon.start()
        try:
            await wait_until(lambda: len(home.received) == 5, timeout_s=30, what="old road")
            daemon.write_config(_unit([_source("vd-new", "moffice", new)], home))
            daemon.signal(signal.SIGHUP)
            await wait_until(lambda: len(home.received) == 10, timeout_s=30, what="new road")
            await wait_until(lambda: "endpoint_stopped" in daemon.log_text(), timeout_s=10)
            polls = len(old.calls("GET", "/api/v2/documents/inbox"))
            late = _seeds(6, 3)[5]
            old.add_document(late.document, late.files, unit=UNIT)
            await asyncio.sleep(1.5)
            assert len(old.calls("GET", "/api/v2/documents/inbox")) == polls, "removed source ran"
            assert len(home.received) == 10
            bad = _unit([_source("vd-new", "moffice", new)], home)
            bad["units"][0]["sources"][0]["base_url"] = "not a url"
            daemon.write_config(bad)
            daemon.signal(signal.SIGHUP)
            await wait_until(lambda: "reload_refused" in daemon.log_text(), timeout_s=10)
            assert await daemon.healthy()
            refused = next(ln for ln in daemon.log_text().splitlines() if "reload_refused" in ln)
            assert "sources[vd-new].base_url" in refused
            extra = _seeds(7, 4)[6]
            new.add_document(extra.document, extra.files, unit=UNIT)
            await wait_until(lambda: len(home.received) == 11, timeout_s=30, what="old config on")
        finally:
            assert await daemon.stop(signal.SIGTERM) == 0


async def test_sigterm_with_work_in_hand_exits_zero_within_grace(tmp_path: Path) -> None:
    """SIGTERM while pages and deliveries are in flight exits 0 within the grace period."""
    async with (
        running(TdofficeSim(seed=1, api_key="src")) as source,
        running(TdofficeSim(seed=2, api_key="home")) as home,
    ):
        for s in _seeds(80, 5):
            source.add_document(s.document, s.files, unit=UNIT)
        home.faults.error_rate = 0.3  # retries pending when the signal comes
        daemon = DaemonProcess(tmp_path, _unit([_source("vd-src", "tdoffice", source)], home))
        daemon.write_config({**_unit([_source("vd-src", "tdoffice", source)], home)})
        await daemon.start()
        await wait_until(lambda: len(home.received) >= 3, timeout_s=30, what="first deliveries")
        started = time.monotonic()
        code = await daemon.stop(signal.SIGTERM)
        assert code == 0
        assert time.monotonic() - started < 5 + 3, "exits within shutdown_grace (5 s)"
        assert len(home.received) < 80, "the signal came with work in hand"


async def test_http_refuses_non_loopback_listen_without_token(tmp_path: Path) -> None:
    """Listening on 0.0.0.0 without http.token: exit code 2 and a message naming http.listen."""
    async with running(TdofficeSim(api_key="home")) as home:
        daemon = DaemonProcess(tmp_path, {**_unit([], home), "http": {"listen": "0.0.0.0:0"}})
        code, _, err = await run_cli("run", "--config", str(daemon.config_path))
        assert code == 2
        assert "http.listen" in err and "http.token" in err


async def test_token_and_dead_letters_cli(tmp_path: Path) -> None:
    """/status needs the token, /healthz does not; dead letters are listed and replayed once."""
    async with (
        running(TdofficeSim(seed=1, api_key="src")) as source,
        running(TdofficeSim(seed=2, api_key="home")) as home,
    ):
        home.validator = lambda body: [{"field": "subject", "message": "rejected for the test"}]
        for s in _seeds(3, 6):
            source.add_document(s.document, s.files, unit=UNIT)
        token = "tok-" + "x" * 20
        config = {**_unit([_source("vd-src", "tdoffice", source)], home), "http": {}}
        config["http"]["token"] = token
        daemon = DaemonProcess(tmp_path, config, token=token)
        await daemon.start()
        try:
            assert (await daemon.get("/status", auth=False))[0] == 401
            assert (await daemon.get("/status"))[0] == 200
            assert (await daemon.get("/healthz", auth=False))[0] == 200
            await wait_until(lambda: _dead(daemon, 3), timeout_s=30, what="3 dead letters")
            cli = ("--url", daemon.url, "--token", token)
            code, out, _ = await run_cli("dead-letters", "list", *cli)
            assert code == 0
            ids = re.findall(r"^#(\d+)", out, flags=re.MULTILINE)
            assert len(ids) == 3, out
            first_keys = _keys(home)
            assert len(set(first_keys)) == 3
            home.validator = require_number_and_subject
            code, out, _ = await run_cli("dead-letters", "replay", ids[0], *cli)
            assert code == 0 and "1" in out
            await wait_until(lambda: len(home.received) == 1, timeout_s=30, what="replayed one")
            code, out, _ = await run_cli("dead-letters", "replay", "--all", *cli)
            assert code == 0
            await wait_until(lambda: len(home.received) == 3, timeout_s=30, what="replayed all")
            await asyncio.sleep(1.0)
            assert len(home.received) == 3
            accepted = [r.headers["Idempotency-Key"] for r in home.calls("POST", INCOMING)]
            assert set(accepted) == set(first_keys), "replays reuse the first attempts' keys"
            assert not await _dead(daemon, 1)
        finally:
            assert await daemon.stop(signal.SIGTERM) == 0


async def _dead(daemon: DaemonProcess, count: int) -> bool:
    return len((await daemon.get_json("/dead-letters"))["items"]) >= count


def _keys(home: TdofficeSim) -> list[str]:
    return [r.headers["Idempotency-Key"] for r in home.calls("POST", INCOMING)]


def _free() -> int:
    return free_port()
