"""Supervised background tasks: a loop that fails is restarted while /readyz answers 503 and
/status names it; one that keeps failing ends the daemon with a non-zero exit code (for the
service manager to start it again). The fault is real: the daemon's PostgreSQL database stops
taking connections under it (and, in the first test, takes them again)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from bridge.app import build_daemon, parse_config
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import config_dict
from tests.faults.harness import UNIT, UNIT_NAME, DaemonProcess, running, wait_until
from tests.store.conftest import fresh_pg_url, pg_server
from tests.store.pg_server import PgServer

__all__ = ["pg_server"]
TOKEN = "supervision-token"


async def _database(server: PgServer, url: str, *, open_: bool) -> None:
    """Let the database take connections again, or refuse them and cut the ones it has."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(server.url(), timeout=10)
    try:
        await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {str(open_).lower()}")
        if not open_:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
    finally:
        await admin.close()


async def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.get(url, headers=headers) as resp,
    ):
        body = await resp.read()
        return resp.status, json.loads(body) if body.startswith(b"{") else body


async def test_a_failing_task_is_restarted_and_readyz_answers_503_meanwhile(
    tmp_path: Path, pg_server: PgServer
) -> None:
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        data = tmp_path / "data"
        raw = config_dict(data, source, home, dropper)
        raw["http"]["token"] = TOKEN
        url = await fresh_pg_url(pg_server)
        raw["bridge"]["database"] = url
        daemon = build_daemon(parse_config(raw, {}))
        daemon.supervisor.settled_s = 0.5
        async with daemon:
            base = f"http://127.0.0.1:{daemon.http.port}"
            assert (await _get(base + "/readyz"))[0] == 200  # no token needed
            await _database(pg_server, url, open_=False)
            try:
                await wait_until(
                    lambda: _status_is(base + "/readyz", 503), timeout_s=10, what="readyz 503"
                )
                code, ready = await _get(base + "/readyz")
                failing = daemon.supervisor.snapshot()
            finally:
                await _database(pg_server, url, open_=True)
            await wait_until(
                lambda: _status_is(base + "/readyz", 200), timeout_s=15, what="readyz 200 again"
            )
            _, after = await _get(base + "/status", TOKEN)
            _, metrics = await _get(base + "/metrics", TOKEN)
    assert code == 503 and ready["ready"] is False
    down = {t["name"] for t in failing if t["state"] == "failing"}
    assert down, failing
    assert all(any(name in r for r in ready["reasons"]) for name in down), ready
    restarted = {t["name"] for t in after["tasks"] if t["restarts"] >= 1}
    assert down <= restarted, after["tasks"]
    assert all(t["state"] == "ok" for t in after["tasks"]) and after["ready"] is True
    for name in down:
        assert f'lienthong_task_restarts_total{{task="{name}"}}'.encode() in metrics


async def _status_is(url: str, expected: int) -> bool:
    return (await _get(url))[0] == expected


@pytest.mark.timeout(90)
async def test_a_task_that_keeps_failing_ends_the_daemon_with_exit_code_1(
    tmp_path: Path, pg_server: PgServer
) -> None:
    async with running(TdofficeSim(seed=3, api_key="home")) as home:
        sink = {"name": "vd-home", "profile": "tdoffice", "base_url": home.base_url}
        sink["api_key"] = home.api_key
        folder = {"name": "vd-folder", "profile": "folder", "path": str(tmp_path / "inbox")}
        (tmp_path / "inbox").mkdir()
        unit = {"id": UNIT, "name": UNIT_NAME, "sources": [folder], "sinks": [sink]}
        url = await fresh_pg_url(pg_server)
        daemon = DaemonProcess(tmp_path, {"bridge": {"database": url}, "units": [unit]})
        await daemon.start()
        try:
            await wait_until(_ready(daemon), timeout_s=20, what="the daemon ready")
            await _database(pg_server, url, open_=False)  # and never again
            assert daemon.proc is not None
            code = await asyncio.wait_for(daemon.proc.wait(), timeout=60)  # no signal sent
        finally:
            if daemon.proc is not None and daemon.proc.returncode is None:
                await daemon.kill()
    log = daemon.log_text()
    assert code == 1, log[-2000:]
    assert "supervisor_gave_up" in log and "task_failed" in log


def _ready(daemon: DaemonProcess) -> Any:
    async def check() -> bool:
        try:
            status, _ = await daemon.get("/readyz", auth=False)
        except (aiohttp.ClientError, OSError):
            return False
        return status == 200

    return check
