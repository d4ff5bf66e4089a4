"""The delivery process itself (`python -m bridge.delivery_process`), started by the daemon's
`bridge.delivery_link.DeliveryChild` when `bridge.delivery_process = true`.

It runs a daemon of role deliveries, built by the composition root like any daemon, and
talks to its parent over the inherited socket: wake-ups in, health and latencies out. When the
parent's end closes it stops, finishing the deliveries in hand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import orjson
import structlog

from bridge.app import build_daemon, load_config, run_loop
from bridge.delivery_link import MAX_LINE_BYTES, REPORT_S, health_report
from bridge.domain.enums import ProcessRole
from bridge.health import Health
from bridge.logging import configure

log = structlog.get_logger(__name__)


class Watcher(Protocol):
    """The supervisor, as the link uses it: watch a task of its own."""

    def watch(self, name: str, task: asyncio.Task[None]) -> None: ...


class ChildRuntime(Protocol):
    """What the link needs of the child's daemon: its sinks' health, their wake-up, its stop."""

    @property
    def stop(self) -> asyncio.Event: ...

    @property
    def supervisor(self) -> Watcher: ...

    def wake_sinks(self, names: Iterable[str]) -> None: ...

    def healths(self) -> dict[str, Health]: ...


class ParentLink:
    """The child's side: wake-ups in, health and latencies out; the daemon gone means stop."""

    def __init__(self, daemon: ChildRuntime, fd: int) -> None:
        self.daemon = daemon
        self.fd = fd
        self.latencies: list[tuple[str, float]] = []
        self._reported: dict[str, dict[str, Any]] = {}

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection(
            sock=socket.socket(fileno=self.fd), limit=MAX_LINE_BYTES
        )
        reporter = asyncio.create_task(self._report(writer), name="delivery-process-report")
        self.daemon.supervisor.watch("delivery-process-report", reporter)
        try:
            while line := await reader.readline():
                with contextlib.suppress(orjson.JSONDecodeError, AttributeError, TypeError):
                    self.daemon.wake_sinks(orjson.loads(line).get("wake") or ())
        finally:
            log.info("delivery_process_stopping")
            self.daemon.stop.set()  # the daemon closed its end, or went away
            reporter.cancel()
            await asyncio.gather(reporter, return_exceptions=True)
            await self._send(writer)  # what happened while stopping
            writer.close()

    async def _report(self, writer: asyncio.StreamWriter) -> None:
        while True:
            await asyncio.sleep(REPORT_S)
            await self._send(writer)

    async def _send(self, writer: asyncio.StreamWriter) -> None:
        report: dict[str, Any] = {}
        changed = {}
        for name, health in self.daemon.healths().items():
            now = health_report(health)
            if self._reported.get(name) != now:
                changed[name] = self._reported[name] = now
        if changed:
            report["health"] = changed
        if self.latencies:
            report["latency"], self.latencies = self.latencies, []
        if report and not writer.is_closing():
            writer.write(orjson.dumps(report) + b"\n")
            with contextlib.suppress(ConnectionError):
                await writer.drain()


async def serve(config_path: Path, fd: int) -> int:
    """Run the deliveries of the configuration at `config_path` until the parent goes."""
    daemon = build_daemon(load_config(config_path), config_path, role=ProcessRole.DELIVERIES)
    link = ParentLink(daemon, fd)
    daemon.latency_observer = lambda sink, seconds: link.latencies.append((sink, seconds))
    loop = asyncio.get_running_loop()
    # Ctrl-C reaches the whole process group: the daemon stops and closes our socket, which
    # stops us. SIGTERM (a service manager stopping everything) stops at once, gracefully.
    loop.add_signal_handler(signal.SIGINT, lambda: None)
    loop.add_signal_handler(signal.SIGTERM, daemon.stop.set)
    loop.add_signal_handler(signal.SIGHUP, daemon.request_reload)
    async with daemon:
        link_task = asyncio.create_task(link.run(), name="delivery-process-link")
        daemon.supervisor.watch("delivery-process-link", link_task)
        await daemon.stop.wait()
    link_task.cancel()  # after the deliveries in hand: their outcome is reported first
    await asyncio.gather(link_task, return_exceptions=True)
    return daemon.supervisor.exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridge.delivery_process")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--control-fd", required=True, type=int)
    args = parser.parse_args(argv)
    configure(load_config(args.config).bridge.log_level, cache=True)
    return run_loop(serve(args.config, args.control_fd))


if __name__ == "__main__":
    raise SystemExit(main())
