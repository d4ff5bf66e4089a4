"""The PostgreSQL driver: asyncpg's pool under the SQL layer, for several instances on one
database.

Every store method borrows one pooled connection; methods that write do so inside one
transaction (READ COMMITTED), where the SQLite driver opens `BEGIN IMMEDIATE`. Statements
carry the pool's command timeout, so no call waits on the server forever. `instance` names
this process in delivery claims; `claim_ttl_s` is how long a claimed row stays reserved for it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Self

import structlog

from bridge.errors import ConfigError
from bridge.store.api import Fence
from bridge.store.dialect import POSTGRES
from bridge.store.driver.shim import Conn, PgConn, PgPool, check_fence
from bridge.store.migrations import MIGRATIONS_PG
from bridge.store.sql.base import SqlBase
from bridge.store.sql.schema import applied, migrated

log = structlog.get_logger(__name__)

COMMAND_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
MIGRATION_LOCK = 7_461_001  # pg_advisory_xact_lock key: one instance migrates at a time


class PgDriver(SqlBase):
    """Pool, transactions, claims and migrations of the shared backend."""

    dialect = POSTGRES

    def __init__(
        self,
        url: str,
        *,
        instance: str | None = None,
        claim_ttl_s: float = 300.0,
        pool_max: int = 10,
    ) -> None:
        self.url = url
        self.instance = instance or f"lienthong-{uuid.uuid4().hex[:12]}"
        self.claim_ttl_s = claim_ttl_s
        self._pool_max = pool_max
        self._pool: PgPool | None = None

    async def open(self) -> Self:
        import asyncpg  # loaded here: only a PostgreSQL store loads it (~14 MB)

        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self._pool_max,
                command_timeout=COMMAND_TIMEOUT_S,
                timeout=CONNECT_TIMEOUT_S,
            )
        except (OSError, asyncpg.PostgresError) as exc:
            raise ConfigError(
                [f"bridge.database: không kết nối được PostgreSQL / cannot connect: {exc}"]
            ) from exc
        await self._migrate()
        return self

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> PgPool:
        if self._pool is None:
            raise RuntimeError("store is not open")
        return self._pool

    @asynccontextmanager
    async def _tx(self, fence: Fence = None) -> AsyncIterator[Conn]:
        """One transaction on one pooled connection; checks `fence` (resource, token) first."""
        async with self.pool.acquire() as raw, raw.transaction():
            conn = PgConn(raw)
            if fence is not None:
                await check_fence(conn, *fence)
            yield conn

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Group commit on SQLite; on PostgreSQL each write keeps its own transaction."""
        yield

    def _read(self) -> Conn:
        return PgConn(self.pool)

    def _scan(self) -> Conn:
        return PgConn(self.pool)

    async def _write_soon(self, sql: str, args: Sequence[Any]) -> int:
        async with self._tx() as conn:
            return await conn.execute(sql, args)

    def _claim_args(self) -> tuple[Any, ...]:
        return (self.instance, self.claim_ttl_s)

    async def _migrate(self) -> None:
        async with self.pool.acquire() as raw, raw.transaction():
            await raw.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            conn = PgConn(raw)
            done = await applied(conn)
            for version, sql in sorted(MIGRATIONS_PG):
                if version in done:
                    continue
                await raw.execute(sql)
                await migrated(conn, version)
                log.info("store_migrated", backend="postgresql", version=version)

    async def database_bytes(self) -> int:
        """Size of the database on the server."""
        return int(await self.pool.fetchval("SELECT pg_database_size(current_database())"))
