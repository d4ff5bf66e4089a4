"""`lienthong demo` lives on after its first batch: new documents keep coming, and among them
each case the operations guide deals with shows up within a minute."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.harness import wait_until
from tests.e2e.test_demo import ROOT, _free_port

FIRST_BATCH = 10


async def _get(http: aiohttp.ClientSession, port: int, path: str) -> Any:
    async with http.get(f"http://127.0.0.1:{port}{path}") as resp:
        assert resp.status == 200, path
        return json.loads(await resp.read())


async def test_the_demo_trickles_and_shows_every_case(tmp_path: Path) -> None:
    port = _free_port()
    log = (tmp_path / "demo.log").open("wb")
    args = ["-m", "bridge", "demo", "--port", str(port), "--data", str(tmp_path / "data")]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, "--documents", str(FIRST_BATCH), cwd=ROOT, stdout=log, stderr=log
    )
    seen: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession() as http:

            async def every_case() -> bool:
                try:
                    status = await _get(http, port, "/status")
                except aiohttp.ClientError:
                    return False
                quarantine = await _get(http, port, "/quarantine")
                revoked = await _get(http, port, "/documents?state=revoked")
                seen.update(
                    totals=status["totals"],
                    units=status["units"],
                    kinds={q["kind"] for q in quarantine["items"]},
                    revoked=len(revoked["items"]),
                    dead=len((await _get(http, port, "/dead-letters"))["items"]),
                )
                t = status["totals"]
                return bool(
                    seen["kinds"] >= {"secret", "unreadable", "review"}
                    and seen["revoked"] >= 1
                    and seen["dead"] >= 1
                    and t["revisions"] >= 2  # the revision, and the revocation's new version
                    and t["documents"] > FIRST_BATCH + 6
                )

            try:
                await wait_until(every_case, timeout_s=90, what="every case of the living demo")
            except AssertionError:
                raise AssertionError(f"not every case after 90 s: {seen}") from None
            latest = await _get(http, port, "/documents?limit=5")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=30)
        log.close()
    assert code == 0
    t = seen["totals"]
    assert t["dead"] >= 1 and t["quarantined"] >= 3
    for key, value in t.items():
        assert value == sum(u["figures"][key] for u in seen["units"]), key
    reached = [d["delivered_to"] for d in latest["items"] if d["delivered_to"]]
    assert reached and all(r[0]["system_name"].startswith("TDOffice UBND") for r in reached)
