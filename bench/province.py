"""A province on one instance: 300 units × 5 roads, idle and after a burst.

    .venv/bin/python -m bench.province [--units 300] [--poll 60] [--idle 180] [--docs 5000]
    .venv/bin/python -m bench.province --short     # 300 units, polls every 20 s, 1,000 documents

The simulators of every profile host all the units in one process (`bench.province_sims`),
the daemon runs as `python -m bridge run` on the configuration `province_config` makes. It
measures, on the daemon alone:

- idle CPU (% of one core) over `--idle` seconds with nothing to receive: overall, the
  median second, and the seconds in which no source polled (if any);
- sources polling in any one second (listings counted at the simulators): the busiest
  second must stay within a tenth of the sources;
- RSS and open files idle, and after a burst of `--docs` documents to every unit by every
  road; the burst delivered once each (creates counted at the home system by identity);
- the busiest second of requests at the home system, and of its status questions, against
  the rates configured.

The configuration is the one a province keeps (`bench.province_config.write_province`:
`[defaults]` and `units.csv`), with the rates of the options in `[defaults]`. `--root DIR`
runs the daemon from another checkout (the same benchmark on older code: `git archive REV |
tar -x -C DIR`); `--plain` leaves out the keys older code does not know.
Prints one JSON line and one summary line with PASS/FAIL against the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    RssSampler,
    cpu_s,
    emit,
    http_json,
    mb,
    memory_kb,
    stop_process,
    wait_for,
)
from bench.province_config import ProvinceFiles, province_units, write_province
from bridge.unit_table import HOME

TARGETS = {
    "idle_cpu_pct": 5.0,
    "quiet_cpu_pct": 1.0,
    "polling_share": 0.1,
    "rss_idle_mb": 200.0,
    "rss_burst_mb": 300.0,
}


def province_files(
    wiring: dict[str, Any],
    work: Path,
    *,
    units: int,
    poll_s: float,
    listen: str,
    options: dict[str, Any],
) -> ProvinceFiles:
    """The benchmark's configuration as a province keeps it (bench.province_config: the
    shared addresses and settings once in `[defaults]`, the units in `units.csv`), with the
    rates of `options` added to the defaults."""
    sink = {"base_url": wiring["urls"][HOME], **options.get("tdoffice", {}).get("sink", {})}
    options = {**options, "tdoffice": {**options.get("tdoffice", {}), "sink": sink}}
    return write_province(
        work,
        province_units(units),
        wiring["urls"],
        poll_interval=poll_s,
        bridge={"shutdown_grace": 5, "log_level": "info"},
        http={"listen": listen},
        defaults=options,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def open_files(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except FileNotFoundError:
        return 0


@contextlib.asynccontextmanager
async def _process(
    args: list[str], cwd: Path, log: Path | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    out = log.open("ab") if log is not None else None
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=cwd,
        stdout=out or asyncio.subprocess.PIPE, stderr=out,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    try:
        yield proc
    finally:
        await stop_process(proc)
        if out is not None:
            out.close()


async def _idle(pid: int, control: str, seconds: float) -> dict[str, Any]:
    """CPU of the daemon second by second, and the sources' polls, over `seconds`."""
    per_second: list[tuple[int, float]] = []
    start = time.monotonic()
    last_cpu, last_t = cpu_s(pid), start
    while time.monotonic() - start < seconds:
        await asyncio.sleep(1.0 - (time.monotonic() - last_t) % 1.0)
        now, cpu = time.monotonic(), cpu_s(pid)
        per_second.append((int(last_t), (cpu - last_cpu) / (now - last_t)))
        last_cpu, last_t = cpu, now
    stats = await http_json("GET", f"{control}/stats?since={int(start) + 1}&until={int(last_t)}")
    polled = {int(s) for s in stats["listings_per_second"]}
    shares = [share for s, share in per_second if int(start) + 1 <= s < int(last_t)]
    quiet = [share for s, share in per_second if s not in polled]
    return {
        "seconds": round(last_t - start, 1),
        "cpu_pct": round(100 * statistics.fmean(shares), 2) if shares else None,
        "median_second_cpu_pct": round(100 * statistics.median(shares), 2) if shares else None,
        "quiet_seconds": len(quiet),
        "quiet_cpu_pct": round(100 * statistics.fmean(quiet), 2) if quiet else None,
        "max_polls_per_s": stats["listings"]["max_per_s"],
        "polls": stats["listings"]["total"],
        "home_requests_max_per_s": stats["home_requests"]["max_per_s"],
    }


