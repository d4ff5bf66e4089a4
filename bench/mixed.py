"""The real mix: five pull roads, legacy fonts, duplicates across roads and revisions, the raw
loop and the bridge in turn in one sitting, in the default configuration (one process).

The simulator host's `mixed` scenario puts N documents on tdoffice, moffice, voffice (zip
bundles), idesk (SOAP) and vxp (edXML) in turn, half of them on the next road too; a share of
the M-Office and iDesk subjects typed in TCVN3 or VNI; a share of tdoffice's documents revised
once. The raw loop (`bench.raw_ceiling`, in a process of its own) moves the same backlog with no
matching; the bridge catches it up, and each reports the time from the first source request to
the last write at home, its peak RSS (with any child process) and its CPU per record.

With `--push`, a third run: the same catch-up with signed tdoffice webhooks at 50/s arriving
meanwhile (latency from the POST to the create at home). With `--tree PATH`, a second bridge
(another checkout with its own `.venv`, e.g. the main branch) runs after this one, on the
same simulators' code, so a before/after pair comes from one sitting. The last run's daemon
log and store are kept in `bench/out/` (`mixed[-other][-push]-daemon.log`, `….sqlite3`).

    python -m bench.mixed [--docs 2000 | --full] [--push] [--tree /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    RssSampler,
    SimHost,
    cpu_split,
    daemon,
    daemon_config,
    emit,
    mb,
    memory_kb,
    percentile,
    simhost,
    store_rows,
    wait_for,
)
from bench.push import HOOK_SECRET, free_port, healthy

QUICK_DOCS = 2_000
FULL_DOCS = 20_000
DUP = 0.5  # with 30 % of tdoffice's documents revised: ~1.6 records per document
PUSH_RATE = 50.0
SETTLE_S = 2.0


def _keep(workdir: Path, name: str) -> None:
    """The run's daemon log and a copy of its store, in bench/out (the last run's of each)."""
    kept = ROOT / "bench" / "out"
    kept.mkdir(exist_ok=True)
    shutil.copy(workdir / "daemon.log", kept / f"{name}-daemon.log")
    store = workdir / "data" / "lienthong.sqlite3"
    if store.exists():
        with (
            contextlib.closing(sqlite3.connect(store)) as source,
            contextlib.closing(sqlite3.connect(kept / f"{name}.sqlite3")) as copy,
        ):
            source.backup(copy)


def scenario(docs: int) -> list[str]:
    return ["mixed", "--docs", str(docs), "--dup", str(DUP)]


async def raw_loop(docs: int) -> dict[str, Any]:
    """`bench.raw_ceiling` on the mixed scenario, in its own process (its RSS is its own)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.raw_ceiling", "--docs", str(docs),
        "--scenario", " ".join(scenario(docs)[:1] + scenario(docs)[3:]),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"bench.raw_ceiling exited {proc.returncode}")
    result: dict[str, Any] = json.loads(out.splitlines()[0])
    return result


def _pending(data_dir: Path) -> int:
    rows = store_rows(data_dir, "SELECT count(*) FROM outbox WHERE state = 'pending'")
    return int(rows[0][0]) if rows else 1


def _undecided(data_dir: Path) -> int:
    rows = store_rows(data_dir, "SELECT count(*) FROM records WHERE outcome IS NULL")
    return int(rows[0][0]) if rows else 1


async def _caught_up(host: SimHost, data_dir: Path, creates: int, timeout_s: float) -> None:
    """Every document created at home, every record decided, nothing left in the outbox."""

    async def done() -> bool:
        if int((await host.get("/stats"))["home_created"]) < creates:
            return False
        return _undecided(data_dir) == 0 and _pending(data_dir) == 0

    await wait_for(done, timeout_s=timeout_s, what=f"{creates} creates and an empty outbox")
    await asyncio.sleep(SETTLE_S)


