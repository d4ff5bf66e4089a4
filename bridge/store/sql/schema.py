"""The schema's version table, written once for both backends' migration runners.

The runners (one per driver: SQLite applies each migration in a transaction of its own,
PostgreSQL all of them under an advisory lock) ask which versions are `applied` and note each
one they run with `migrated`, which also recomputes the search keys at `REKEY_AT`.
"""

from __future__ import annotations

from bridge.domain.search import search_key
from bridge.store.driver.shim import Conn, Row
from bridge.store.migrations import PG_ONLY_FROM, REKEY_AT
from bridge.store.sql.base import SqlBase, now_iso
from schemas import Document

REKEY_BATCH = 500


async def applied(conn: Conn) -> set[int]:
    """The versions applied so far (the table is made on first use)."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)"
    )
    return {int(r[0]) for r in await conn.fetch("SELECT version FROM schema_version")}


async def migrated(conn: Conn, version: int) -> None:
    """Note `version` as applied, in the transaction that applied it."""
    if version == REKEY_AT:
        await _rekey(conn)
    await conn.execute("INSERT INTO schema_version VALUES ($1, $2)", (version, now_iso()))


async def _rekey(conn: Conn) -> None:
    """Compute every document's search key anew (in the caller's transaction), in batches."""
    last = 0
    while rows := await conn.fetch(
        "SELECT id, data::text FROM documents WHERE id > $1 ORDER BY id LIMIT $2",
        (last, REKEY_BATCH),
    ):
        await conn.executemany("UPDATE documents SET search_key = $1 WHERE id = $2", _rekeyed(rows))
        last = rows[-1][0]


def _rekeyed(rows: list[Row]) -> list[tuple[str, int]]:
    return [(search_key(Document.model_validate_json(data)), doc_id) for doc_id, data in rows]


class Schema(SqlBase):
    """The shared schema version (PostgreSQL-only migrations are numbered apart)."""

    async def schema_version(self) -> int:
        value = await self._read().fetchval(
            "SELECT max(version) FROM schema_version WHERE version < $1", (PG_ONLY_FROM,)
        )
        return int(value or 0)
