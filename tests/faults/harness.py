"""Shared pieces of the fault suites: the daemon as a subprocess, its HTTP API, the store file.

The daemon runs as `python -m bridge run --config FILE` with its output captured in one log
file; simulators live in the test process on 127.0.0.1. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from simulators.server import SimServer
from tests.e2e.harness import toml_of, wait_until

SimT = TypeVar("SimT", bound=SimServer)

ROOT = Path(__file__).resolve().parents[2]
UNIT = "000.00.33.H49"
UNIT_NAME = "Ủy ban nhân dân huyện Vân Đồn"

__all__ = [
    "ROOT",
    "UNIT",
    "UNIT_NAME",
    "DaemonProcess",
    "free_port",
    "home_identity",
    "toml_of",
    "wait_until",
]


def home_identity(body: dict[str, Any]) -> tuple[str, str, str, str]:
    """(issuer code, number, notation, date) of a document as the tdoffice home system holds it."""
    issuer = body.get("issuer") or {}
    return (
        str(issuer.get("organId")),
        str(body.get("codeNumber")),
        str(body.get("codeNotation")),
        str(body.get("promulgationDate")),
    )


def free_port() -> int:
    """A loopback port free right now (the daemon's HTTP server must be reachable by number)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sources_wiring(sim: Any, profile: str) -> dict[str, Any]:
    """Settings keys that point a source of `profile` at `sim` (the demo's own wiring)."""
    from simulators.wiring import WIRING

    return WIRING[profile](sim)


class DaemonProcess:
    """One configuration file, one data folder, one log; started and killed as often as needed."""

    def __init__(self, tmp: Path, config: dict[str, Any], *, token: str | None = None) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.token = token
        self.data_dir = tmp / "data"
        self.config_path = tmp / "lienthong.toml"
        self.log_path = tmp / "daemon.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.write_config(config)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "lienthong.sqlite3"

    def write_config(self, config: dict[str, Any]) -> None:
        config = {**config, "bridge": {**config.get("bridge", {}), "data_dir": str(self.data_dir)}}
        config["bridge"].setdefault("shutdown_grace", 5)
        http = dict(config.get("http", {}))
        http.setdefault("listen", f"127.0.0.1:{self.port}")
        config["http"] = http
        self.config_path.write_text(toml_of(config), encoding="utf-8")

    async def start(self, *, wait_ready: bool = True) -> None:
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
        if wait_ready:
            await wait_until(self.healthy, timeout_s=30, what="daemon /healthz")

    async def healthy(self) -> bool:
        try:
            status, _ = await self.get("/healthz", auth=False)
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False
        return status == 200

    async def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30) -> int:
        """Send `sig` (if still running) and wait for the exit code."""
        proc = self.proc
        assert proc is not None
        if proc.returncode is None:
            proc.send_signal(sig)
        return await asyncio.wait_for(proc.wait(), timeout=timeout_s)

    async def kill(self) -> int:
        return await self.stop(signal.SIGKILL)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def request(
        self, method: str, path: str, *, auth: bool = True, **kwargs: Any
    ) -> tuple[int, bytes]:
        headers = dict(kwargs.pop("headers", {}))
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        timeout = aiohttp.ClientTimeout(total=30)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, self.url + path, headers=headers, **kwargs) as resp,
        ):
            return resp.status, await resp.read()

    async def get(self, path: str, *, auth: bool = True) -> tuple[int, bytes]:
        return await self.request("GET", path, auth=auth)

    async def get_json(self, path: str) -> Any:
        status, body = await self.get(path)
        assert status == 200, f"GET {path}: {status} {body[:200]!r}"
        return json.loads(body)

    async def totals(self) -> dict[str, int]:
        return dict((await self.get_json("/status"))["totals"])

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Read the store file (daemon stopped or not) through a read-only connection."""
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return list(db.execute(sql, args).fetchall())
        finally:
            db.close()


async def run_cli(*args: str, timeout_s: float = 30) -> tuple[int, str, str]:
    """`python -m bridge ARGS` as a subprocess: exit code, stdout, stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"`lienthong {' '.join(args)}` did not exit in {timeout_s}s") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def push_object(sim: Any, doc: Any, files: dict[str, bytes]) -> dict[str, Any]:
    """A tdoffice wire document whose files `sim` serves, kept out of its inbox (push only)."""
    from adapters.tdoffice.payload import from_document

    file_ids = [
        sim.store_file(files[att.name], att.content_type, att.name) for att in doc.attachments
    ]
    obj: dict[str, Any] = from_document(
        doc, file_ids, document_id=sim.new_id(), version=1, updated_at="2026-03-02T08:00:00+07:00"
    )
    return obj


@asynccontextmanager
async def running(sim: SimT) -> AsyncIterator[SimT]:
    """A simulator listening on loopback for the block, typed as itself."""
    await sim.start()
    try:
        yield sim
    finally:
        await sim.close()
