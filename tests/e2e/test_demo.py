"""`lienthong demo` (what `make run` starts): documents, duplicates and deliveries within 30 s."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.harness import wait_until

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_demo_shows_deliveries_and_duplicates_within_30s(tmp_path: Path) -> None:
    """Every profile's simulator feeds the demo daemon; /status shows delivered and duplicates."""
    port = _free_port()
    log = (tmp_path / "demo.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "demo",
        "--port",
        str(port),
        "--data",
        str(tmp_path / "data"),
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    status: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession() as http:

            async def answering() -> bool:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        return resp.status == 200
                except aiohttp.ClientError:
                    return False

            await wait_until(answering, timeout_s=30, what="the demo daemon to answer")

            async def flowing() -> bool:
                nonlocal status
                async with http.get(f"http://127.0.0.1:{port}/status") as resp:
                    status = json.loads(await resp.read())
                t = status["totals"]
                return bool(t["delivered"] > 0 and t["duplicates"] > 0)

            await wait_until(flowing, timeout_s=30, what="deliveries and duplicates")

            async def every_source_ok() -> bool:  # `unknown` until a first pull read to its end
                nonlocal status
                async with http.get(f"http://127.0.0.1:{port}/status") as resp:
                    status = json.loads(await resp.read())
                states = [s["state"] for u in status["units"] for s in u["sources"]]
                return bool(states) and all(state == "ok" for state in states)

            try:
                await wait_until(every_source_ok, timeout_s=20, what="every source ok")
            except AssertionError:
                states = {s["name"]: s["state"] for u in status["units"] for s in u["sources"]}
                raise AssertionError(f"sources not ok after 20 s: {states}") from None
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=30)
        log.close()
    profiles = {s["profile"] for u in status["units"] for s in u["sources"]}
    assert profiles == {"tdoffice", "folder", "moffice", "voffice", "idesk", "vxp", "mailbox"}
    assert all(s["state"] == "ok" for u in status["units"] for s in u["sources"]), status["units"]
    assert code == 0
