"""Operator actions on the matcher's work (quarantine release, split, merge), each one
audited, and the audit trail and monthly report they are read back from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge import jsonutil
from bridge.domain.enums import DeliveryState, DocumentState
from bridge.store.driver.shim import Conn
from bridge.store.sql.base import SqlBase, now_iso
from schemas import Document


class Operator(SqlBase):
    """What an operator may do to the matcher's work, and the trail it leaves."""

    async def release_quarantined(self, quarantine_id: int, actor: str, *, release: bool) -> bool:
        async with self._tx() as conn:
            row = await conn.fetchrow(
                "UPDATE quarantine SET released_at = $1 WHERE id = $2 AND released_at IS NULL"
                " RETURNING record_id, kind",
                (now_iso(), quarantine_id),
            )
            if row is None:
                return False
            record_id, kind = row
            await conn.execute(
                "UPDATE records SET outcome = NULL, document_id = NULL, decision = NULL,"
                " released = (released OR $1) WHERE id = $2",
                (release, record_id),
            )
            action = "release" if release else "retry"
            detail = {"record_id": record_id, "kind": kind}
            await self._audit(conn, actor, action, f"quarantine:{quarantine_id}", detail)
            return True

    async def is_released(self, record_id: int) -> bool:
        released = await self._read().fetchval(
            "SELECT released FROM records WHERE id = $1", (record_id,)
        )
        return bool(released)

    async def override_for(self, record_key: str) -> tuple[bool, int | None]:
        row = await self._read().fetchrow(
            "SELECT document_id FROM overrides WHERE record_key = $1", (record_key,)
        )
        return (True, row[0]) if row is not None else (False, None)

    async def split_record(self, document_id: int, record_id: int, actor: str) -> bool:
        async with self._tx() as conn:
            row = await conn.fetchrow(
                "SELECT source, unit, external_id FROM records WHERE id = $1"
                f" AND document_id = $2{self.dialect.update_lock}",
                (record_id, document_id),
            )
            if row is None:
                return False
            await _override(conn, tuple(row), None, actor)
            await _detach(conn, [record_id])
            detail = {"record_id": record_id}
            await self._audit(conn, actor, "split", f"document:{document_id}", detail)
            return True

    async def merge_documents(self, keep_id: int, other_id: int, actor: str) -> bool:
        if keep_id == other_id:
            return False
        async with self._tx() as conn:
            locked = await conn.fetch(
                "SELECT id FROM documents WHERE id IN ($1, $2)"
                f" ORDER BY id{self.dialect.update_lock}",
                (keep_id, other_id),
            )
            if len(locked) != 2:
                return False
            records = await conn.fetch(
                "SELECT id, source, unit, external_id FROM records WHERE document_id = $1"
                " ORDER BY id",
                (other_id,),
            )
            for r in records:
                await _override(conn, tuple(r)[1:], keep_id, actor)
            await _detach(conn, [r[0] for r in records])
            cancelled = await conn.execute(
                f"UPDATE outbox SET state = '{DeliveryState.CANCELLED}', done_at = $1"
                f" WHERE document_id = $2 AND state = '{DeliveryState.PENDING}'",
                (now_iso(), other_id),
            )
            await conn.execute(
                f"UPDATE documents SET state = '{DocumentState.MERGED}', updated_at = $1"
                " WHERE id = $2",
                (now_iso(), other_id),
            )
            delivered = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE document_id = $1"
                f" AND state = '{DeliveryState.DELIVERED}'",
                (other_id,),
            )
            detail = {
                "merged": other_id,
                "records": [r[0] for r in records],
                "cancelled": cancelled,
                "already_delivered": delivered,
            }
            await self._audit(conn, actor, "merge", f"document:{keep_id}", detail)
            return True

    async def audit_trail(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self._scan().fetch(
            "SELECT id, at, actor, action, target, detail::text FROM audit ORDER BY id DESC"
            " LIMIT $1",
            (limit,),
        )
        keys = ("id", "at", "actor", "action", "target")
        return [
            {**dict(zip(keys, r[:5], strict=True)), "detail": jsonutil.loads(r[5])} for r in rows
        ]

    async def documents_received(
        self, start: str, end: str, unit: str | None
    ) -> list[dict[str, Any]]:
        d = self.dialect
        rows = await self._scan().fetch(
            "SELECT d.id, d.data::text, d.state, min(r.received_at),"
            f" {d.agg('r.source')}, {d.agg('r.unit')}"
            " FROM documents d JOIN records r ON r.document_id = d.id"
            " WHERE r.received_at >= $1 AND r.received_at < $2"
            " AND ($3::text IS NULL OR r.unit = $3)"
            " GROUP BY d.id ORDER BY min(r.received_at), d.id",
            (start, end, unit or None),
        )
        return [
            {
                "id": r[0],
                "document": Document.model_validate_json(r[1]),
                "state": r[2],
                "received_at": r[3],
                "roads": sorted(set((r[4] or "").split(","))),
                "units": sorted(set((r[5] or "").split(","))),
            }
            for r in rows
        ]


async def _override(
    conn: Conn, key_parts: Sequence[Any], document_id: int | None, actor: str
) -> None:
    await conn.execute(
        "INSERT INTO overrides (record_key, document_id, actor, created_at) VALUES ($1,$2,$3,$4)"
        " ON CONFLICT (record_key) DO UPDATE SET document_id = excluded.document_id,"
        " actor = excluded.actor, created_at = excluded.created_at",
        ("|".join(str(p) for p in key_parts), document_id, actor, now_iso()),
    )


async def _detach(conn: Conn, record_ids: list[int]) -> None:
    """Unlink records from their document and queue them for matching again."""
    await conn.executemany(
        "UPDATE records SET outcome = NULL, document_id = NULL, decision = NULL WHERE id = $1",
        [(r,) for r in record_ids],
    )
