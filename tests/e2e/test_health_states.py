"""Health that tells the truth: a home system never reached is `unknown` ("chưa kết nối"),
then `failing`, and never green, in /status, /metrics and on the endpoint itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from bridge.app import build_daemon, parse_config
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until

NOHOST, SILENT = "vd-nohost", "vd-silent"


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A loopback server that takes connections and never answers (a hung home system)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(ConnectionError):
            await reader.read()  # until the client gives up

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def _get(url: str) -> bytes:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200
        return await resp.read()


async def test_unreached_sinks_show_unknown_then_failing_never_ok(tmp_path: Path) -> None:
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
        silent_server() as silent_url,
    ):
        source.add_document(*make_doc(1), unit=UNIT)
        raw = config_dict(tmp_path / "data", source, home, dropper)
        raw["units"][0]["sinks"] = [
            {"name": NOHOST, "profile": "tdoffice", "api_key": "k"}
            | {"base_url": "http://tdoffice.lienthong.invalid"},
            {"name": SILENT, "profile": "tdoffice", "api_key": "k", "timeout_s": 2}
            | {"base_url": silent_url},
        ]
        daemon = build_daemon(parse_config(raw, {}))
        seen: dict[str, list[str]] = {NOHOST: [], SILENT: []}

        async def sample() -> None:
            while True:
                for name, states in seen.items():
                    ep = daemon.endpoints.get(name)
                    if ep is not None and (not states or states[-1] != ep.health.state):
                        states.append(ep.health.state)
                await asyncio.sleep(0.005)

        sampler = asyncio.create_task(sample())
        try:
            async with daemon:
                base = f"http://127.0.0.1:{daemon.http.port}"
                first = (await _get(base + "/status")).decode()
                metrics = await _get(base + "/metrics")
                await wait_until(
                    lambda: all(s and s[-1] == "failing" for s in seen.values()),
                    timeout_s=15,
                    what="both sinks failing",
                )
                status = await _get(base + "/status")
        finally:
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)

    sinks = {k["name"]: k for k in json.loads(first)["units"][0]["sinks"]}
    assert sinks[SILENT]["state"] == "unknown" and sinks[SILENT]["last_success_at"] is None
    assert b'lienthong_endpoint_state{name="vd-silent",role="sink",state="unknown"} 1.0' in metrics
    assert b'lienthong_endpoint_state{name="vd-silent",role="sink",state="ok"} 0.0' in metrics
    for name, states in seen.items():
        assert states[0] == "unknown" and "ok" not in states, (name, states)
        assert set(states) <= {"unknown", "failing"}, (name, states)
    final = {k["name"]: k for k in json.loads(status)["units"][0]["sinks"]}
    assert final[NOHOST]["state"] == final[SILENT]["state"] == "failing"
    assert final[NOHOST]["last_error"] and final[SILENT]["last_error"]
