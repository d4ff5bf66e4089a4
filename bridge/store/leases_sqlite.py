"""Leases for the SQLite backend, as a mixin for `SqliteStore` (same semantics as PostgreSQL).

With one process per SQLite file, leases matter little, but the daemon's code is the same on
both backends. `LEASES_SQLITE_DDL` is the migration that creates what the mixin needs.
"""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from bridge.errors import StaleLeaseError
from bridge.store.sqlite_conn import Db

LEASES_SQLITE_DDL = """
CREATE TABLE leases (
    resource TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    token INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until REAL;
"""


async def check_fence(db: Db, resource: str, token: int) -> None:
    """Refuse (StaleLeaseError) unless `token` is the current fencing token of `resource`.

    Call it inside the writing transaction (BEGIN IMMEDIATE already excludes other writers).
    """
    rows = list(
        await db.execute_fetchall("SELECT token FROM leases WHERE resource = ?", (resource,))
    )
    current = rows[0][0] if rows else None
    if current != token:
        raise StaleLeaseError(
            f"mất quyền giữ {resource!r} (token {token}, hiện tại {current}) / "
            f"lease on {resource!r} lost (token {token}, current {current})"
        )


class SqliteLeases:
    """acquire / renew / release / list leases; mix into SqliteStore (uses `db` and `_tx`)."""

    if TYPE_CHECKING:

        @property
        def db(self) -> Db: ...

        def _tx(self) -> AbstractAsyncContextManager[Db]: ...

    async def acquire_lease(self, resource: str, owner: str, ttl_s: float) -> int | None:
        """Take or extend `resource` for `ttl_s` seconds; the fencing token, or None when
        another owner holds a live lease. Re-acquiring a live lease of one's own keeps the token.
        """
        now = time.time()
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    "INSERT INTO leases AS l (resource, owner, token, expires_at)"
                    " VALUES (?1, ?2, 1, ?3 + ?4) ON CONFLICT (resource) DO UPDATE SET"
                    " owner = excluded.owner, expires_at = excluded.expires_at,"
                    " token = CASE WHEN l.owner = excluded.owner AND l.expires_at > ?3"
                    " THEN l.token ELSE l.token + 1 END"
                    " WHERE l.owner = excluded.owner OR l.expires_at <= ?3 RETURNING token",
                    (resource, owner, now, ttl_s),
                )
            )
        return int(rows[0][0]) if rows else None

    async def renew_lease(self, resource: str, owner: str, token: int, ttl_s: float) -> bool:
        """Extend a live lease; False when it lapsed or changed hands (acquire again)."""
        now = time.time()
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE leases SET expires_at = ? WHERE resource = ? AND owner = ? AND token = ?"
                " AND expires_at > ?",
                (now + ttl_s, resource, owner, token, now),
            )
            return cur.rowcount == 1

    async def release_lease(self, resource: str, owner: str, token: int) -> None:
        """Give the lease up now (it expires; the token is kept so it keeps growing)."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE leases SET expires_at = 0 WHERE resource = ? AND owner = ? AND token = ?",
                (resource, owner, token),
            )

    async def leases(self) -> list[dict[str, Any]]:
        rows = await self.db.execute_fetchall(
            "SELECT resource, owner, token, expires_at FROM leases ORDER BY resource"
        )
        return [{"resource": r[0], "owner": r[1], "token": r[2], "expires_at": r[3]} for r in rows]
