"""Daemons as real processes on one shared store: configurations, start, kill, /status.

The PostgreSQL server is the store suite's (`pg_server`); each test takes a fresh database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, UNIT_NAME, toml_of
from tests.store.conftest import fresh_pg_url, pg_server

ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 30.0

__all__ = ["fresh_pg_url", "pg_server"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cluster_config(
    data_dir: Path,
    *,
    database: str,
    port: int,
    sources: dict[str, TdofficeSim],
    home: TdofficeSim,
    instance: str | None = None,
    lease_ttl: float = 30.0,
    poll_s: float = 0.2,
) -> dict[str, Any]:
    """One unit reading tdoffice `sources` (by name) and delivering to the tdoffice `home`."""
    bridge: dict[str, Any] = {
        "data_dir": str(data_dir),
        "database": database,
        "shutdown_grace": 5,
        "lease_ttl": lease_ttl,
        "log_level": "info",
    }
    if instance is not None:
        bridge["instance"] = instance
    return {
        "bridge": bridge,
        "http": {"listen": f"127.0.0.1:{port}"},
        "units": [
            {
                "id": UNIT,
                "name": UNIT_NAME,
                "sources": [
                    {
                        "name": name,
                        "profile": "tdoffice",
                        "base_url": sim.base_url,
                        "api_key": sim.api_key,
                        "poll_interval": poll_s,
                    }
                    for name, sim in sources.items()
                ],
                "sinks": [
                    {
                        "name": "home",
                        "profile": "tdoffice",
                        "base_url": home.base_url,
                        "api_key": home.api_key,
                        "max_in_flight": 4,
                    }
                ],
            }
        ],
    }


@dataclass
class DaemonProcess:
    """`python -m bridge run --config …` with its own log file and HTTP port."""

    name: str
    config_path: Path
    port: int
    log_path: Path
    proc: asyncio.subprocess.Process | None = None
    starts: int = field(default=0)

    @classmethod
    def write(cls, name: str, folder: Path, config: dict[str, Any]) -> DaemonProcess:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.toml"
        path.write_text(toml_of(config), encoding="utf-8")
        port = int(config["http"]["listen"].rsplit(":", 1)[1])
        return cls(name, path, port, folder / f"{name}.log")

    async def start(self) -> None:
        log = self.log_path.open("ab")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bridge",
                "run",
                "--config",
                str(self.config_path),
                cwd=ROOT,
                stdout=log,
                stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        finally:
            log.close()
        self.starts += 1

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def signal(self, sig: int) -> int | None:
        """Send `sig` and wait (bounded) for the exit code; None when it was not running."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), timeout=STOP_TIMEOUT_S)
        self.proc = None
        return code

    async def kill(self) -> None:
        await self.signal(signal.SIGKILL)

    async def answers(self) -> bool:
        return await self.status() is not None

    async def status(self) -> dict[str, Any] | None:
        """GET /status, or None while the daemon is not answering yet."""
        timeout = aiohttp.ClientTimeout(total=5)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(f"http://127.0.0.1:{self.port}/status") as resp,
            ):
                if resp.status != 200:
                    return None
                body: dict[str, Any] = await resp.json()
                return body
        except (aiohttp.ClientError, TimeoutError):
            return None


@pytest.fixture
async def daemons() -> AsyncIterator[list[DaemonProcess]]:
    """Register daemons here: whatever still runs at the end of the test is killed."""
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        await daemon.kill()
