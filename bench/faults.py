"""Faults: the same backlog with and without flaky sources, and how fast deliveries resume.

1. The catch-up backlog (5,000 documents on tdoffice, moffice, voffice and idesk simulators,
   a quarter of them by two roads) delivered once on clean simulators, once with 5 % HTTP
   500/503 and 2 % 429 (`Retry-After: 1`) on every request of every source (listings, files,
   bundles, receipts, logins). Both times are from the first source request to the last
   create at home, on the simulators' clock; the ratio faulty / clean is the figure (target
   at most 1.5).
2. A home-system outage: a smaller backlog (faulty sources as above) starts delivering, the
   home sink answers 503 to everything for 20 s, then comes back; the figure is the time
   from its return to its next create (target at most 5 s).

    python -m bench.faults [--docs 5000] [--outage-s 20] [--outage-docs 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import daemon, daemon_config, emit, outbox_counts, simhost, wait_for

ERROR_RATE = 0.05
THROTTLE_RATE = 0.02
TARGET_RATIO = 1.5
TARGET_RESUME_S = 5.0
SETTLE_S = 2.0  # after the last expected create, how long to watch for a doubled delivery


async def backlog(docs: int, *, faulty: bool) -> dict[str, Any]:
    """One catch-up on fresh simulators and an empty store; faulty sources or clean ones."""
    rates = ["--error-rate", str(ERROR_RATE), "--throttle-rate", str(THROTTLE_RATE)]
    with tempfile.TemporaryDirectory(prefix="lienthong-faults-") as tmp:
        workdir = Path(tmp)
        async with simhost("catchup", "--docs", str(docs), *(rates if faulty else [])) as host:
            expected = int(host.info["documents"])
            config = daemon_config(workdir / "data", host.info["sources"], host.info["home"])
            async with daemon(config, workdir):
                await _until_created(host, expected, timeout_s=120 + docs / 10)
                await asyncio.sleep(SETTLE_S)
            stats = await host.get("/stats")
            outbox = outbox_counts(workdir / "data")
    elapsed = stats["last_create_s"] - stats["first_source_s"]
    return {
        "faulty": faulty,
        "documents": expected,
        "records": host.info["records"],
        "created_at_home": stats["home_created"],
        "elapsed_s": round(elapsed, 2),
        "docs_per_s": round(expected / elapsed, 1),
        "faults_served": stats["source_faults"],
        "outbox": outbox,
    }


async def outage(docs: int, outage_s: float) -> dict[str, Any]:
    """Seconds from the home system's return after `outage_s` down to its next create."""
    rates = ["--error-rate", str(ERROR_RATE), "--throttle-rate", str(THROTTLE_RATE)]
    with tempfile.TemporaryDirectory(prefix="lienthong-outage-") as tmp:
        workdir = Path(tmp)
        async with simhost("catchup", "--docs", str(docs), *rates) as host:
            expected = int(host.info["documents"])
            config = daemon_config(workdir / "data", host.info["sources"], host.info["home"])
            async with daemon(config, workdir):
                await _until_created(host, max(1, expected // 10), timeout_s=120)
                await host.post("/home", {"down": True})
                created_before = (await host.get("/stats"))["home_created"]
                await asyncio.sleep(outage_s)
                up = await host.post("/home", {"down": False})
                await _until_created(host, expected, timeout_s=120 + docs / 10)
                await asyncio.sleep(SETTLE_S)
            stats = await host.get("/stats")
    resumed_s = stats["first_create_after_up_s"] - up["now_s"]
    return {
        "documents": expected,
        "outage_s": outage_s,
        "created_before_outage": created_before,
        "created_at_home": stats["home_created"],
        "resumed_after_s": round(resumed_s, 2),
    }


async def _until_created(host: Any, count: int, *, timeout_s: float) -> None:
    async def done() -> bool:
        return int((await host.get("/stats"))["home_created"]) >= count

    await wait_for(done, timeout_s=timeout_s, what=f"{count} creates at home", every_s=0.25)


async def run(docs: int, outage_s: float, outage_docs: int) -> dict[str, Any]:
    started = time.monotonic()
    clean = await backlog(docs, faulty=False)
    emit(clean, summary_backlog(clean))
    faulty = await backlog(docs, faulty=True)
    emit(faulty, summary_backlog(faulty))
    out = await outage(outage_docs, outage_s)
    emit(
        out,
        f"outage: deliveries resumed {out['resumed_after_s']} s after a {outage_s:.0f} s outage ended",
    )
    ratio = faulty["elapsed_s"] / clean["elapsed_s"]
    return {
        "benchmark": "faults",
        "clean_s": clean["elapsed_s"],
        "faulty_s": faulty["elapsed_s"],
        "ratio": round(ratio, 2),
        "ratio_ok": ratio <= TARGET_RATIO,
        "resumed_after_s": out["resumed_after_s"],
        "resume_ok": out["resumed_after_s"] <= TARGET_RESUME_S,
        "exactly_once": faulty["created_at_home"] == faulty["documents"]
        and clean["created_at_home"] == clean["documents"]
        and out["created_at_home"] == out["documents"],
        "wall_s": round(time.monotonic() - started, 1),
    }


def summary_backlog(r: dict[str, Any]) -> str:
    kind = "with 5 % 5xx + 2 % 429 on every source request" if r["faulty"] else "clean"
    return (
        f"backlog ({kind}): {r['documents']} documents ({r['records']} records) in"
        f" {r['elapsed_s']} s = {r['docs_per_s']} docs/s, {r['created_at_home']} created at home"
    )


def summary(r: dict[str, Any]) -> str:
    return (
        f"faulty / clean = {r['faulty_s']} / {r['clean_s']} s = {r['ratio']}"
        f" ({'PASS' if r['ratio_ok'] else 'FAIL'}, target ≤ {TARGET_RATIO});"
        f" deliveries resumed {r['resumed_after_s']} s after the outage"
        f" ({'PASS' if r['resume_ok'] else 'FAIL'}, target ≤ {TARGET_RESUME_S} s);"
        f" exactly once: {r['exactly_once']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults")
    parser.add_argument("--docs", type=int, default=5_000)
    parser.add_argument("--outage-s", type=float, default=20.0)
    parser.add_argument("--outage-docs", type=int, default=1_000)
    args = parser.parse_args()
    result = asyncio.run(run(args.docs, args.outage_s, args.outage_docs))
    emit(result, summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
