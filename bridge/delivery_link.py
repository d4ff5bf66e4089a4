"""Deliveries in a process of their own (`bridge.delivery_process = true`): the daemon's side.

The event loop of one Python process is the limit during a catch-up: pulling, matching and
delivering share one core. With this setting the daemon starts a child process that runs the
sinks' delivery workers on the same store and blobs, while the daemon keeps the sources, the
processor, the status flow and the HTTP server. Each delivery is still claimed, prepared,
stored and marked through the store exactly as in one process.

The two talk over a socket pair, one JSON object per line:

- daemon to child: `{"wake": [sink, …]}` when the processor enqueued work or an operator
  replayed a dead letter (the child also looks every second on its own);
- child to daemon: `{"health": {sink: {…}}}` when a sink's health changed, and
  `{"latency": [[sink, seconds], …]}` for the delivery-latency metric, so the page and
  `/metrics` show the deliveries as before.

The child's side is `bridge.delivery_process` (`python -m bridge.delivery_process`).

If the child dies it is started again after a short wait (a delivery cut off half-way is
repeated with its idempotency key, as after a crash). When the daemon's end of the socket
closes, the child stops, finishing the deliveries in hand within the grace period.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import socket
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
import structlog

from bridge.health import Health
from bridge.latency import DELIVERY_LATENCY

log = structlog.get_logger(__name__)

RESTART_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # waits before starting a dead child again
REPORT_S = 0.5  # how often the child reports health and latencies
MAX_LINE_BYTES = 1 << 20
MAX_WAKE_BACKLOG_BYTES = 64 * 1024
_HEALTH_FIELDS = ("state", "failures", "last_error", "count", "standby")
_HEALTH_TIMES = ("last_success_at", "last_error_at")


class ForwardedWake:
    """Stands for a delivery worker's `wake` event in the daemon: `set()` tells the child."""

    def __init__(self, child: DeliveryChild, sink: str) -> None:
        self._child = child
        self._sink = sink

    def set(self) -> None:
        self._child.wake([self._sink])


class RemoteSink:
    """The daemon's runner for a sink whose deliveries run in the child."""

    def __init__(self, child: DeliveryChild, sink: str) -> None:
        self.wake = ForwardedWake(child, sink)

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()


class DeliveryChild:
    """The daemon's side: starts the child, keeps it running, forwards wake-ups, applies its
    reports to the endpoints' health and the latency metric."""

    def __init__(
        self,
        config_path: Path,
        health_of: Callable[[str], Health | None],
        grace_s: float,
        daemon_stop: asyncio.Event,
    ) -> None:
        self.config_path = config_path
        self.daemon_stop = daemon_stop
        self.health_of = health_of
        self.grace_s = grace_s
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def start(self) -> asyncio.Task[None]:
        """Start the child (raises when it cannot be started) and keep it running; returns the
        task that does (for the daemon's supervisor to watch)."""
        reader = await self._spawn()
        self._task = asyncio.create_task(self._supervise(reader), name="delivery-process")
        return self._task

    def reload(self) -> None:
        """The configuration file changed: the child reads it again (SIGHUP)."""
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGHUP)

    def wake(self, sinks: Iterable[str]) -> None:
        writer = self._writer
        if writer is None or writer.is_closing():
            return  # no child right now: it looks for due work as soon as it starts
        if writer.transport.get_write_buffer_size() > MAX_WAKE_BACKLOG_BYTES:
            return  # a child not reading: it still looks for due work every second
        writer.write(orjson.dumps({"wake": sorted(set(sinks))}) + b"\n")

    async def stop(self) -> None:
        """Close the child's socket (it finishes the deliveries in hand), wait for it to exit
        within the grace period, then kill it."""
        self._stopping = True
        if self._writer is not None:
            self._writer.close()
        proc = self._proc
        if proc is not None and proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), timeout=self.grace_s + 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _spawn(self) -> asyncio.StreamReader:
        ours, theirs = socket.socketpair()
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bridge.delivery_process",
                "--config", str(self.config_path), "--control-fd", str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
            )  # fmt: skip
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        reader, self._writer = await asyncio.open_connection(sock=ours, limit=MAX_LINE_BYTES)
        log.info("delivery_process_started", pid=self._proc.pid)
        return reader

    def _done(self) -> bool:
        return self._stopping or self.daemon_stop.is_set()

    async def _supervise(self, reader: asyncio.StreamReader) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.read_reports(reader)
            finally:
                if self._writer is not None:
                    self._writer.close()
            assert self._proc is not None
            code = await self._proc.wait()
            if self._done():
                return
            self.restarts += 1
            failures = 0 if loop.time() - started > 60 else failures + 1
            wait_s = RESTART_S[min(failures, len(RESTART_S) - 1)]
            log.error(
                "delivery_process_exited",
                code=code,
                restart_in_s=wait_s,
                reason="tiến trình gửi đi đã dừng bất thường / the delivery process exited",
            )
            while True:
                await asyncio.sleep(wait_s)
                if self._done():
                    return
                try:
                    reader = await self._spawn()
                    break
                except OSError as exc:
                    log.error("delivery_process_not_started", error=str(exc))

    async def read_reports(self, reader: asyncio.StreamReader) -> None:
        """Apply the child's reports until it closes its end. A line that is not a report is
        skipped; one over the size limit means the child is not speaking this protocol: it is
        killed, and started again like a child that died."""
        while True:
            try:
                line = await reader.readline()
            except ValueError:  # over MAX_LINE_BYTES
                log.error("delivery_process_report_too_long")
                if self._proc is not None and self._proc.returncode is None:
                    self._proc.kill()
                return
            if not line:
                return
            try:
                report = orjson.loads(line)
                for name, fields in (report.get("health") or {}).items():
                    health = self.health_of(name)
                    if health is not None:
                        apply_health(health, fields)
                for name, seconds in report.get("latency") or ():
                    DELIVERY_LATENCY.labels(name).observe(seconds)
            except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
                log.warning("delivery_process_report_unreadable", bytes=len(line))


def health_report(health: Health) -> dict[str, Any]:
    out: dict[str, Any] = {f: getattr(health, f) for f in _HEALTH_FIELDS}
    for f in _HEALTH_TIMES:
        value = getattr(health, f)
        out[f] = value.isoformat() if value is not None else None
    return out


def apply_health(health: Health, fields: dict[str, Any]) -> None:
    for f in _HEALTH_FIELDS:
        if f in fields:
            setattr(health, f, fields[f])
    for f in _HEALTH_TIMES:
        if f in fields:
            value = fields[f]
            setattr(health, f, dt.datetime.fromisoformat(value) if value else None)
