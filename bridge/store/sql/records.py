"""Raw records as sources hand them over, the sources' cursors, and webhook event ids."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bridge.domain.entities import StoredRecord
from bridge.domain.enums import RecordOutcome
from bridge.store.api import Fence
from bridge.store.driver.shim import Conn
from bridge.store.sql.base import RECORD_COLS, SqlBase, dumps, now_iso, record_row
from schemas import Page, RawRecord

_ACK = (
    "UPDATE records SET acked = {true} WHERE source = $1 AND unit = $2 AND external_id = $3"
    " AND version = $4"
)


class Records(SqlBase):
    """save_page / save_records / cursors / acknowledgements / the matcher's queues."""

    async def save_page(self, source: str, page: Page, *, fence: Fence = None) -> list[int]:
        async with self._tx(fence) as conn:
            new_ids = await insert_raw(conn, page.records)
            await save_cursor(conn, source, page.cursor)
        return new_ids

    async def save_records(self, records: Sequence[RawRecord], *, fence: Fence = None) -> list[int]:
        async with self._tx(fence) as conn:
            return await insert_raw(conn, records)

    async def get_cursor(self, source: str) -> str | None:
        value = await self._read().fetchval(
            "SELECT cursor FROM cursors WHERE source = $1", (source,)
        )
        return None if value is None else str(value)

    async def unacked(self, source: str, limit: int = 500) -> list[StoredRecord]:
        return await self._records(
            f"source = $1 AND acked = {self.dialect.false} ORDER BY id LIMIT $2", (source, limit)
        )

    async def mark_acked_many(
        self, keys: Sequence[tuple[str, str, str, str]], *, fence: Fence = None
    ) -> None:
        if fence is None:  # ride along with the next commit: no transaction of their own
            sql = _ACK.format(true=self.dialect.true)
            await asyncio.gather(*(self._write_soon(sql, key) for key in keys))
            return
        async with self._tx(fence) as conn:
            await conn.executemany(_ACK.format(true=self.dialect.true), keys)

    async def mark_acked(
        self, source: str, unit: str, external_id: str, version: str, *, fence: Fence = None
    ) -> None:
        await self.mark_acked_many([(source, unit, external_id, version)], fence=fence)

    async def undecided_ids(self, records: Sequence[RawRecord]) -> list[int]:
        ids = []
        for r in records:
            found = await self._read().fetchval(
                "SELECT id FROM records WHERE source = $1 AND unit = $2 AND external_id = $3"
                " AND version = $4 AND outcome IS NULL",
                (r.source, r.unit, r.external_id, r.version),
            )
            if found is not None:
                ids.append(int(found))
        return ids

    async def unprocessed(self, limit: int = 200) -> list[StoredRecord]:
        return await self._records("outcome IS NULL ORDER BY id LIMIT $1", (limit,))

    async def waiting(self, limit: int = 500) -> list[StoredRecord]:
        return await self._records(
            f"outcome = '{RecordOutcome.WAITING}' ORDER BY id LIMIT $1", (limit,)
        )

    async def record(self, record_id: int) -> StoredRecord | None:
        found = await self._records("id = $1", (record_id,))
        return found[0] if found else None

    async def records_of(self, doc_id: int) -> list[StoredRecord]:
        return await self._records("document_id = $1 ORDER BY id", (doc_id,))

    async def _records(self, where: str, args: Sequence[object]) -> list[StoredRecord]:
        rows = await self._read().fetch(f"SELECT {RECORD_COLS} FROM records WHERE {where}", args)
        return [record_row(r) for r in rows]

    async def remember_event(self, name: str, event_id: str) -> bool:
        async with self._tx() as conn:
            added = await conn.execute(
                "INSERT INTO hook_events VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                (name, event_id, now_iso()),
            )
        return added == 1


async def save_cursor(conn: Conn, source: str, cursor: str | None) -> None:
    """Keep a source's (or an outbox's) cursor, in the transaction that stored its page."""
    if cursor is not None:
        await conn.execute(
            "INSERT INTO cursors (source, cursor, updated_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor,"
            " updated_at = excluded.updated_at",
            (source, cursor, now_iso()),
        )


async def insert_raw(
    conn: Conn, records: Sequence[RawRecord], *, into: str = "records", source: str | None = None
) -> list[int]:
    """Insert raw records (into `records`, or into `outgoing_items` whose first column is the
    outbox `source` names); the ids of those seen for the first time."""
    first = "source" if into == "records" else "outbox"
    new_ids: list[int] = []
    for r in records:
        new_id = await conn.fetchval(
            f"INSERT INTO {into} ({first}, unit, external_id, version, media_type, payload,"
            " attachments, ack, error, received_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
            " ON CONFLICT DO NOTHING RETURNING id",
            (
                source or r.source,
                r.unit,
                r.external_id,
                r.version,
                r.media_type,
                r.payload,
                dumps([a.model_dump(mode="json") for a in r.attachments]),
                r.ack,
                r.error,
                r.received_at.isoformat(),
            ),
        )
        if new_id is not None:
            new_ids.append(int(new_id))
    return new_ids
