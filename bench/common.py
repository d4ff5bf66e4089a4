"""What every benchmark shares: the simulator host and daemon processes, /proc readings, output.

Benchmarks run the simulators (`python -m bench.simhost`) and the daemon (`python -m bridge
run`) as two separate processes, so the daemon's CPU and memory are measured on their own.
Each benchmark prints one JSON result line and one human summary line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
UNIT = "000.00.33.H49"
UNIT_NAME = "Ủy ban nhân dân huyện Vân Đồn"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ---- /proc ------------------------------------------------------------------------------


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, RssAnon and RssFile of a live process, in KiB (empty once it is gone)."""
    wanted = ("VmRSS", "VmHWM", "RssAnon", "RssFile")
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return {}
    out = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in wanted:
            out[key] = int(value.split()[0])
    return out


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process (with its threads and its running child
    processes: the delivery process) has used so far."""
    user, system = cpu_split(pid)
    return user + system


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, its threads and its running children."""
    user = system = 0.0
    for one in (pid, *_children(pid)):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rpartition(")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        user += int(fields[11]) / CLOCK_TICKS
        system += int(fields[12]) / CLOCK_TICKS
    return user, system


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [int(p) for p in text.split()]


@dataclass
class RssSampler:
    """Samples a process's RSS every `interval_s` in the background; keeps the peaks (KiB)."""

    pid: int
    interval_s: float = 0.05
    peak_rss_kb: int = 0
    peak_anon_kb: int = 0
    peak_total_kb: int = 0  # with its child processes (the delivery process)
    samples: int = 0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def _run(self) -> None:
        while True:
            mem = memory_kb(self.pid)
            if mem:
                self.peak_rss_kb = max(self.peak_rss_kb, mem.get("VmRSS", 0))
                self.peak_anon_kb = max(self.peak_anon_kb, mem.get("RssAnon", 0))
                children = sum(memory_kb(c).get("VmRSS", 0) for c in _children(self.pid))
                self.peak_total_kb = max(self.peak_total_kb, mem.get("VmRSS", 0) + children)
                self.samples += 1
            await asyncio.sleep(self.interval_s)

    def reset(self) -> None:
        self.peak_rss_kb = self.peak_anon_kb = self.peak_total_kb = self.samples = 0

    async def __aenter__(self) -> RssSampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


# ---- processes --------------------------------------------------------------------------


@dataclass
class SimHost:
    """A running `bench.simhost`: its process and what it printed (URLs, wiring, control)."""

    proc: asyncio.subprocess.Process
    info: dict[str, Any]

    @property
    def control(self) -> str:
        return str(self.info["control"])

    async def get(self, path: str, timeout_s: float = 30) -> dict[str, Any]:
        return await http_json("GET", self.control + path, timeout_s=timeout_s)

    async def post(self, path: str, body: Any = None, timeout_s: float = 30) -> dict[str, Any]:
        return await http_json("POST", self.control + path, body, timeout_s=timeout_s)


async def http_json(
    method: str, url: str, body: Any = None, *, timeout_s: float = 30
) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.request(method, url, json=body) as resp,
    ):
        resp.raise_for_status()
        result: dict[str, Any] = await resp.json()
        return result


@contextlib.asynccontextmanager
async def simhost(*args: str, ready_timeout_s: float = 180) -> AsyncIterator[SimHost]:
    """Start `python -m bench.simhost ARGS` and wait for its JSON line; stopped on exit."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.simhost", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=None,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=ready_timeout_s)
        if not line:
            raise RuntimeError(f"bench.simhost {' '.join(args)} exited before it was ready")
        yield SimHost(proc, json.loads(line))
    finally:
        await stop_process(proc)


async def stop_process(proc: asyncio.subprocess.Process, timeout_s: float = 30) -> int | None:
    """SIGTERM, then SIGKILL after `timeout_s`; returns the exit code."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout=timeout_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    return proc.returncode


