"""Retention: deleting what is old and finished with, in one transaction."""

from __future__ import annotations

from bridge.domain.enums import DeliveryState, RecordOutcome
from bridge.domain.enums import StatusMessageState as Msg
from bridge.store.sql.base import SqlBase

# Documents something is still owed for: a delivery pending or dead, a status message pending.
_UNFINISHED = (
    "SELECT document_id FROM outbox"
    f" WHERE state IN ('{DeliveryState.PENDING}', '{DeliveryState.DEAD}')"
    " UNION SELECT r.document_id FROM records r JOIN status_out s ON s.record_id = r.id"
    f" WHERE s.state = '{Msg.PENDING}'"
)


class Retention(SqlBase):
    """purge_before and blob_in_use (the size on disk is the driver's)."""

    async def purge_before(self, cutoff: str, hook_cutoff: str) -> dict[str, int]:
        async with self._tx() as tx:
            conn = self._long(tx)  # deletes over the whole store
            docs = [
                (r[0],)
                for r in await conn.fetch(
                    "SELECT id FROM documents WHERE updated_at < $1 AND id NOT IN"
                    f" (SELECT document_id FROM ({_UNFINISHED}) u WHERE document_id IS NOT NULL)",
                    (cutoff,),
                )
            ]
            for table in ("outbox", "revisions", "attachment_index", "status_events"):
                await conn.executemany(f"DELETE FROM {table} WHERE document_id = $1", docs)
            await conn.executemany("DELETE FROM documents WHERE id = $1", docs)
            records = await conn.execute(
                f"DELETE FROM records WHERE received_at < $1 AND acked = {self.dialect.true}"
                f" AND outcome IS NOT NULL AND outcome != '{RecordOutcome.WAITING}'"
                " AND (document_id IS NULL OR document_id NOT IN (SELECT id FROM documents))"
                " AND id NOT IN (SELECT record_id FROM quarantine WHERE released_at IS NULL)",
                (cutoff,),
            )
            for table in ("status_out", "quarantine"):
                await conn.execute(
                    f"DELETE FROM {table} WHERE record_id NOT IN (SELECT id FROM records)"
                )
            hooks = await conn.execute(
                "DELETE FROM hook_events WHERE received_at < $1", (hook_cutoff,)
            )
            return {"documents": len(docs), "records": records, "hook_events": hooks}

    async def blob_in_use(self, sha256: str) -> bool:
        found = await self._scan().fetchval(
            "SELECT EXISTS (SELECT 1 FROM attachment_index WHERE sha256 = $1)"
            " OR EXISTS (SELECT 1 FROM records"
            f" WHERE {self.dialect.contains.format('attachments')})",
            (sha256,),
        )
        return bool(found)
