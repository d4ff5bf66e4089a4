"""Leases: which instance reads a source, with fencing tokens.

A lease is (resource, owner, token, expires_at). The token grows every time ownership changes
(a new owner, or the same owner after its lease lapsed), never goes back (release keeps the
row, expired), and is what a fenced write compares (`driver.shim.check_fence`). Time is the
database's clock (`Dialect.now`), shared by every instance.
"""

from __future__ import annotations

from typing import Any

from bridge.store.sql.base import SqlBase


class Leases(SqlBase):
    """acquire / renew / release / list leases."""

    async def acquire_lease(self, resource: str, owner: str, ttl_s: float) -> int | None:
        now = self.dialect.now
        async with self._tx() as conn:
            token = await conn.fetchval(
                "INSERT INTO leases AS l (resource, owner, token, expires_at)"
                f" VALUES ($1, $2, 1, {now} + $3::float8) ON CONFLICT (resource) DO UPDATE SET"
                " owner = excluded.owner, expires_at = excluded.expires_at,"
                f" token = CASE WHEN l.owner = excluded.owner AND l.expires_at > {now}"
                " THEN l.token ELSE l.token + 1 END"
                f" WHERE l.owner = excluded.owner OR l.expires_at <= {now} RETURNING token",
                (resource, owner, ttl_s),
            )
        return None if token is None else int(token)

    async def renew_lease(self, resource: str, owner: str, token: int, ttl_s: float) -> bool:
        now = self.dialect.now
        async with self._tx() as conn:
            renewed = await conn.execute(
                f"UPDATE leases SET expires_at = {now} + $4::float8 WHERE resource = $1"
                f" AND owner = $2 AND token = $3 AND expires_at > {now}",
                (resource, owner, token, ttl_s),
            )
        return renewed == 1

    async def release_lease(self, resource: str, owner: str, token: int) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE leases SET expires_at = 0 WHERE resource = $1 AND owner = $2"
                " AND token = $3",
                (resource, owner, token),
            )

    async def leases(self) -> list[dict[str, Any]]:
        rows = await self._read().fetch(
            "SELECT resource, owner, token, expires_at FROM leases ORDER BY resource"
        )
        return [{"resource": r[0], "owner": r[1], "token": r[2], "expires_at": r[3]} for r in rows]