async def _status_times(listen: str) -> dict[str, Any]:
    """How long /status takes whole and as a first page, and how big each is."""
    out = {}
    for name, query in (("full", ""), ("page", "?limit=50")):
        started = time.monotonic()
        body = await http_json("GET", f"http://{listen}/status{query}", timeout_s=60)
        out[name] = {
            "s": round(time.monotonic() - started, 3),
            "kb": round(len(json.dumps(body)) / 1024),
        }
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(args.root) if args.root else ROOT
    work = Path(tempfile.mkdtemp(prefix="bench-province-"))
    sims_args = ["-m", "bench.province_sims", "--units", str(args.units)]
    async with _process(sims_args, ROOT) as sims:
        assert sims.stdout is not None
        wiring = json.loads(await asyncio.wait_for(sims.stdout.readline(), timeout=300))
        control = str(wiring["control"])
        listen = f"127.0.0.1:{_free_port()}"
        options: dict[str, Any] = {"tdoffice": {"sink": {"status_poll_interval": args.poll}}}
        if not args.plain:
            options = {
                "remote_rate_limit": args.remote_rate,
                "tdoffice": {
                    "sink": {
                        "status_poll_interval": args.poll,
                        "remote_rate_limit": args.home_rate,
                        "status_rate_limit": args.status_rate,
                    }
                },
            }
        files = province_files(
            wiring, work, units=args.units, poll_s=args.poll, listen=listen, options=options
        )
        config_path = files.config
        result: dict[str, Any] = {
            "benchmark": "province",
            "units": args.units,
            "sources": 5 * args.units,
            "poll_s": args.poll,
            "config_kb": {k: round(v / 1024) for k, v in files.sizes().items()},
            "root": str(root),
            "rates": options,
        }
        daemon_args = ["-m", "bridge", "run", "--config", str(config_path)]
        async with _process(daemon_args, root, work / "daemon.log") as daemon:
            pid = daemon.pid
            await wait_for(
                lambda: open_files(pid) > 0 and daemon.returncode is None,
                timeout_s=30,
                what="the daemon",
            )
            await asyncio.sleep(args.warmup if args.warmup is not None else 2 * args.poll + 5)
            idle_from = time.time()
            result["idle"] = await _idle(pid, control, args.idle)
            result["idle"]["log_lines_per_min"] = _log_rate(
                work / "daemon.log", idle_from, time.time()
            )
            result["rss_idle_mb"] = mb(memory_kb(pid).get("VmRSS", 0))
            result["open_files_idle"] = open_files(pid)
            result["status"] = await _status_times(listen)
            async with RssSampler(pid, interval_s=0.5) as rss:
                fds_peak = 0
                burst_start = time.monotonic()
                await http_json("POST", f"{control}/burst", {"docs": args.docs}, timeout_s=600)

                async def delivered() -> bool:
                    nonlocal fds_peak
                    fds_peak = max(fds_peak, open_files(pid))
                    stats = await http_json("GET", f"{control}/stats")
                    return bool(stats["creates"] >= args.docs)

                await wait_for(delivered, timeout_s=args.timeout, what="the burst", every_s=1.0)
                burst_s = time.monotonic() - burst_start
                await asyncio.sleep(args.settle)
                fds_peak = max(fds_peak, open_files(pid))
            stats = await http_json(
                "GET", f"{control}/stats?since={int(burst_start)}&until={int(time.monotonic())}"
            )
            result["burst"] = {
                "documents": args.docs,
                "delivered_s": round(burst_s, 1),
                "created": stats["created_documents"],
                "created_twice": stats["created_twice"],
                "home_requests_max_per_s": stats["home_requests"]["max_per_s"],
                "home_status_max_per_s": stats["home_status"]["max_per_s"],
                "home_status_total": stats["home_status"]["total"],
                "rss_peak_mb": mb(rss.peak_rss_kb),
                "rss_after_mb": mb(memory_kb(pid).get("VmRSS", 0)),
                "open_files_peak": fds_peak,
            }
    result["verdicts"] = _verdicts(result, args)
    return result