async def bridge(docs: int, *, tree: Path | None = None, push_s: float = 0.0) -> dict[str, Any]:
    """One catch-up of the mixed backlog by the daemon of `tree` (this checkout by default)."""
    with tempfile.TemporaryDirectory(prefix="lienthong-mixed-") as tmp:
        workdir = Path(tmp)
        async with simhost(*scenario(docs)) as host:
            data_dir = workdir / "data"
            sources = [
                {**s, "webhook_secret": HOOK_SECRET} if s["profile"] == "tdoffice" else s
                for s in host.info["sources"]
            ]
            config = daemon_config(data_dir, sources, host.info["home"])
            port = free_port()
            config["http"]["listen"] = f"127.0.0.1:{port}"
            sim_cpu0 = (await host.get("/stats"))["cpu_s"]
            started = time.monotonic()
            async with daemon(config, workdir, tree=tree) as proc, RssSampler(proc.pid) as rss:
                push = None
                if push_s:
                    await wait_for(lambda: healthy(port), timeout_s=60, what="/healthz")
                    await asyncio.sleep(2.0)  # the backlog's pull well under way
                    push = asyncio.create_task(
                        host.post(
                            "/push",
                            {
                                "url": f"http://127.0.0.1:{port}/hooks/{sources[0]['name']}",
                                "secret": HOOK_SECRET,
                                "rate": PUSH_RATE,
                                "duration_s": push_s,
                                "wait_s": 300,
                            },
                            timeout_s=push_s + 600,
                        )
                    )
                pushed = round(PUSH_RATE * push_s)
                await _caught_up(
                    host, data_dir, int(host.info["documents"]) + pushed, 120 + docs / 10
                )
                answer = await push if push is not None else None
                user, system = cpu_split(proc.pid)
                hwm = memory_kb(proc.pid).get("VmHWM", 0)
            stats = await host.get("/stats")
        wall_s = time.monotonic() - started
        _keep(workdir, f"mixed{'-other' if tree else ''}{'-push' if push_s else ''}")
    records = int(host.info["records"]) + (answer["sent"] if answer else 0)
    elapsed = stats["last_write_s"] - stats["first_source_s"]
    result: dict[str, Any] = {
        "tree": str(tree or ROOT),
        "documents": host.info["documents"],
        "records": records,
        "revisions": host.info["revisions"],
        "created_at_home": stats["home_created"],
        "revised_at_home": stats["home_revised"],
        "elapsed_s": round(elapsed, 2),
        "wall_s": round(wall_s, 1),
        "peak_rss_mb": mb(max(rss.peak_rss_kb, hwm)),
        "peak_rss_with_children_mb": mb(rss.peak_total_kb),
        "cpu_s": round(user + system, 1),
        "user_s": round(user, 1),
        "sys_s": round(system, 1),
        "cpu_ms_per_record": round((user + system) * 1000 / records, 3),
        "simhost_cpu_s": round(stats["cpu_s"] - sim_cpu0, 1),
    }
    if answer is not None:
        latencies = sorted(answer["latencies_ms"])
        result["push"] = {
            "sent": answer["sent"],
            "delivered": answer["delivered"],
            "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
            "max_ms": round(latencies[-1], 1) if latencies else None,
        }
    return result


async def run(
    docs: int, *, push: bool, tree: Path | None, push_only: bool = False
) -> dict[str, Any]:
    """Raw loop, bridge (, the other tree's bridge) (, both with webhooks) in turn."""
    out: dict[str, Any] = {"benchmark": "mixed", "documents": docs}
    trees: list[tuple[str, Path | None]] = [("bridge", None)]
    if tree is not None:
        trees.append(("other", tree))
    if not push_only:
        out["raw"] = raw = await raw_loop(docs)
        emit(raw, raw_summary(raw))
    for name, where in [] if push_only else trees:
        out[name] = one = await bridge(docs, tree=where)
        one["ratio"] = round(one["elapsed_s"] / raw["elapsed_s"], 2)
        emit(one, bridge_summary(one))
    if push or push_only:
        for name, where in trees:
            out[f"{name}_push"] = one = await bridge(docs, tree=where, push_s=30.0)
            emit(one, bridge_summary(one))
    return out


def raw_summary(r: dict[str, Any]) -> str:
    return (
        f"raw loop: {r['records']} records ({r['documents']} documents) in {r['elapsed_s']} s,"
        f" peak RSS {r['loop_peak_rss_mb']} MB, CPU {r['loop_cpu_s']} s ="
        f" {r['loop_cpu_ms_per_record']} ms/record"
    )


def bridge_summary(r: dict[str, Any]) -> str:
    line = (
        f"bridge ({r['tree']}): {r['records']} records ({r['documents']} documents,"
        f" {r['revised_at_home']} revised at home) in {r['elapsed_s']} s"
        + (f" = {r['ratio']}x the raw loop" if "ratio" in r else "")
        + f", peak RSS {r['peak_rss_with_children_mb']} MB with children,"
        f" CPU {r['cpu_s']} s = {r['cpu_ms_per_record']} ms/record"
    )
    if (p := r.get("push")) is not None:
        line += (
            f"; push during the catch-up: {p['delivered']}/{p['sent']},"
            f" p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms, max {p['max_ms']} ms"
        )
    return line


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mixed")
    parser.add_argument("--docs", type=int, default=QUICK_DOCS)
    parser.add_argument("--full", action="store_true", help=f"{FULL_DOCS} documents")
    parser.add_argument("--push", action="store_true", help="also a run with webhooks at 50/s")
    parser.add_argument("--push-only", action="store_true", help="only the runs with webhooks")
    parser.add_argument("--tree", type=Path, help="another checkout whose bridge runs too")
    args = parser.parse_args()
    docs = FULL_DOCS if args.full else args.docs
    result = asyncio.run(run(docs, push=args.push, tree=args.tree, push_only=args.push_only))
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
