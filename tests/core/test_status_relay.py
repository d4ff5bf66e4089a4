"""The edXML status relay against the real axis simulator and a SQLite file: a success
resets its backoff, and a message that keeps failing does not hold the others back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from adapters import registry
from adapters.vxp.message import StatusMessage
from adapters.vxp.settings import VxpSettings
from bridge.blobs import BlobStore
from bridge.health import Health
from bridge.interfaces import AdapterContext, StatusSender
from bridge.status_messages import StatusRelay
from bridge.store import Outcome, SqliteStore, StatusReply
from simulators.server import Handler
from simulators.vxp import DEFAULT_SECRET, DEFAULT_SYSTEM, VxpSim
from tests.e2e.harness import wait_until
from tests.store.conftest import raw

SOURCE = "axis"
GOOD, BAD = "000.00.33.H49", "000.00.99.H49"  # the units a status message is sent from
ISSUER = {"code": "000.00.05.H49", "name": "Sở Tài chính tỉnh Quảng Ninh"}


@dataclass
class SendFaults:
    """Answers 503 to `sendEdoc` for the first `first` calls, and for every call sent from
    an organ in `from_organs` (the sender is a signed header, so the message is not read)."""

    first: int = 0
    from_organs: set[str] = field(default_factory=set)
    calls: int = 0
    refused: int = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != "/sendEdoc":
            return await handler(request)
        self.calls += 1
        if self.calls <= self.first or request.headers.get("XroadVnpt-from") in self.from_organs:
            self.refused += 1
            return web.json_response({"error": "unavailable"}, status=503)
        return await handler(request)


@dataclass
class Bench:
    store: SqliteStore
    relay: StatusRelay
    axis: VxpSim
    enqueued_at: dict[int, float] = field(default_factory=dict)
    numbers: int = 0

    async def owe(self, from_organ: str, *, readable: bool = True) -> int:
        """One status message owed (its record stored first); returns the message's number.
        An unreadable one has no date in its reference's date field."""
        self.numbers += 1
        number = self.numbers
        (rid,) = await self.store.save_records([raw(f"m{number}", source=SOURCE)])
        ref = {"issuer": ISSUER, "number": str(number), "notation": "STC-NS", "issued_on": None}
        if not readable:
            ref["issued_on"] = "ngày 32 tháng 13"
        reply = StatusReply("01", "đã đến / arrived", from_organ, ISSUER, ref)
        await self.store.apply(
            Outcome(record_id=rid, outcome="waiting", decision={}, status_replies=(reply,))
        )
        self.enqueued_at[number] = time.monotonic()
        self.relay.wake.set()  # as if newly owed work woke it: its own idle look is not timed
        return number

    def sent_numbers(self) -> list[int]:
        out = []
        for m in self.axis.sent:
            if isinstance(m, StatusMessage):
                assert m.response_for.code is not None
                out.append(int(m.response_for.code.split("/")[0]))
        return out


@asynccontextmanager
async def _bench(
    tmp_path: Path, faults: SendFaults, max_attempts: int = 20
) -> AsyncIterator[Bench]:
    axis = VxpSim()
    axis.app.middlewares.append(faults.middleware)
    settings = VxpSettings(
        name=SOURCE,
        base_url="http://127.0.0.1:1",  # replaced once the simulator listens
        system_id=DEFAULT_SYSTEM,
        secret=DEFAULT_SECRET,
        timeout_s=5,
    )
    async with axis:
        settings = settings.model_copy(update={"base_url": axis.base_url})
        ctx = AdapterContext(units=(GOOD,), blobs=BlobStore(tmp_path / "blobs"))
        make_source = registry()["vxp"].make_source
        assert make_source is not None
        async with (
            SqliteStore(tmp_path / "lienthong.sqlite3") as store,
            make_source(settings, ctx) as source,
        ):
            assert isinstance(source, StatusSender)  # the vxp source relays status
            relay = StatusRelay(source, store, Health(f"{SOURCE}:status", "vxp"), max_attempts)
            bench = Bench(store, relay, axis)
            stop = asyncio.Event()
            task = asyncio.create_task(relay.run(stop))
            try:
                yield bench
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=10)


async def test_relay_resets_after_success(tmp_path: Path) -> None:
    """Four failed sends (the node down for a moment) then ten messages: all are sent within
    seconds, and after a success a new failure waits seconds again, not the doubled wait."""
    faults = SendFaults(first=4)
    async with _bench(tmp_path, faults) as bench:
        for _ in range(10):
            await bench.owe(GOOD)
        started = time.monotonic()
        await wait_until(lambda: len(bench.sent_numbers()) == 10, timeout_s=12, what="ten sent")
        first_batch_s = time.monotonic() - started
        assert faults.refused == 4
        faults.first = faults.calls + 1  # the node fails once more
        number = await bench.owe(GOOD)
        await wait_until(lambda: number in bench.sent_numbers(), timeout_s=12, what="one more")
        late_s = time.monotonic() - bench.enqueued_at[number]
    assert sorted(bench.sent_numbers()) == list(range(1, 12))
    assert first_batch_s <= 8.0, f"ten messages took {first_batch_s:.1f}s after four failures"
    assert late_s <= 6.0, f"after a success, one failure held a message {late_s:.1f}s"


async def test_a_message_failing_for_good_does_not_hold_the_others(tmp_path: Path) -> None:
    """A message the node keeps refusing is tried on its own clock until it is given up
    (dead, with its reason); the messages owed after it each go within seconds."""
    faults = SendFaults(from_organs={BAD})
    async with _bench(tmp_path, faults, max_attempts=3) as bench:
        seen_at: dict[int, float] = {}

        async def watch() -> None:
            while True:
                for n in bench.sent_numbers():
                    seen_at.setdefault(n, time.monotonic())
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(watch())
        try:
            bad = await bench.owe(BAD)
            good = []
            for _ in range(8):
                good.append(await bench.owe(GOOD))
                await asyncio.sleep(0.5)
            await wait_until(lambda: set(good) <= set(seen_at), timeout_s=10, what="the good ones")

            async def bad_dead() -> bool:
                rows = await bench.store.db.execute_fetchall("SELECT state FROM status_out")
                return ("dead",) in [tuple(r) for r in rows]

            await wait_until(bad_dead, timeout_s=15, what="the failing message given up")
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        rows = await bench.store.db.execute_fetchall(
            "SELECT attempts, last_error FROM status_out WHERE state = 'dead'"
        )
    waits = {n: seen_at[n] - bench.enqueued_at[n] for n in good}
    assert max(waits.values()) <= 3.5, f"a good message waited {max(waits.values()):.1f}s"
    assert bad not in seen_at
    ((attempts, reason),) = rows
    assert attempts == 3 and "503" in reason
    assert faults.refused == 3


async def test_an_unreadable_message_is_given_up_and_the_rest_go(tmp_path: Path) -> None:
    """A message whose stored reference cannot be read is dead with the reason naming the
    field; the relay does not crash on it and sends the next one."""
    async with _bench(tmp_path, SendFaults()) as bench:
        await bench.owe(GOOD, readable=False)
        after = await bench.owe(GOOD)
        await wait_until(lambda: after in bench.sent_numbers(), timeout_s=10, what="the next one")
        rows = await bench.store.db.execute_fetchall(
            "SELECT last_error FROM status_out WHERE state = 'dead'"
        )
    ((reason,),) = rows
    assert "issued_on" in reason
    assert bench.sent_numbers() == [after]
