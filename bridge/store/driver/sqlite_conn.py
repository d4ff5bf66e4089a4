"""A sqlite3 connection driven from the event loop, for the store's short statements.

A statement of the hot path (insert a record, look a document up by its triple, mark a
delivery done) costs tens of microseconds: its pages are in memory and, inside a write
transaction, nothing reaches the disk before COMMIT. Handing each one to a worker thread costs
more than running it (a queue, two wake-ups and two GIL hand-overs per statement), so they run
inline. Waiting for the write lock when another process holds it is a retry every few
milliseconds with the loop running meanwhile; what blocks runs on the connection's own worker
thread: COMMIT (its fsync) and whole long statements (retention's deletes) through
`offloaded()`. Long reads for people (lists, search, counts) use a separate aiosqlite
connection in the store, never this one.

Callers serialize use of one connection (the store's write lock); the connection is opened
with `check_same_thread=False` because its blocking steps run on the worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000
LOCK_POLL_MIN_S = 0.0005  # waiting for another process's write lock: first retry
LOCK_POLL_MAX_S = 0.004  # and at most this long between tries


class SqlConnection:
    """`execute`, `executemany` and `execute_fetchall` inline; `run` and `offloaded()` on the
    worker thread. The awaitable methods keep the call sites the same as for aiosqlite."""

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._executor = executor

    @classmethod
    async def connect(cls, path: Path, name: str, *pragmas: str) -> SqlConnection:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

        def opened() -> sqlite3.Connection:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            try:
                for pragma in pragmas:
                    conn.execute(pragma)
            except BaseException:
                conn.close()
                raise
            return conn

        try:
            conn = await asyncio.get_running_loop().run_in_executor(executor, opened)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(conn, executor)

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        return self._conn.executemany(sql, rows)

    async def execute_fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        return self._conn.execute(sql, tuple(params)).fetchall()

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` on the worker thread (for anything that may wait or take long).

        A cancelled caller still waits for `fn` to finish before the cancellation goes on, so
        the next user of the connection never meets a statement (a COMMIT) still under way.
        """
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn, self._conn)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            while not future.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait({future})
            raise

    async def begin_immediate(self) -> None:
        """Take the write lock: at once when it is free (the usual case, inline); otherwise
        try again every few milliseconds, the event loop running meanwhile, up to the busy
        timeout (then SQLite's "database is locked" is raised).

        Polling rather than SQLite's own busy handler on a thread: that handler sleeps ever
        longer (up to 100 ms a try), so a process sharing the file with another busy writer
        (the delivery process) would wait far longer than the lock is held.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BUSY_TIMEOUT_MS / 1000
        delay = LOCK_POLL_MIN_S
        while True:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or loop.time() >= deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, LOCK_POLL_MAX_S)

    async def commit(self) -> None:
        """COMMIT on the worker thread: with synchronous=FULL it returns once on disk."""
        await self.run(lambda conn: conn.execute("COMMIT"))

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def offloaded(self) -> OffloadedConnection:
        """The same connection with every statement on the worker thread (long writes)."""
        return OffloadedConnection(self)

    async def close(self) -> None:
        try:
            await self.run(lambda conn: conn.close())
        finally:
            self._executor.shutdown(wait=False)


class OffloadedConnection:
    """The `execute` family of a `SqlConnection`, each call run on its worker thread."""

    def __init__(self, conn: SqlConnection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        args = tuple(params)
        return await self._conn.run(lambda conn: conn.execute(sql, args))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        rows = list(rows)
        return await self._conn.run(lambda conn: conn.executemany(sql, rows))

    async def execute_fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        args = tuple(params)
        return await self._conn.run(lambda conn: conn.execute(sql, args).fetchall())
