"""Catch-up: a backlog on four sources of one unit, from the first pull to the last delivery.

20,000 documents (a quarter of them by two roads) wait on tdoffice, moffice, voffice and idesk
simulators; the daemon starts on an empty store and delivers each document once to a tdoffice
home sink. Reports documents/s on the simulators' clock, the daemon's peak RSS and CPU, and
the simulator host's CPU (to show the simulators were not the bottleneck). With `--profile`,
py-spy samples the daemon and the hottest functions of our code are listed.

With `--stages`, one more run on fresh simulators with the home sink down: how long pulling
and matching the backlog takes with no delivery sharing the process (its CPU is then a floor
for any arrangement of the work).

    python -m bench.catchup [--docs 20000] [--profile] [--runs 1] [--stages]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    RssSampler,
    SimHost,
    cpu_s,
    cpu_split,
    daemon,
    daemon_config,
    emit,
    mb,
    memory_kb,
    outbox_counts,
    simhost,
    store_rows,
    wait_for,
)

SETTLE_S = 2.0  # after the last expected create, how long to watch for a doubled delivery


async def run_once(
    docs: int, workdir: Path, *, profile: bool = False, delivery_process: bool = False
) -> dict[str, Any]:
    """One catch-up on fresh simulators and an empty store."""
    async with simhost("catchup", "--docs", str(docs)) as host:
        expected = int(host.info["documents"])
        data_dir = workdir / "data"
        config = daemon_config(
            data_dir, host.info["sources"], host.info["home"], delivery_process=delivery_process
        )
        sim_cpu0 = (await host.get("/stats"))["cpu_s"]
        started = time.monotonic()
        async with daemon(config, workdir) as proc, RssSampler(proc.pid, 0.1) as rss:
            spy = await _start_spy(proc.pid, workdir) if profile else None
            await _wait_delivered(host, expected, timeout_s=60 + docs / 20)
            daemon_cpu = cpu_s(proc.pid)
            daemon_user, daemon_sys = cpu_split(proc.pid)
            memory = memory_kb(proc.pid)
            if spy is not None:
                await _stop_spy(spy)
        stats = await host.get("/stats")
        wall_s = time.monotonic() - started
    elapsed = stats["last_create_s"] - stats["first_source_s"]
    result = {
        "documents": expected,
        "records": host.info["records"],
        "created_at_home": stats["home_created"],
        "elapsed_s": round(elapsed, 2),
        "docs_per_s": round(expected / elapsed, 1),
        "peak_rss_mb": mb(max(rss.peak_rss_kb, memory.get("VmHWM", 0))),
        "peak_rss_with_children_mb": mb(rss.peak_total_kb),
        "daemon_cpu_s": round(daemon_cpu, 1),
        "daemon_user_s": round(daemon_user, 1),
        "daemon_sys_s": round(daemon_sys, 1),
        "simhost_cpu_s": round(stats["cpu_s"] - sim_cpu0, 1),
        "wall_s": round(wall_s, 1),
        "outbox": outbox_counts(data_dir),
        "delivery_process": delivery_process,
    }
    if profile:
        result["profile"] = str(workdir / "profile.folded")
        result["hotspots"] = hotspots(workdir / "profile.folded")
    return result


async def run_pull_only(docs: int, workdir: Path) -> dict[str, Any]:
    """The backlog pulled and matched with the home sink answering 503: until every record
    has an outcome. Deliveries only probe the dead sink now and then."""
    async with simhost("catchup", "--docs", str(docs)) as host:
        await host.post("/home", {"down": True})
        records = int(host.info["records"])
        data_dir = workdir / "data"
        config = daemon_config(data_dir, host.info["sources"], host.info["home"])
        started = time.monotonic()
        async with daemon(config, workdir) as proc:

            async def all_decided() -> bool:
                return _decided(data_dir) >= records

            await wait_for(all_decided, timeout_s=60 + docs / 20, what="every record decided")
            elapsed = time.monotonic() - started
            daemon_cpu = cpu_s(proc.pid)
    return {
        "records": records,
        "pull_and_match_s": round(elapsed, 2),
        "records_per_s": round(records / elapsed, 1),
        "daemon_cpu_s": round(daemon_cpu, 1),
    }


def _decided(data_dir: Path) -> int:
    rows = store_rows(data_dir, "SELECT count(*) FROM records WHERE outcome IS NOT NULL")
    return int(rows[0][0]) if rows else 0


async def _wait_delivered(host: SimHost, expected: int, *, timeout_s: float) -> None:
    async def done() -> bool:
        return int((await host.get("/stats"))["home_created"]) >= expected

    await wait_for(done, timeout_s=timeout_s, what=f"{expected} creates at home", every_s=0.25)
    await asyncio.sleep(SETTLE_S)


async def _start_spy(pid: int, workdir: Path) -> asyncio.subprocess.Process:
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    return await asyncio.create_subprocess_exec(
        spy, "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "--gil",
        "--output", str(workdir / "profile.folded"), "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def _stop_spy(spy: asyncio.subprocess.Process) -> None:
    spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
    try:
        await asyncio.wait_for(spy.wait(), timeout=30)
    except TimeoutError:
        spy.kill()
        await spy.wait()


def hotspots(folded: Path, top: int = 15) -> list[dict[str, Any]]:
    """The functions of our code (bridge/, adapters/, schemas/) by share of samples.

    `inclusive_pct`: samples with the function anywhere on the stack; `self_pct`: samples
    with it on top (ignoring library frames above it).
    """
    if not folded.exists():
        return []
    total = 0
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        ours = [_frame_name(f) for f in stack.split(";") if _is_ours(f)]
        for name in set(ours):
            inclusive[name] += count
        if ours:
            own[ours[-1]] += count
    if total == 0:
        return []
    return [
        {
            "function": name,
            "inclusive_pct": round(100 * n / total, 1),
            "self_pct": round(100 * own[name] / total, 1),
        }
        for name, n in inclusive.most_common(top)
    ]


def _is_ours(frame: str) -> bool:
    return any(
        f"({part}/" in frame or f"{ROOT}/{part}/" in frame
        for part in ("bridge", "adapters", "schemas")
    )


def _frame_name(frame: str) -> str:
    """`function (path/to/module.py:line)` → `module.py:function`."""
    name, _, where = frame.partition(" (")
    path = where.split(":")[0].removeprefix(f"{ROOT}/")
    return f"{path}:{name.strip()}"


async def run(
    docs: int,
    runs: int,
    *,
    profile: bool = False,
    stages: bool = False,
    delivery_process: bool = False,
) -> dict[str, Any]:
    results = []
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="lienthong-catchup-") as tmp:
            results.append(
                await run_once(
                    docs, Path(tmp), profile=profile and i == 0, delivery_process=delivery_process
                )
            )
            kept = ROOT / "bench" / "out"
            kept.mkdir(exist_ok=True)
            shutil.copy(Path(tmp) / "daemon.log", kept / "catchup-daemon.log")  # the last run's
            if profile and i == 0:
                kept = ROOT / "bench" / "out"
                kept.mkdir(exist_ok=True)
                shutil.copy(results[-1]["profile"], kept / "catchup-profile.folded")
                results[-1]["profile"] = str(kept / "catchup-profile.folded")
    rates = [r["docs_per_s"] for r in results]
    median = statistics.median(rates)
    chosen = min(results, key=lambda r: abs(r["docs_per_s"] - median))
    out = {"benchmark": "catchup", "runs": results, "median_docs_per_s": median, **chosen}
    if stages:
        with tempfile.TemporaryDirectory(prefix="lienthong-catchup-") as tmp:
            out["pull_only"] = await run_pull_only(docs, Path(tmp))
    return out


def summary(r: dict[str, Any]) -> str:
    line = (
        f"catch-up{' (delivery process)' if r.get('delivery_process') else ''}:"
        f" {r['documents']} documents ({r['records']} records) in {r['elapsed_s']} s ="
        f" {r['docs_per_s']} docs/s, peak RSS {r['peak_rss_mb']} MB"
        + (
            f" ({r['peak_rss_with_children_mb']} MB with the delivery process)"
            if r.get("delivery_process")
            else ""
        )
        + ", daemon CPU"
        f" {r['daemon_cpu_s']} s, simulators CPU {r['simhost_cpu_s']} s"
    )
    if (pull := r.get("pull_only")) is not None:
        line += (
            f"; pull and match only (home down): {pull['pull_and_match_s']} s ="
            f" {pull['records_per_s']} records/s, daemon CPU {pull['daemon_cpu_s']} s"
        )
    return line


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.catchup")
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="sample the daemon with py-spy")
    parser.add_argument(
        "--stages", action="store_true", help="also time pulling and matching with the home down"
    )
    parser.add_argument(
        "--delivery-process", action="store_true", help="deliveries in a process of their own"
    )
    args = parser.parse_args()
    result = asyncio.run(
        run(
            args.docs,
            args.runs,
            profile=args.profile,
            stages=args.stages,
            delivery_process=args.delivery_process,
        )
    )
    emit(result, summary(result))
    for spot in result.get("hotspots", []):
        print(
            f"  {spot['inclusive_pct']:5.1f}% incl {spot['self_pct']:5.1f}% self  {spot['function']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
