"""PostgreSQL: retention, deleting what is old and finished with (mirrors SqliteStore)."""

from __future__ import annotations

from bridge.store.pg_base import PgBase

_UNFINISHED = (
    "SELECT document_id FROM outbox WHERE state IN ('pending', 'dead')"
    " UNION SELECT r.document_id FROM records r JOIN status_out s ON s.record_id = r.id"
    " WHERE s.state = 'pending'"
)


class PgRetention(PgBase):
    """purge_before, blob_in_use, database_bytes."""

    async def purge_before(self, cutoff: str, hook_cutoff: str) -> dict[str, int]:
        """Delete what is older than `cutoff` (ISO time) and finished with, in one transaction.

        Never touches a record that is unprocessed, unacknowledged, held in quarantine or
        waiting, nor a document with a delivery still pending or dead, nor cursors.
        """
        async with self._tx() as conn:
            docs = [
                r[0]
                for r in await conn.fetch(
                    "SELECT id FROM documents WHERE updated_at < $1 AND id NOT IN"
                    f" (SELECT document_id FROM ({_UNFINISHED}) u WHERE document_id IS NOT NULL)",
                    cutoff,
                )
            ]
            counts = {"documents": len(docs)}
            for table in ("outbox", "revisions", "attachment_index", "status_events"):
                await conn.execute(
                    f"DELETE FROM {table} WHERE document_id = ANY($1::bigint[])", docs
                )
            await conn.execute("DELETE FROM documents WHERE id = ANY($1::bigint[])", docs)
            status = await conn.execute(
                "DELETE FROM records WHERE received_at < $1 AND acked AND outcome IS NOT NULL"
                " AND outcome != 'waiting'"
                " AND (document_id IS NULL OR document_id NOT IN (SELECT id FROM documents))"
                " AND id NOT IN (SELECT record_id FROM quarantine WHERE released_at IS NULL)",
                cutoff,
            )
            counts["records"] = _count(status)
            await conn.execute(
                "DELETE FROM status_out WHERE record_id NOT IN (SELECT id FROM records)"
            )
            await conn.execute(
                "DELETE FROM quarantine WHERE record_id NOT IN (SELECT id FROM records)"
            )
            status = await conn.execute(
                "DELETE FROM hook_events WHERE received_at < $1", hook_cutoff
            )
            counts["hook_events"] = _count(status)
            return counts

    async def blob_in_use(self, sha256: str) -> bool:
        """Whether any remaining document or record still names this blob."""
        found = await self._fetchval(
            "SELECT EXISTS (SELECT 1 FROM attachment_index WHERE sha256 = $1)"
            " OR EXISTS (SELECT 1 FROM records WHERE position($1 in attachments::text) > 0)",
            sha256,
        )
        return bool(found)

    async def database_bytes(self) -> int:
        """Size of the database on the server (SqliteStore.file_bytes, which is synchronous)."""
        return int(await self._fetchval("SELECT pg_database_size(current_database())"))


def _count(status: str) -> int:
    """Rows affected, from asyncpg's command tag ("DELETE 3")."""
    return int(status.rsplit(" ", 1)[-1])
