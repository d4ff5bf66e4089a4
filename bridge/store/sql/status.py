"""Processing status reported by home systems, and the status messages owed back to senders
(mirrored by the rules of bridge/domain/status_mirror.py)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from typing import Any

from bridge import jsonutil
from bridge.domain.entities import StatusOut
from bridge.domain.enums import DeliveryState
from bridge.domain.enums import StatusMessageState as Msg
from bridge.domain.status_mirror import (
    JOINED,
    StatusReply,
    home_reply,
    is_final,
    is_mirrored,
    reported_in_order,
)
from bridge.interfaces import Operation
from bridge.store.driver.shim import Conn
from bridge.store.sql.base import SqlBase, dumps, now_iso
from schemas import RemoteStatus, StatusEvent

_STATUS_COLS = (
    "o.id, o.record_id, o.source, o.code, o.description, o.from_organ, o.to_organ::text,"
    " o.ref::text, o.attempts"
)
_JOINED = ", ".join(f"'{o}'" for o in sorted(JOINED))


class Status(SqlBase):
    """status_events (from home systems) and status_out (to senders)."""

    async def save_status_events(self, events: Sequence[StatusEvent]) -> int:
        async with self._tx() as conn:
            added = 0
            for e in events:
                doc_id = await conn.fetchval(
                    "SELECT document_id FROM outbox WHERE sink = $1 AND remote_id = $2"
                    " ORDER BY id LIMIT 1",
                    (e.sink, e.remote_id),
                )
                status = e.status.value
                if not await conn.execute(
                    "INSERT INTO status_events (document_id, sink, remote_id, status, note,"
                    " updated_at) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
                    (doc_id, e.sink, e.remote_id, status, e.note, e.updated_at.isoformat()),
                ):
                    continue
                added += 1
                if is_final(status):
                    await conn.execute(
                        "UPDATE outbox SET status_final = 1 WHERE sink = $1 AND remote_id = $2",
                        (e.sink, e.remote_id),
                    )
                if doc_id is not None and is_mirrored(status):
                    await _mirror(conn, doc_id, status, e.note)
            return added

    async def due_status(
        self, source: str, limit: int = 50, now: float | None = None
    ) -> list[StatusOut]:
        now = time.time() if now is None else now
        where = f"o.source = $1 AND o.state = '{Msg.PENDING}' AND o.next_attempt_at <= $2"
        rows = await self._due(
            "status_out", "status_out_pending", _STATUS_COLS, where, (source, now, limit)
        )
        loads = jsonutil.loads
        out = (
            StatusOut(r[0], r[1], r[2], r[3], r[4], r[5], loads(r[6]), loads(r[7]), r[8])
            for r in rows
        )
        return sorted(out, key=lambda s: s.id)

    async def status_sent(self, status_id: int, sent_id: str) -> None:
        async with self._tx() as conn:
            await conn.execute(
                f"UPDATE status_out SET state = '{Msg.SENT}', sent_id = $1, sent_at = $2,"
                f" attempts = attempts + 1{self.dialect.release} WHERE id = $3",
                (sent_id, now_iso(), status_id),
            )

    async def status_failed(self, status_id: int, error: str, retry_at: float | None) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE status_out SET attempts = attempts + 1, last_error = $1,"
                f" next_attempt_at = $2, state = CASE WHEN $3 THEN '{Msg.PENDING}'"
                f" ELSE '{Msg.DEAD}' END{self.dialect.release} WHERE id = $4",
                (error, retry_at or 0, retry_at is not None, status_id),
            )

    async def statuses_of(self, doc_id: int) -> dict[str, list[dict[str, Any]]]:
        home = await self._read().fetch(
            "SELECT sink, status, note, updated_at FROM status_events WHERE document_id = $1"
            " ORDER BY id",
            (doc_id,),
        )
        sent = await self._read().fetch(
            "SELECT s.source, s.code, s.description, s.state, s.sent_at, s.last_error"
            " FROM status_out s JOIN records r ON r.id = s.record_id WHERE r.document_id = $1"
            " ORDER BY s.id",
            (doc_id,),
        )
        home_keys = ("sink", "status", "note", "updated_at")
        sent_keys = ("source", "code", "description", "state", "sent_at", "last_error")
        return {
            "home": [dict(zip(home_keys, r, strict=True)) for r in home],
            "sent": [dict(zip(sent_keys, r, strict=True)) for r in sent],
        }

    async def status_pollable(
        self, sink: str, after: int = 0, limit: int = 50
    ) -> list[tuple[int, str]]:
        return [(i, remote) for i, remote, _ in await self.status_open(sink, after, limit)]

    async def status_open(
        self, sink: str, after: int = 0, limit: int = 500
    ) -> list[tuple[int, str, float]]:
        rows = await self._read().fetch(
            f"SELECT id, remote_id, done_at FROM outbox{self.dialect.indexed_by('outbox_status_open')}"
            f" WHERE sink = $1 AND op = '{Operation.CREATE}'"
            f" AND state = '{DeliveryState.DELIVERED}' AND status_final = 0 AND id > $2"
            " ORDER BY id LIMIT $3",
            (sink, after, limit),
        )
        return [(r[0], r[1], _epoch(r[2])) for r in rows]

    async def is_done_at_home(self, doc_id: int) -> bool:
        found = await self._read().fetchval(
            f"SELECT 1 FROM status_events WHERE document_id = $1 AND status = '{RemoteStatus.DONE}'"
            " LIMIT 1",
            (doc_id,),
        )
        return found is not None


def _epoch(value: object) -> float:
    """A stored time (ISO text, or a timestamp on PostgreSQL) as epoch seconds; 0 if absent."""
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, str) and value:
        return dt.datetime.fromisoformat(value).timestamp()
    return 0.0


async def _mirror(conn: Conn, doc_id: int, status: str, note: str | None) -> None:
    """Owe every sender of the document who hears status the one its home system reported."""
    records = await conn.fetch(
        f"SELECT id, source, unit FROM records WHERE document_id = $1 AND outcome IN ({_JOINED})"
        " AND id IN (SELECT record_id FROM status_out) ORDER BY id",  # whose sender hears us
        (doc_id,),
    )
    for record_id, source, unit in records:
        await _owe_home_status(conn, record_id, source, unit, status, note)


async def owe_reported(conn: Conn, doc_id: int, record_id: int) -> None:
    """A road that joins a document late: its sender is owed every status the home system
    already reported, after its first message (a code owed to it once is never owed again)."""
    events = await conn.fetch(
        "SELECT status, note, id FROM status_events WHERE document_id = $1 ORDER BY id", (doc_id,)
    )
    row = await conn.fetchrow("SELECT source, unit FROM records WHERE id = $1", (record_id,))
    if row is None:
        return
    for status, note in reported_in_order((e[0], e[1], e[2]) for e in events):
        await _owe_home_status(conn, record_id, row[0], row[1], status, note)


async def _owe_home_status(
    conn: Conn, record_id: int, source: str, unit: str, status: str, note: str | None
) -> None:
    """Owe the sender of a record the home status `status`, naming the document as its first
    status message to that sender did (as the sender wrote it)."""
    first = await conn.fetchrow(
        "SELECT to_organ::text, ref::text FROM status_out WHERE record_id = $1 ORDER BY id LIMIT 1",
        (record_id,),
    )
    if first is None:
        return
    to_organ, ref = jsonutil.loads(first[0]), jsonutil.loads(first[1])
    await _insert_status(conn, record_id, source, home_reply(unit, to_organ, ref, status, note))


async def enqueue_status(conn: Conn, record_id: int, replies: Iterable[StatusReply]) -> None:
    """The status messages a decision owes the sender of its record."""
    replies = list(replies)
    if not replies:  # most decisions owe no status: no read for them
        return
    source = await conn.fetchval("SELECT source FROM records WHERE id = $1", (record_id,))
    for reply in replies:
        await _insert_status(conn, record_id, source, reply)


async def _insert_status(conn: Conn, record_id: int, source: str, reply: StatusReply) -> None:
    await conn.execute(
        "INSERT INTO status_out (record_id, source, code, description, from_organ, to_organ,"
        " ref, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING",
        (
            record_id,
            source,
            reply.code,
            reply.description,
            reply.from_organ,
            dumps(reply.to_organ),
            dumps(reply.ref),
            now_iso(),
        ),
    )
