"""The SQLite driver: SQLite in WAL mode, synchronous=FULL, under the SQL layer.

Durability: with WAL and `synchronous=FULL` a transaction is on disk when COMMIT returns, so a
power cut after a source was acknowledged cannot lose the record. (NORMAL would be faster but
may lose the last transactions on power loss, which would break "stored before acknowledged".)

Connections (see `sqlite_conn` for why short statements run inline):
- the writer: every write, serialized between coroutines by `_tx` / `batch()`; statements
  inline, waiting for the lock and COMMIT's fsync on its own thread. Reads made inside a batch
  use it too, so they see the batch's own uncommitted writes;
- the reader: point reads outside a transaction, inline; it sees committed data only;
- the scanner (aiosqlite): reads that may take long (lists, search, counts, export), off the
  event loop so a page refresh never delays a webhook;
- the checkpointer (aiosqlite): copies the WAL back in the background.
Small delivery writes ride along with the next commit (`_write_soon`): one fsync for many.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

import aiosqlite
import structlog

from bridge.store.api import Fence
from bridge.store.dialect import SQLITE
from bridge.store.driver.shim import Conn, SqliteConn, check_fence
from bridge.store.driver.sqlite_conn import SqlConnection
from bridge.store.migrations import MIGRATIONS
from bridge.store.sql.base import SqlBase
from bridge.store.sql.schema import applied, migrated
from bridge.supervisor import log_failure

log = structlog.get_logger(__name__)
# Inside `batch()`: the fences already checked in its transaction (none can change before it
# ends: it holds the write lock); None outside a batch.
_IN_BATCH: contextvars.ContextVar[set[tuple[str, int]] | None] = contextvars.ContextVar(
    "sqlite_batch", default=None
)


def _settle(
    riders: list[tuple[str, tuple[Any, ...], asyncio.Future[int]]],
    counts: list[int | sqlite3.Error],
) -> None:
    for (_, _, future), count in zip(riders, counts, strict=True):
        if future.done():
            continue  # its caller was cancelled meanwhile
        if isinstance(count, sqlite3.Error):
            future.set_exception(count)
        else:
            future.set_result(count)


class SqliteDriver(SqlBase):
    """The embedded backend's connections, transactions, group commit and migrations."""

    dialect = SQLITE

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: SqlConnection | None = None
        self._reader: SqlConnection | None = None
        self._scanner: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._pending_writes: list[tuple[str, tuple[Any, ...], asyncio.Future[int]]] = []
        self._group_task: asyncio.Task[None] | None = None
        self._checkpointer: asyncio.Task[None] | None = None

    async def open(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await SqlConnection.connect(
                self.path,
                "sqlite-writer",
                "PRAGMA busy_timeout=10000",
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=FULL",
                # Checkpoints run on a connection of their own (below), not inside whichever
                # commit happens to cross the threshold, so no write waits for one.
                "PRAGMA wal_autocheckpoint=0",
                # Inline statements must never sleep on a lock: BEGIN IMMEDIATE waits for
                # another process's write lock on the worker thread instead.
                "PRAGMA busy_timeout=0",
            )
            await self._migrate()
            self._reader = await SqlConnection.connect(
                self.path, "sqlite-reader", "PRAGMA busy_timeout=10000", "PRAGMA query_only=1"
            )
            self._scanner = await aiosqlite.connect(self.path, isolation_level=None)
            await self._scanner.execute("PRAGMA busy_timeout=10000")
            await self._scanner.execute("PRAGMA query_only=1")
        except BaseException:
            await self._close_connections()
            raise
        self._checkpointer = asyncio.create_task(
            self._checkpoint_forever(), name="sqlite-checkpoint"
        )
        self._checkpointer.add_done_callback(log_failure)
        return self

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
            self._checkpointer = None
        if self._group_task is not None:
            await asyncio.gather(self._group_task, return_exceptions=True)
        try:
            if self._writer is not None:
                # Readers close first so the checkpoint can empty the WAL completely.
                await self._close_readers()
                await self._writer.run(lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        except sqlite3.Error as exc:  # the WAL is still valid; the next open replays it
            log.warning("sqlite_final_checkpoint_failed", error=str(exc))
        finally:
            await self._close_connections()

    async def _close_connections(self) -> None:
        await self._close_readers()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    async def _close_readers(self) -> None:
        if self._scanner is not None:
            await self._scanner.close()
            self._scanner = None
        if self._reader is not None:
            await self._reader.close()
            self._reader = None

    async def _checkpoint_forever(self, every_s: float = 1.0) -> None:
        """Copy the WAL back into the database file in the background (PASSIVE: never blocks
        writers); the WAL is reused from its start once a checkpoint completes."""
        while True:
            try:
                async with aiosqlite.connect(self.path, isolation_level=None) as db:
                    await db.execute("PRAGMA busy_timeout=10000")
                    while True:
                        await asyncio.sleep(every_s)
                        await db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except (sqlite3.Error, OSError) as exc:  # the next commit still succeeds; retry
                log.warning("sqlite_checkpoint_failed", error=str(exc))
                await asyncio.sleep(every_s * 5)

    @property
    def writer(self) -> SqlConnection:
        if self._writer is None:
            raise RuntimeError("store is not open")
        return self._writer

    @property
    def db(self) -> SqlConnection:
        """The connection for a short read: the writer inside a batch (to see its writes),
        the reader otherwise."""
        if _IN_BATCH.get() is not None:
            return self.writer
        if self._reader is None:
            raise RuntimeError("store is not open")
        return self._reader

    @property
    def scanner(self) -> aiosqlite.Connection:
        """The connection for reads that may take long, off the event loop."""
        if self._scanner is None:
            raise RuntimeError("store is not open")
        return self._scanner

    @asynccontextmanager
    async def _tx(self, fence: Fence = None) -> AsyncIterator[Conn]:
        """One write transaction; with `fence`, refused (StaleLeaseError) on a lost lease.

        Inside `batch()` it joins the batch's transaction instead of opening its own.
        """
        conn = SqliteConn(self.writer)
        if (checked := _IN_BATCH.get()) is not None:
            if fence is not None and fence not in checked:
                await check_fence(conn, *fence)
                checked.add(fence)
            yield conn
            return
        async with self._lock:
            writer = self.writer
            await writer.begin_immediate()
            try:
                if fence is not None:
                    await check_fence(conn, *fence)
                yield conn
            except BaseException:
                await writer.rollback()
                raise
            await self._commit(writer)

    def _read(self) -> Conn:
        return SqliteConn(self.db)

    def _scan(self) -> Conn:
        return SqliteConn(self.scanner)

    def _long(self, conn: Conn) -> Conn:
        return SqliteConn(self.writer.offloaded())

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Group commit: every write inside shares one transaction (one fsync for many).

        Other coroutines' writes wait until it ends, so keep a batch short (tens of ms).
        Rolled back whole if anything inside raises.
        """
        if _IN_BATCH.get() is not None:
            yield
            return
        async with self._lock:
            writer = self.writer
            await writer.begin_immediate()
            token = _IN_BATCH.set(set())
            try:
                yield
            except BaseException:
                await writer.rollback()
                raise
            else:
                await self._commit(writer)
            finally:
                _IN_BATCH.reset(token)

    async def _commit(self, writer: SqlConnection) -> None:
        """COMMIT, taking along the delivery workers' writes waiting for one (`_write_soon`):
        they run last in this transaction and are durable with it, so they never wait for
        the lock behind a batch."""
        riders, self._pending_writes = self._pending_writes, []
        counts: list[int | sqlite3.Error] = []
        for sql, args, _ in riders:
            try:
                counts.append((await writer.execute(sql, args)).rowcount)
            except sqlite3.Error as exc:  # that statement only; the transaction goes on
                counts.append(exc)
        try:
            await writer.commit()
        except BaseException:
            if writer.in_transaction:  # not committed: the riders wait for the next commit
                with contextlib.suppress(sqlite3.Error):
                    await writer.rollback()
                self._pending_writes[:0] = riders
                self._start_group_commits()
                raise
            _settle(riders, counts)  # committed, then the caller was cancelled
            raise
        _settle(riders, counts)

    async def _migrate(self) -> None:
        async with self._tx() as conn:
            done = await applied(conn)
        for version, sql in MIGRATIONS:
            if version in done:
                continue
            async with self._tx() as conn:
                for statement in filter(str.strip, sql.split(";")):
                    await conn.execute(statement)
                await migrated(conn, version)
            log.info("store_migrated", backend="sqlite", version=version)

    async def _write_soon(self, sql: str, args: Sequence[Any]) -> int:
        """Group commit for the delivery workers' small writes: a statement rides along with
        the next commit, whoever makes it (see `_commit`), so one fsync serves many deliveries.
        Returns the statement's row count once it is durable."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending_writes.append((SQLITE.sql(sql), tuple(args), future))
        self._start_group_commits()
        return await future

    def _start_group_commits(self) -> None:
        if self._group_task is None or self._group_task.done():
            # A fresh context: a task started from inside a batch must not believe it is in one.
            self._group_task = asyncio.create_task(
                self._commit_groups(), name="sqlite-group-commit", context=contextvars.Context()
            )
            self._group_task.add_done_callback(log_failure)

    async def _commit_groups(self) -> None:
        """Commit for the riders when no other transaction does it first. When that commit
        fails (the lock held elsewhere past the busy timeout, a disk error), each rider's
        caller gets the error, as it would for a write of its own: nothing waits forever."""
        while self._pending_writes:
            try:
                async with self._tx():
                    pass  # `_commit` takes the riders along
            except Exception as exc:
                log.warning("sqlite_group_commit_failed", error=str(exc))
                failed, self._pending_writes = self._pending_writes, []
                for _, _, future in failed:
                    if not future.done():
                        future.set_exception(exc)

    async def database_bytes(self) -> int:
        """Size of the database files on disk (with the WAL)."""
        files = [p for p in self.path.parent.glob(self.path.name + "*") if p.is_file()]
        return sum(p.stat().st_size for p in files)
