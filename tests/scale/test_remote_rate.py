"""Calls of many units to one remote system share one connection pool and one rate: the
simulator, counting what arrives, never sees more than the bound in any second."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiohttp import web

from adapters._http import client_session, request
from adapters._pools import close_session, rate_of
from bridge.blobs import BlobStore
from bridge.interfaces import AdapterContext, Limits
from simulators.server import SimServer

RATE = 20.0
UNITS = 30
CALLS_PER_UNIT = 3


class Counting(SimServer):
    """Answers `ok` to anything under /thing; the base class records each arrival."""

    def __init__(self) -> None:
        super().__init__()
        self.app.router.add_route("*", "/thing/{n}", self._thing)

    async def _thing(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")


def _ctx(tmp_path: Path, unit: int, rate: float | None) -> AdapterContext:
    return AdapterContext(
        units=(f"U{unit}",),
        blobs=BlobStore(tmp_path / "blobs"),
        limits=Limits(remote_rate_limit=rate),
    )


async def test_units_share_one_rate_and_one_pool(tmp_path: Path) -> None:
    async with Counting() as sim:
        # every unit asks for RATE, one for twice as much: the smallest holds for all of them
        sessions = [
            client_session(_ctx(tmp_path, u, 2 * RATE if u == 0 else RATE)) for u in range(UNITS)
        ]
        try:
            assert len({id(s.connector) for s in sessions}) == 1, "one pool for the system"
            pool = sessions[0].connector
            assert pool is not None

            async def unit(n: int) -> None:
                for i in range(CALLS_PER_UNIT):
                    url = f"{sim.base_url}/thing/{n}-{i}"
                    async with request(sessions[n], "GET", url, what="thing") as resp:
                        assert await resp.text() == "ok"

            started = time.monotonic()
            await asyncio.gather(*(unit(n) for n in range(UNITS)))
            elapsed = time.monotonic() - started
            assert rate_of(sim.base_url + "/x") == RATE
        finally:
            for s in sessions:
                await close_session(s)
        total = UNITS * CALLS_PER_UNIT
        assert len(sim.requests) == total
        assert sim.busiest_second() <= RATE, "never more than the rate in any second"
        assert elapsed >= (total - 1) / RATE * 0.95, "the calls waited for their tokens"
        assert pool.closed, "the last session closed closed the shared pool"


async def test_a_second_system_has_its_own_bucket(tmp_path: Path) -> None:
    """Bounding one system does not slow another."""
    async with Counting() as slow, Counting() as fast:
        bounded = client_session(_ctx(tmp_path, 1, 2.0))
        free = client_session(_ctx(tmp_path, 2, None))
        try:
            async with request(bounded, "GET", f"{slow.base_url}/thing/a", what="a"):
                pass
            started = time.monotonic()
            for i in range(20):
                async with request(free, "GET", f"{fast.base_url}/thing/{i}", what="b"):
                    pass
            assert time.monotonic() - started < 2.0
            assert rate_of(fast.base_url) is None
        finally:
            await close_session(bounded)
            await close_session(free)
