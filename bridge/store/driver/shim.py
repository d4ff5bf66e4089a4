"""The small database interface the SQL layer is written against, and its two implementations.

`Conn` is what a statement needs: `execute` (returns the rows it changed), `executemany`,
`fetch`, `fetchrow`, `fetchval`. Statements come in PostgreSQL's form; each implementation
hands them to its driver through its dialect (bridge/store/dialect.py). A row is a sequence
read by position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from bridge.errors import StaleLeaseError
from bridge.store.dialect import POSTGRES, SQLITE, Dialect

if TYPE_CHECKING:  # loaded at run time only by a PostgreSQL store (bridge.store.driver.postgres)
    import asyncpg

# A row read by position: a tuple from sqlite3, a Record from asyncpg (not a Sequence to
# the type checker).
Row: TypeAlias = Any
# Generic only to the type checker (asyncpg's classes are not subscriptable at run time).
PgConnection: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)
PgPool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"


class Conn(Protocol):
    """One connection (or transaction) as the SQL layer uses it; `args` fill `$1`, `$2`, …"""

    dialect: Dialect

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int: ...
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...
    async def fetchrow(self, sql: str, args: Sequence[Any] = ()) -> Row | None: ...
    async def fetchval(self, sql: str, args: Sequence[Any] = ()) -> Any: ...


class _Rows:
    """`fetchrow` and `fetchval` from `fetch` (the queries that use them read one row)."""

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    async def fetchrow(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetch(sql, args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, args: Sequence[Any] = ()) -> Any:
        row = await self.fetchrow(sql, args)
        return None if row is None else row[0]


class SqliteConn(_Rows):
    """`Conn` over a sqlite3 connection driven from the loop (`driver.sqlite_conn`), its
    offloaded form, or an aiosqlite connection (reads only): anything with `execute`,
    `executemany` and `execute_fetchall` taking a statement and its parameters."""

    dialect = SQLITE

    def __init__(self, db: Any) -> None:
        self._db = db

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        return int((await self._db.execute(SQLITE.sql(sql), args)).rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._db.executemany(SQLITE.sql(sql), rows)

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return list(await self._db.execute_fetchall(SQLITE.sql(sql), args))


class PgConn(_Rows):
    """`Conn` over an asyncpg connection or pool."""

    dialect = POSTGRES

    def __init__(self, conn: PgConnection | PgPool) -> None:
        self._conn = conn

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        tag = await self._conn.execute(sql, *args)  # "UPDATE 3", "INSERT 0 1"
        count = tag.rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return list(await self._conn.fetch(sql, *args))


async def check_fence(conn: Conn, resource: str, token: int) -> None:
    """Refuse (StaleLeaseError) unless `token` is the current fencing token of `resource`.

    Call it inside the writing transaction: on SQLite BEGIN IMMEDIATE already excludes other
    writers; on PostgreSQL `FOR SHARE` holds the lease row until commit, so a takeover (which
    updates that row) waits for this write or happens before the check.
    """
    current = await conn.fetchval(
        f"SELECT token FROM leases WHERE resource = $1{conn.dialect.share_lock}", (resource,)
    )
    if current != token:
        raise StaleLeaseError(
            f"mất quyền giữ {resource!r} (token {token}, hiện tại {current}) / "
            f"lease on {resource!r} lost (token {token}, current {current})"
        )
