"""Memory: the daemon's RSS with a large outbox waiting, and while a huge attachment streams.

- pending: the home sink answers 503 to everything; a tdoffice source holds `--pending`
  documents (without files, so the backlog builds quickly). Reports RSS once that many
  deliveries are pending, and the peak while they piled up.
- big: one document with a `--big-mb` MiB PDF is pulled from a tdoffice source (files served
  separately) and delivered to the home sink. Reports the growth of RSS over the idle
  daemon's, sampled every 50 ms, in total and for anonymous memory alone (file pages mapped
  to read the PDF count in RSS but are the page cache's, not the heap's).

    python -m bench.memory [--pending 100000] [--big-mb 300] [--only pending|big]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    RssSampler,
    daemon,
    daemon_config,
    emit,
    mb,
    memory_kb,
    outbox_counts,
    simhost,
    wait_for,
)


async def run_pending(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lienthong-pending-") as tmp:
        workdir = Path(tmp)
        data_dir = workdir / "data"
        async with simhost("pending", "--docs", str(count), "--no-files") as host:
            config = daemon_config(data_dir, host.info["sources"], host.info["home"])
            started = time.monotonic()
            async with daemon(config, workdir) as proc, RssSampler(proc.pid, 0.2) as rss:
                await wait_for(
                    lambda: outbox_counts(data_dir).get("pending", 0) >= count,
                    timeout_s=120 + count / 20,
                    what=f"{count} pending deliveries",
                    every_s=1.0,
                )
                await asyncio.sleep(3)  # the processor settles; the worker keeps probing
                memory = memory_kb(proc.pid)
                pending = outbox_counts(data_dir).get("pending", 0)
    return {
        "pending": pending,
        "fill_s": round(time.monotonic() - started, 1),
        "rss_mb": mb(memory.get("VmRSS", 0)),
        "anon_mb": mb(memory.get("RssAnon", 0)),
        "peak_rss_mb": mb(max(rss.peak_rss_kb, memory.get("VmHWM", 0))),
    }


async def run_big(size_mb: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lienthong-big-") as tmp:
        workdir = Path(tmp)
        async with simhost("big") as host:
            config = daemon_config(workdir / "data", host.info["sources"], host.info["home"])
            async with daemon(config, workdir) as proc:
                await asyncio.sleep(5)  # started, first (empty) pulls done
                idle = memory_kb(proc.pid)
                async with RssSampler(proc.pid, 0.05) as rss:
                    started = time.monotonic()
                    await host.post("/big", {"mb": size_mb}, timeout_s=120)

                    async def delivered() -> bool:
                        return int((await host.get("/stats"))["home_created"]) >= 1

                    await wait_for(delivered, timeout_s=300, what="the big document at home")
                    took = time.monotonic() - started
    return {
        "attachment_mb": size_mb,
        "seconds": round(took, 1),
        "idle_rss_mb": mb(idle.get("VmRSS", 0)),
        "peak_rss_mb": mb(rss.peak_rss_kb),
        "growth_mb": mb(rss.peak_rss_kb - idle.get("VmRSS", 0)),
        "anon_growth_mb": mb(rss.peak_anon_kb - idle.get("RssAnon", 0)),
    }


async def run(pending: int, big_mb: int, only: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"benchmark": "memory"}
    if only in (None, "pending"):
        result["pending"] = await run_pending(pending)
    if only in (None, "big"):
        result["big"] = await run_big(big_mb)
    return result


def summary(r: dict[str, Any]) -> str:
    parts = []
    if "pending" in r:
        p = r["pending"]
        parts.append(
            f"{p['pending']} pending: RSS {p['rss_mb']} MB (peak {p['peak_rss_mb']} MB,"
            f" filled in {p['fill_s']} s)"
        )
    if "big" in r:
        b = r["big"]
        parts.append(
            f"{b['attachment_mb']} MB attachment: RSS +{b['growth_mb']} MB"
            f" (anonymous +{b['anon_growth_mb']} MB) over {b['idle_rss_mb']} MB idle,"
            f" {b['seconds']} s"
        )
    return "memory: " + "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--big-mb", type=int, default=300)
    parser.add_argument("--only", choices=("pending", "big"))
    args = parser.parse_args()
    result = asyncio.run(run(args.pending, args.big_mb, args.only))
    emit(result, summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
