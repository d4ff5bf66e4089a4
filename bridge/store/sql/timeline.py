"""What happened to one document, read for its timeline (`bridge.domain.timeline` orders it):
its records, each outbox row with its times, statuses in and out, and the operator actions
naming it (the document itself, or the quarantine of one of its records)."""

from __future__ import annotations

from typing import Any

from bridge import jsonutil
from bridge.store.sql.base import SqlBase

RECORD_KEYS = ("id", "source", "unit", "external_id", "version", "received_at", "outcome")
DELIVERY_KEYS = (
    "id", "unit", "sink", "op", "revision", "state", "attempts", "last_error", "remote_id",
    "created_at", "done_at", "note",
)  # fmt: skip
HOME_KEYS = ("sink", "status", "note", "updated_at")
SENT_KEYS = ("source", "code", "description", "state", "created_at", "sent_at", "last_error")
AUDIT_KEYS = ("id", "at", "actor", "action", "target")


class Timeline(SqlBase):
    """The rows a document's timeline is made of."""

    async def timeline_rows(self, doc_id: int) -> dict[str, list[dict[str, Any]]]:
        conn = self._read()
        records = await conn.fetch(
            f"SELECT {', '.join(RECORD_KEYS)}, decision::text FROM records"
            " WHERE document_id = $1 ORDER BY id",
            (doc_id,),
        )
        deliveries = await conn.fetch(
            f"SELECT {', '.join(DELIVERY_KEYS)} FROM outbox WHERE document_id = $1 ORDER BY id",
            (doc_id,),
        )
        home = await conn.fetch(
            f"SELECT {', '.join(HOME_KEYS)} FROM status_events WHERE document_id = $1 ORDER BY id",
            (doc_id,),
        )
        sent = await conn.fetch(
            f"SELECT {', '.join('s.' + k for k in SENT_KEYS)} FROM status_out s"
            " JOIN records r ON r.id = s.record_id WHERE r.document_id = $1 ORDER BY s.id",
            (doc_id,),
        )
        audit = await conn.fetch(
            f"SELECT {', '.join(AUDIT_KEYS)}, detail::text FROM audit WHERE target = $1"
            " OR target IN (SELECT 'quarantine:' || q.id FROM quarantine q"
            " JOIN records r ON r.id = q.record_id WHERE r.document_id = $2) ORDER BY id",
            (f"document:{doc_id}", doc_id),
        )
        return {
            "records": [
                {**_row(RECORD_KEYS, r), "decision": jsonutil.loads(r[-1]) if r[-1] else None}
                for r in records
            ],
            "deliveries": [_row(DELIVERY_KEYS, r) for r in deliveries],
            "home": [_row(HOME_KEYS, r) for r in home],
            "sent": [_row(SENT_KEYS, r) for r in sent],
            "audit": [{**_row(AUDIT_KEYS, r), "detail": jsonutil.loads(r[-1])} for r in audit],
        }


def _row(keys: tuple[str, ...], row: Any) -> dict[str, Any]:
    return dict(zip(keys, tuple(row)[: len(keys)], strict=True))