def _log_rate(log: Path, since: float, until: float) -> float | None:
    """The daemon's log lines per minute between two wall-clock times."""
    count = 0
    try:
        with log.open("rb") as f:
            for line in f:
                try:
                    stamp = json.loads(line)["timestamp"]
                except (ValueError, KeyError):
                    continue
                at = dt.datetime.fromisoformat(stamp).timestamp()
                count += since <= at < until
    except FileNotFoundError:
        return None
    return round(count / ((until - since) / 60), 1)


def _verdicts(r: dict[str, Any], args: argparse.Namespace) -> dict[str, bool]:
    idle, burst = r["idle"], r["burst"]
    verdicts = {
        "idle_cpu": (idle["cpu_pct"] or 0) <= TARGETS["idle_cpu_pct"],
        "polling_share": idle["max_polls_per_s"] <= TARGETS["polling_share"] * r["sources"],
        "rss_idle": r["rss_idle_mb"] <= TARGETS["rss_idle_mb"],
        "rss_burst": burst["rss_peak_mb"] <= TARGETS["rss_burst_mb"],
        "delivered_once": burst["created"] == args.docs and burst["created_twice"] == 0,
    }
    quiet = (
        idle["quiet_cpu_pct"]
        if idle["quiet_cpu_pct"] is not None
        else idle["median_second_cpu_pct"]
    )
    verdicts["quiet_cpu"] = (quiet or 0) <= TARGETS["quiet_cpu_pct"]
    if not args.plain:
        verdicts["home_rate"] = burst["home_requests_max_per_s"] <= args.home_rate
        verdicts["status_rate"] = burst["home_status_max_per_s"] <= args.status_rate
    return verdicts


def summary(r: dict[str, Any]) -> str:
    idle, burst = r["idle"], r["burst"]
    failed = [k for k, ok in r["verdicts"].items() if not ok]
    return (
        f"province: {r['units']} units, {r['sources']} sources, polls every {r['poll_s']} s;"
        f" idle CPU {idle['cpu_pct']} % (median second {idle['median_second_cpu_pct']} %,"
        f" quiet seconds {idle['quiet_cpu_pct']} %), busiest second {idle['max_polls_per_s']}"
        f" polls, {idle['log_lines_per_min']} log lines/min; RSS idle {r['rss_idle_mb']} MB,"
        f" {r['open_files_idle']} files;"
        f" burst {burst['documents']} docs in {burst['delivered_s']} s, {burst['created']} created"
        f" ({burst['created_twice']} twice), RSS peak {burst['rss_peak_mb']} MB,"
        f" files peak {burst['open_files_peak']}; home busiest second"
        f" {burst['home_requests_max_per_s']} requests, {burst['home_status_max_per_s']} status;"
        f" {'PASS' if not failed else 'FAIL: ' + ', '.join(failed)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.province")
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--poll", type=float, default=60.0, help="sources' poll interval (s)")
    parser.add_argument("--idle", type=float, default=180.0, help="idle window measured (s)")
    parser.add_argument("--warmup", type=float, default=None, help="before it (2 polls + 5 s)")
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--settle", type=float, default=None, help="after it (a poll + 30 s)")
    parser.add_argument("--timeout", type=float, default=900.0, help="for the burst (s)")
    parser.add_argument("--remote-rate", type=float, default=100.0, help="per source system")
    parser.add_argument("--home-rate", type=float, default=200.0, help="per home system")
    parser.add_argument("--status-rate", type=float, default=5.0, help="status questions/s")
    parser.add_argument("--root", default=None, help="run the daemon from this checkout")
    parser.add_argument("--plain", action="store_true", help="no keys older code lacks")
    parser.add_argument("--short", action="store_true", help="polls 20 s, idle 60 s, 1,000 docs")
    args = parser.parse_args(argv)
    if args.short:
        args.poll, args.idle, args.docs = 20.0, 60.0, 1000
    if args.settle is None:  # long enough for the status of the burst to be asked
        args.settle = args.poll + 30.0
    result = asyncio.run(run(args))
    emit(result, summary(result))
    return 0 if all(result["verdicts"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
