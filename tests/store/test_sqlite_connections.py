"""The embedded store's connections: what a batch sees, what others see, who waits for a lock,
and delivery writes riding along with other commits. Real SQLite files throughout."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bridge.store import Delivery, SqliteStore
from bridge.store.driver import sqlite_conn
from tests.store.conftest import document, new_document_outcome, raw


def _outside(path: Path, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """What another process would read: a connection of its own, committed data only."""
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def _wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


async def test_a_batch_sees_its_own_writes_and_nobody_else_does_before_commit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        entered, release = asyncio.Event(), asyncio.Event()
        seen_inside: list[object] = []

        async def batch() -> None:
            async with store.batch():
                (rid,) = await store.save_records([raw("a")])
                seen_inside.append(await store.record(rid))
                entered.set()
                await release.wait()

        task = asyncio.create_task(batch())
        await entered.wait()
        # Another coroutine reads committed data only: the record is not there yet.
        assert await store.unprocessed() == []
        assert _outside(path, "SELECT count(*) FROM records") == [(0,)]
        release.set()
        await task
        assert seen_inside[0] is not None  # the batch saw its own insert
        assert [r.raw.external_id for r in await store.unprocessed()] == ["a"]


async def test_waiting_for_another_process_lock_does_not_stall_the_loop(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE meets a lock held elsewhere: it waits (trying again every few
    milliseconds) while the event loop keeps running, then the write goes through."""
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        holding, done = threading.Event(), threading.Event()

        def hold_lock() -> None:
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            holding.set()
            time.sleep(0.5)
            conn.execute("COMMIT")
            conn.close()
            done.set()

        holder = threading.Thread(target=hold_lock)
        holder.start()
        await asyncio.to_thread(holding.wait)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        (rid,) = await store.save_records([raw("b")])
        waited = time.monotonic() - started
        await ticker
        holder.join()
        assert waited >= 0.3  # it did wait for the lock…
        assert ticks >= 10  # …and the loop ran meanwhile
        assert _outside(path, "SELECT external_id FROM records WHERE id = ?", (rid,)) == [("b",)]


async def _pending_delivery(store: SqliteStore, external_id: str) -> Delivery:
    """One stored record made a document; its create delivery, due now."""
    (rid,) = await store.save_records([raw(external_id)])
    doc_id = await store.apply(new_document_outcome(rid, document()))
    assert doc_id is not None
    (delivery,) = await store.due_deliveries("home", 10)
    return delivery


async def _open_batch(
    store: SqliteStore, external_id: str, *, fail: bool = False
) -> tuple[asyncio.Task[None], asyncio.Event]:
    """A batch that stores one record and stays open until the event is set; then it
    commits, or raises RuntimeError (rolled back) when `fail`."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def batch() -> None:
        async with store.batch():
            await store.save_records([raw(external_id)])
            entered.set()
            await release.wait()
            if fail:
                raise RuntimeError("boom")

    task = asyncio.create_task(batch())
    await entered.wait()
    return task, release


async def test_delivery_writes_ride_along_with_a_batch_commit(tmp_path: Path) -> None:
    """mark_delivered submitted while a batch is open is committed with that batch (one
    fsync), and is durable once it returns."""
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        delivery = await _pending_delivery(store, "c")
        task, release = await _open_batch(store, "d")
        marking = asyncio.create_task(store.mark_delivered(delivery.id, "remote-1"))
        await asyncio.sleep(0.05)
        assert not marking.done()  # waits for a commit: the batch's
        release.set()
        await asyncio.gather(task, marking)
        assert _outside(
            path, "SELECT state, remote_id FROM outbox WHERE id = ?", (delivery.id,)
        ) == [("delivered", "remote-1")]
        assert _outside(path, "SELECT count(*) FROM records") == [(2,)]


async def test_delivery_writes_commit_on_their_own_when_nothing_else_does(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        delivery = await _pending_delivery(store, "e")
        assert await store.store_body(delivery.id, {"x": 1}) is True
        assert await store.store_body(delivery.id, {"x": 2}) is False  # kept once only
        await asyncio.wait_for(store.mark_delivered(delivery.id, "r"), timeout=5)
        assert _outside(path, "SELECT body, state FROM outbox") == [('{"x":1}', "delivered")]


async def test_a_rolled_back_batch_does_not_take_waiting_delivery_writes_with_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        delivery = await _pending_delivery(store, "f")
        task, release = await _open_batch(store, "g", fail=True)
        marking = asyncio.create_task(store.mark_delivered(delivery.id, "r2"))
        await asyncio.sleep(0.02)
        release.set()
        with pytest.raises(RuntimeError):
            await task
        await asyncio.wait_for(marking, timeout=5)
        assert _outside(path, "SELECT state FROM outbox WHERE id = ?", (delivery.id,)) == [
            ("delivered",)
        ]
        assert _outside(path, "SELECT external_id FROM records") == [("f",)]  # g rolled back


async def test_a_delivery_write_that_cannot_commit_fails_instead_of_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process keeps the write lock past the busy timeout: the delivery worker's
    write raises (the worker retries later), it does not wait forever; once the lock is
    free the same write goes through."""
    monkeypatch.setattr(sqlite_conn, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        delivery = await _pending_delivery(store, "h")
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await asyncio.wait_for(store.mark_delivered(delivery.id, "r3"), timeout=10)
        finally:
            other.execute("ROLLBACK")
            other.close()
        await asyncio.wait_for(store.mark_delivered(delivery.id, "r3"), timeout=5)
        assert _outside(path, "SELECT state FROM outbox WHERE id = ?", (delivery.id,)) == [
            ("delivered",)
        ]


async def test_people_reads_run_on_their_own_connection(tmp_path: Path) -> None:
    """Counts and lists (the page, /status) read through the scanner, which only reads."""
    async with SqliteStore(tmp_path / "s.sqlite3") as store:
        await store.save_records([raw("h")])
        counts = await store.counts()
        assert counts["outcomes"] == {"unprocessed": 1}
        with pytest.raises(sqlite3.OperationalError):
            await store.scanner.execute("DELETE FROM records")


async def test_closing_empties_the_wal(tmp_path: Path) -> None:
    """On close the readers go first, then a full checkpoint: the database file alone holds
    everything (a copied file is a complete backup)."""
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        await store.save_records([raw(f"r{i}") for i in range(50)])
        assert len(await store.unprocessed()) == 50
        await store.counts()
        assert _wal_bytes(path) > 0
    assert _wal_bytes(path) == 0
    assert _outside(path, "SELECT count(*) FROM records") == [(50,)]
