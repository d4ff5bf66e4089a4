"""Sending (văn bản đi): the outboxes' items as taken in, outgoing documents and versions, each
recipient on its road, and the move of a recipient's state with the dispatch reports it owes,
written in the transaction that makes the move (so a report is never lost nor sent twice)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import Any

from bridge import jsonutil
from bridge.domain.outbound import accepts, local_iso
from bridge.domain.outgoing import Intake, Move, NewRecipient, OutDoc, OutRecipient
from bridge.store.api import Fence
from bridge.store.driver.shim import Conn, Row
from bridge.store.sql.base import SqlBase, dumps, now_iso, raw_of
from bridge.store.sql.records import insert_raw, save_cursor
from schemas import Page, RawRecord

ITEM_COLS = (
    "id, outbox, unit, external_id, version, media_type, payload, attachments::text, ack,"
    " error, received_at"
)
DOC_COLS = (
    "id, unit, outbox, home_id, document_key, version, state, refused, data::text, created_at"
)
RCPT_COLS = (
    "id, doc_id, code, listed::text, name, email, road, to_addr, why, state, status_code,"
    " version, failed_roads::text, attempts, last_error, sent_at, arrived_at, updated_at"
)


class Outgoing(SqlBase):
    """Intake of outbox items, outgoing documents, recipients and their moves."""

    # ---- intake: what the outboxes gave, stored before they are acknowledged ---------------

    async def save_outbox_page(self, outbox: str, page: Page, *, fence: Fence = None) -> list[int]:
        async with self._tx(fence) as conn:
            new_ids = await insert_raw(conn, page.records, into="outgoing_items", source=outbox)
            await save_cursor(conn, outbox, page.cursor)
        return new_ids

    async def save_outbox_items(
        self, outbox: str, records: Sequence[RawRecord], *, fence: Fence = None
    ) -> list[int]:
        async with self._tx(fence) as conn:
            return await insert_raw(conn, records, into="outgoing_items", source=outbox)

    async def outbox_unacked(self, outbox: str, limit: int = 500) -> list[RawRecord]:
        rows = await self._read().fetch(
            f"SELECT {ITEM_COLS} FROM outgoing_items WHERE outbox = $1"
            f" AND acked = {self.dialect.false} ORDER BY id LIMIT $2",
            (outbox, limit),
        )
        return [raw_of(r) for r in rows]

    async def mark_outbox_acked(
        self, outbox: str, keys: Sequence[tuple[str, str, str]], *, fence: Fence = None
    ) -> None:
        async with self._tx(fence) as conn:
            await conn.executemany(
                f"UPDATE outgoing_items SET acked = {self.dialect.true} WHERE outbox = $1"
                " AND unit = $2 AND external_id = $3 AND version = $4",
                [(outbox, *k) for k in keys],
            )

    async def untaken_items(self, limit: int = 100) -> list[tuple[int, str, RawRecord]]:
        """Items not yet taken, oldest first: (item id, outbox, record)."""
        rows = await self._read().fetch(
            f"SELECT {ITEM_COLS} FROM outgoing_items WHERE taken = 0 ORDER BY id LIMIT $1",
            (limit,),
        )
        return [(r[0], r[1], raw_of(r)) for r in rows]

    async def skip_item(self, item_id: int, error: str) -> None:
        """An item that cannot be read: kept with its error, never taken again."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE outgoing_items SET taken = 1, error = $1 WHERE id = $2", (error, item_id)
            )

    # ---- documents and recipients ----------------------------------------------------------

    async def outgoing_doc(self, outbox: str, home_id: str) -> OutDoc | None:
        row = await self._read().fetchrow(
            f"SELECT {DOC_COLS} FROM outgoing_docs WHERE outbox = $1 AND home_id = $2",
            (outbox, home_id),
        )
        return None if row is None else _doc(row)

    async def outgoing_doc_by_id(self, doc_id: int) -> OutDoc | None:
        row = await self._read().fetchrow(
            f"SELECT {DOC_COLS} FROM outgoing_docs WHERE id = $1", (doc_id,)
        )
        return None if row is None else _doc(row)

    async def outgoing_docs_by_key(self, document_key: str) -> list[OutDoc]:
        rows = await self._read().fetch(
            f"SELECT {DOC_COLS} FROM outgoing_docs WHERE document_key = $1 ORDER BY id",
            (document_key,),
        )
        return [_doc(r) for r in rows]

    async def recipients_of(self, doc_id: int) -> list[OutRecipient]:
        rows = await self._read().fetch(
            f"SELECT {RCPT_COLS} FROM outgoing_recipients WHERE doc_id = $1 ORDER BY id",
            (doc_id,),
        )
        return [_recipient(r) for r in rows]

    async def recipient(self, recipient_id: int) -> OutRecipient | None:
        row = await self._read().fetchrow(
            f"SELECT {RCPT_COLS} FROM outgoing_recipients WHERE id = $1", (recipient_id,)
        )
        return None if row is None else _recipient(row)

    async def recipients_in(
        self,
        road: str,
        states: Sequence[str],
        limit: int = 200,
        due_by: float | None = None,
        outbox: str | None = None,
        after: int = 0,
    ) -> list[OutRecipient]:
        """Recipients on `road` in one of `states` (due by then, and of that outbox's
        documents, when given), oldest first from id `after` on."""
        marks = ", ".join(f"'{s}'" for s in states)
        where, args = [f"road = $1 AND state IN ({marks}) AND id > $3"], [road, limit, after]
        if due_by is not None:
            args.append(due_by)
            where.append(f"next_at <= ${len(args)}")
        if outbox is not None:
            args.append(outbox)
            where.append(f"doc_id IN (SELECT id FROM outgoing_docs WHERE outbox = ${len(args)})")
        rows = await self._read().fetch(
            f"SELECT {RCPT_COLS} FROM outgoing_recipients WHERE {' AND '.join(where)}"
            " ORDER BY id LIMIT $2",
            args,
        )
        return [_recipient(r) for r in rows]

    async def take_item(self, intake: Intake) -> int:
        """Apply what taking an outbox item changes, in one transaction; the document's id."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE outgoing_items SET taken = 1 WHERE id = $1", (intake.item_id,)
            )
            if intake.skip:
                found = await conn.fetchval(
                    "SELECT id FROM outgoing_docs WHERE outbox = $1 AND home_id = $2",
                    (intake.outbox, intake.home_id),
                )
                return int(found or 0)
            doc_id = await _upsert_doc(conn, intake)
            await conn.execute(
                "INSERT INTO outgoing_versions (doc_id, version, kind, item, built_at)"
                " VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
                (doc_id, intake.version, intake.kind, dumps(intake.data), now_iso()),
            )
            for new in intake.new_recipients:
                await _insert_recipient(conn, doc_id, intake.version, new)
            for move in intake.moves:
                await self._apply_move(conn, move)
            for rid in intake.paper:
                await _paper_task(conn, doc_id, rid, intake.version, intake.kind)
            return doc_id

    async def move(self, *moves: Move, paper: Sequence[tuple[int, int, str]] = ()) -> list[bool]:
        """Move recipients (each reported to the dispatch log), in one transaction; paper
        tasks (recipient, version, kind) with them. Each move's result: False when refused
        (not forward on the road)."""
        async with self._tx() as conn:
            done = [await self._apply_move(conn, m) for m in moves]
            for m, moved in zip(moves, done, strict=True):
                if moved and m.road is not None and m.road != "paper":
                    # back on a road that sends (an operator's retry): no paper dispatch left
                    await conn.execute(
                        "UPDATE outgoing_tasks SET done_at = $1"
                        " WHERE recipient_id = $2 AND done_at IS NULL",
                        (now_iso(), m.recipient_id),
                    )
            for rid, version, kind in paper:
                doc_id = await conn.fetchval(
                    "SELECT doc_id FROM outgoing_recipients WHERE id = $1", (rid,)
                )
                await _paper_task(conn, int(doc_id), rid, version, kind)
            return done

    async def note_attempt(
        self,
        recipient_ids: Sequence[int],
        message_id: int | None,
        road: str,
        error: str | None,
        next_at: float | None = None,
    ) -> None:
        """An attempt on a road (its error, None when it went through); a failed one is tried
        again at `next_at`."""
        async with self._tx() as conn:
            for rid in recipient_ids:
                await conn.execute(
                    "INSERT INTO outgoing_attempts (recipient_id, message_id, road, at, error)"
                    " VALUES ($1,$2,$3,$4,$5)",
                    (rid, message_id, road, now_iso(), error),
                )
                await conn.execute(
                    # `attempts` counts the failures in a row (the backoff grows with them);
                    # every attempt stays in outgoing_attempts
                    "UPDATE outgoing_recipients SET last_error = $1,"
                    " attempts = CASE WHEN $1 IS NULL THEN 0 ELSE attempts + 1 END,"
                    " next_at = COALESCE($2, next_at) WHERE id = $3",
                    (error, next_at, rid),
                )

    async def retry_now(self, recipient_id: int) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE outgoing_recipients SET next_at = 0 WHERE id = $1", (recipient_id,)
            )

    async def attempts_of(self, recipient_id: int) -> list[dict[str, Any]]:
        rows = await self._read().fetch(
            "SELECT road, at, error, message_id FROM outgoing_attempts WHERE recipient_id = $1"
            " ORDER BY id",
            (recipient_id,),
        )
        return [{"road": r[0], "at": r[1], "error": r[2], "message": r[3]} for r in rows]

    async def _apply_move(self, conn: Conn, m: Move) -> bool:
        row = await conn.fetchrow(
            f"SELECT {RCPT_COLS} FROM outgoing_recipients WHERE id = $1", (m.recipient_id,)
        )
        if row is None:
            return False
        r = _recipient(row)
        fresh = (m.version is not None and m.version != r.version) or (
            m.road is not None and m.road != r.road
        )
        if not accepts(r.state, m.state, m.status_code, fresh=fresh):
            return False
        road = m.road if m.road is not None else r.road
        to = m.to if m.road is not None else r.to
        version = m.version or r.version
        now = now_iso()
        failed = list(r.failed_roads) + ([m.failed_road] if m.failed_road else [])
        await conn.execute(
            "UPDATE outgoing_recipients SET state = $1, road = $2, to_addr = $3,"
            " why = COALESCE($4, why), status_code = COALESCE($5, status_code), version = $6,"
            " failed_roads = $7, next_at = COALESCE($8, next_at),"
            " last_error = COALESCE($9, last_error), updated_at = $10,"
            " sent_at = CASE WHEN $1 = 'sent' THEN $10 ELSE sent_at END,"
            " arrived_at = CASE WHEN $1 = 'arrived' THEN $10 ELSE arrived_at END WHERE id = $11",
            (
                m.state,
                road,
                to,
                m.why,
                m.status_code,
                version,
                dumps(failed),
                m.next_at,
                m.error,
                now,
                m.recipient_id,
            ),
        )
        if m.state == "queued" and m.road is not None:
            await conn.execute(
                "UPDATE outgoing_recipients SET status_code = NULL, attempts = 0 WHERE id = $1",
                (m.recipient_id,),
            )
        if m.error is not None:
            await conn.execute(
                "INSERT INTO outgoing_attempts (recipient_id, road, at, error)"
                " VALUES ($1,$2,$3,$4)",
                (m.recipient_id, r.road, now, m.error),
            )
        body = {
            "to": to,
            "version": version,
            "road": road,
            "state": m.state,
            "statusCode": m.status_code,
            "at": local_iso(dt.datetime.now(dt.UTC)),
            "detail": m.detail,
        }
        await _owe_reports(conn, r, body)
        return True


async def _owe_reports(conn: Conn, r: OutRecipient, body: dict[str, Any]) -> None:
    doc = await conn.fetchrow(
        "SELECT outbox, home_id FROM outgoing_docs WHERE id = $1", (r.doc_id,)
    )
    assert doc is not None
    seq = await conn.fetchval(
        "SELECT COUNT(*) FROM outgoing_reports WHERE recipient_id = $1", (r.id,)
    )
    for index, listed in enumerate(r.listed):
        key = f"lienthong-{doc[1]}-{r.id}-{int(seq or 0) + index + 1}"
        await conn.execute(
            "INSERT INTO outgoing_reports (doc_id, recipient_id, outbox, home_id, key, body,"
            " state, created_at) VALUES ($1,$2,$3,$4,$5,$6,'pending',$7)",
            (r.doc_id, r.id, doc[0], doc[1], key, dumps({"recipient": listed, **body}), now_iso()),
        )


async def _upsert_doc(conn: Conn, i: Intake) -> int:
    now = now_iso()
    found = await conn.fetchval(
        "SELECT id FROM outgoing_docs WHERE outbox = $1 AND home_id = $2", (i.outbox, i.home_id)
    )
    if found is not None:
        await conn.execute(
            "UPDATE outgoing_docs SET version = $1, state = $2, data = $3, updated_at = $4,"
            " refused = $5 WHERE id = $6",
            (i.version, i.state, dumps(i.data), now, i.refused, found),
        )
        return int(found)
    new_id = await conn.fetchval(
        "INSERT INTO outgoing_docs (unit, outbox, home_id, document_key, version, state, refused,"
        " data, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9) RETURNING id",
        (
            i.unit,
            i.outbox,
            i.home_id,
            i.document_key,
            i.version,
            i.state,
            i.refused,
            dumps(i.data),
            now,
        ),
    )
    return int(new_id)


async def _insert_recipient(conn: Conn, doc_id: int, version: int, n: NewRecipient) -> None:
    now = now_iso()
    rid = await conn.fetchval(
        "INSERT INTO outgoing_recipients (doc_id, code, listed, name, email, road, to_addr, why,"
        " state, version, updated_at, next_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
        " ON CONFLICT DO NOTHING RETURNING id",
        (
            doc_id,
            n.code,
            dumps(list(n.listed)),
            n.name,
            n.email,
            n.road,
            n.to,
            n.why,
            n.state,
            version,
            now,
            time.time(),
        ),
    )
    if rid is None:
        return
    if n.road == "paper":
        await _paper_task(conn, doc_id, int(rid), version, "new")
    row = await conn.fetchrow(f"SELECT {RCPT_COLS} FROM outgoing_recipients WHERE id = $1", (rid,))
    assert row is not None
    body = {
        "to": n.to,
        "version": version,
        "road": n.road,
        "state": n.state,
        "statusCode": None,
        "at": local_iso(dt.datetime.now(dt.UTC)),
        "detail": n.detail,
    }
    await _owe_reports(conn, _recipient(row), body)


async def _paper_task(conn: Conn, doc_id: int, rid: int, version: int, kind: str) -> None:
    await conn.execute(
        "INSERT INTO outgoing_tasks (doc_id, recipient_id, version, kind, created_at)"
        " VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
        (doc_id, rid, version, kind, now_iso()),
    )


def _doc(r: Row) -> OutDoc:
    return OutDoc(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], jsonutil.loads(r[8]), r[9])


def _recipient(r: Row) -> OutRecipient:
    return OutRecipient(
        r[0],
        r[1],
        r[2],
        tuple(jsonutil.loads(r[3])),
        r[4],
        r[5],
        r[6],
        r[7],
        r[8],
        r[9],
        r[10],
        r[11],
        tuple(jsonutil.loads(r[12])),
        r[13],
        r[14],
        r[15],
        r[16],
        r[17],
    )
