"""The PostgreSQL backend's connection pool, transactions, migrations and lease fencing.

Every backend method borrows one pooled connection; methods that write do so inside one
transaction (READ COMMITTED), matching where the SQLite backend opens `BEGIN IMMEDIATE`.
Statements carry the pool's command timeout, so no call waits on the server forever.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self, TypeAlias

import asyncpg
import structlog

from bridge.errors import ConfigError, StaleLeaseError
from bridge.store.pg_migrations import MIGRATIONS_PG, PG_ONLY_FROM
from bridge.store.search import REKEY_AT, REKEY_BATCH, rekeyed
from bridge.store.sqlite import now_iso

log = structlog.get_logger(__name__)

COMMAND_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
MIGRATION_LOCK = 7_461_001  # pg_advisory_xact_lock key: one instance migrates at a time

# Generic only to the type checker (asyncpg's classes are not subscriptable at run time).
Connection: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"


async def check_fence(conn: Connection, resource: str, token: int) -> None:
    """Refuse (StaleLeaseError) unless `token` is the current fencing token of `resource`.

    Call it inside the writing transaction: `FOR SHARE` holds the lease row until commit, so a
    takeover (which updates that row) waits for this write or happens before the check.
    """
    current = await conn.fetchval(
        "SELECT token FROM leases WHERE resource = $1 FOR SHARE", resource
    )
    if current != token:
        raise StaleLeaseError(
            f"mất quyền giữ {resource!r} (token {token}, hiện tại {current}) / "
            f"lease on {resource!r} lost (token {token}, current {current})"
        )


class PgBase:
    """Pool and transaction plumbing shared by the PostgreSQL store's parts."""

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
        self._pool: Pool | None = None

    async def open(self) -> Self:
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

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError("store is not open")
        return self._pool

    @asynccontextmanager
    async def _tx(self, fence: tuple[str, int] | None = None) -> AsyncIterator[Connection]:
        """One transaction on one pooled connection; checks `fence` (resource, token) first."""
        async with self.pool.acquire() as conn, conn.transaction():
            if fence is not None:
                await check_fence(conn, *fence)
            yield conn

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.pool.fetch(sql, *args)

    async def _fetchval(self, sql: str, *args: Any) -> Any:
        return await self.pool.fetchval(sql, *args)

    async def _migrate(self) -> None:
        async with self._tx() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version"
                " (version INTEGER PRIMARY KEY, applied_at TEXT)"
            )
            done = {r[0] for r in await conn.fetch("SELECT version FROM schema_version")}
            for version, sql in sorted(MIGRATIONS_PG):
                if version in done:
                    continue
                await conn.execute(sql)
                if version == REKEY_AT:
                    await _rekey(conn)
                await conn.execute("INSERT INTO schema_version VALUES ($1, $2)", version, now_iso())
                log.info("store_migrated", backend="postgresql", version=version)

    async def schema_version(self) -> int:
        """The shared schema version (PG-only migrations are numbered apart, from 1000)."""
        value = await self._fetchval(
            "SELECT max(version) FROM schema_version WHERE version < $1", PG_ONLY_FROM
        )
        return int(value or 0)


async def _rekey(conn: Connection) -> None:
    """Compute every document's search key anew (in the caller's transaction), in batches."""
    last = 0
    while rows := await conn.fetch(
        "SELECT id, data::text FROM documents WHERE id > $1 ORDER BY id LIMIT $2",
        last,
        REKEY_BATCH,
    ):
        await conn.executemany("UPDATE documents SET search_key = $1 WHERE id = $2", rekeyed(rows))
        last = rows[-1][0]