@contextlib.asynccontextmanager
async def daemon(
    config: dict[str, Any], workdir: Path, *, tree: Path | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Write `config` as TOML in `workdir` and run `python -m bridge run` on it (log to a file).

    `tree`: another checkout of lienthong (with its own `.venv`) whose daemon runs instead of
    this one's, so an old and a new tree meet the same simulators in one sitting."""
    config_path = workdir / "lienthong.toml"
    config_path.write_text(toml_of(config), encoding="utf-8")
    python = str(tree / ".venv" / "bin" / "python") if tree is not None else sys.executable
    profiler = os.environ.get("DAEMON_CPROFILE")
    with (workdir / "daemon.log").open("ab") as log:
        proc = await asyncio.create_subprocess_exec(
            python, *(["-m", "cProfile", "-o", profiler] if profiler else []),
            "-m", "bridge", "run", "--config", str(config_path),
            cwd=tree or ROOT, stdout=log, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        yield proc
    finally:
        code = await stop_process(proc)
        if code not in (0, None, -signal.SIGTERM):
            print(f"daemon exited {code}; see {workdir / 'daemon.log'}", file=sys.stderr)


def daemon_config(
    data_dir: Path,
    sources: list[dict[str, Any]],
    home: dict[str, Any],
    *,
    poll_s: float = 0.5,
    max_in_flight: int = 16,
    delivery_process: bool = False,
) -> dict[str, Any]:
    """One unit receiving on `sources` (wiring dicts with name and profile) into `home`.

    No bound on the requests per second to each simulator (`remote_rate_limit = 0`): these
    benchmarks measure what the bridge itself can move."""
    bridge: dict[str, Any] = {"data_dir": str(data_dir), "shutdown_grace": 5}
    if delivery_process:
        bridge["delivery_process"] = True
    return {
        "bridge": bridge,
        "http": {"listen": "127.0.0.1:0"},
        "units": [
            {
                "id": UNIT,
                "name": UNIT_NAME,
                "sources": [
                    {"poll_interval": poll_s, "remote_rate_limit": 0, **s} for s in sources
                ],
                "sinks": [{"max_in_flight": max_in_flight, "remote_rate_limit": 0, **home}],
            }
        ],
    }


def toml_of(config: dict[str, Any]) -> str:
    """TOML for the small configuration dicts benchmarks build (scalars, tables of units)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        return json.dumps(str(v), ensure_ascii=False)

    lines = []
    for section in ("bridge", "http"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {value(v)}" for k, v in config.get(section, {}).items()]
    for unit in config["units"]:
        lines.append("[[units]]")
        lines += [f"{k} = {value(v)}" for k, v in unit.items() if k not in ("sources", "sinks")]
        for kind in ("sources", "sinks"):
            for endpoint in unit.get(kind, []):
                lines.append(f"[[units.{kind}]]")
                lines += [f"{k} = {value(v)}" for k, v in endpoint.items()]
    return "\n".join(lines) + "\n"


def store_rows(data_dir: Path, sql: str) -> list[Any]:
    """Rows from the daemon's SQLite file, read-only and WAL-safe; none while it is not there
    (or not migrated) yet."""
    path = data_dir / "lienthong.sqlite3"
    if not path.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            return db.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def outbox_counts(data_dir: Path) -> dict[str, int]:
    """Outbox rows by state."""
    rows = store_rows(data_dir, "SELECT state, count(*) FROM outbox GROUP BY state")
    return {str(state): int(n) for state, n in rows}


async def wait_for(
    predicate: Callable[[], Any], *, timeout_s: float, what: str, every_s: float = 0.2
) -> None:
    """Poll `predicate` (sync or async) until true; AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


# ---- output -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[max(0, round(q * 10) - 1)]


def emit(result: dict[str, Any], summary: str) -> None:
    """Print the JSON result line, then the one-line summary."""
    print(json.dumps(result, ensure_ascii=False), flush=True)
    print(summary, flush=True)


def mb(kb: int | float) -> float:
    return round(kb / 1024, 1)
