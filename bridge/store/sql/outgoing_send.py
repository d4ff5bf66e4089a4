"""Sending (văn bản đi), the second half: the exact messages kept before their first attempt, the
dispatch reports owed in order per recipient, paper tasks, and what operators read (lists,
figures, recipients still waiting for their 01)."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from typing import Any

from bridge import jsonutil
from bridge.domain.outbound import HOME_STATES, rank
from bridge.domain.outgoing import Move, OutDoc, OutMessage, OutRecipient, OutReport
from bridge.store.driver.shim import Row
from bridge.store.sql.base import dumps, in_params, now_iso
from bridge.store.sql.outgoing import DOC_COLS, RCPT_COLS, Outgoing, _doc, _recipient
from bridge.store.sql.records import insert_raw
from schemas import RawRecord
from schemas.outgoing import DispatchState

# a home status that moves the recipient forward (only those are worth reading again)
_AHEAD = (
    "(CASE e.status "
    + " ".join(f"WHEN '{k}' THEN {rank(v)}" for k, v in HOME_STATES.items())
    + " ELSE 0 END) > (CASE r.state "
    + " ".join(f"WHEN '{st.value}' THEN {rank(st)}" for st in DispatchState)
    + " ELSE 99 END)"
)
_R_COLS = ", ".join(f"r.{c.strip()}" for c in RCPT_COLS.split(","))
MSG_COLS = (
    "id, doc_id, version, road, kind, recipients::text, ident, bytes, remote_id, state, first_at"
)
_DUE_REPORTS = (
    "SELECT r.id, r.recipient_id, r.outbox, r.home_id, r.key, r.body::text, r.attempts"
    " FROM outgoing_reports r WHERE r.outbox = $1 AND r.state = 'pending' AND r.next_at <= $2"
    " AND NOT EXISTS (SELECT 1 FROM outgoing_reports p WHERE p.recipient_id = r.recipient_id"
    " AND p.state = 'pending' AND p.id < r.id) ORDER BY r.id LIMIT $3"
)


class OutgoingSend(Outgoing):
    """Messages, dispatch reports, paper tasks, and the operators' reads of sending."""

    async def keep_message(
        self,
        doc_id: int,
        version: int,
        road: str,
        kind: str,
        recipients: Sequence[int],
        ident: str,
        data: bytes,
    ) -> int:
        """Keep the exact bytes of a message before its first attempt; its id."""
        async with self._tx() as conn:
            new_id = await conn.fetchval(
                "INSERT INTO outgoing_messages (doc_id, version, road, kind, recipients, ident,"
                " bytes, state, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,'pending',$8)"
                " RETURNING id",
                (doc_id, version, road, kind, dumps(list(recipients)), ident, data, now_iso()),
            )
        return int(new_id)

    async def messages_of(self, doc_id: int, version: int | None = None) -> list[OutMessage]:
        where, args = "doc_id = $1", (doc_id,)  # type: tuple[str, tuple[int, ...]]
        if version is not None:
            where, args = "doc_id = $1 AND version = $2", (doc_id, version)
        rows = await self._read().fetch(
            f"SELECT {MSG_COLS} FROM outgoing_messages WHERE {where} ORDER BY id", args
        )
        return [_message(r) for r in rows]

    async def message_started(self, message_id: int) -> str:
        """An attempt starts: the message is `sending` until its answer is kept (so a crash
        meanwhile is known to be ambiguous); returns the first attempt's time."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE outgoing_messages SET state = 'sending', first_at = COALESCE(first_at, $1)"
                " WHERE id = $2",
                (now_iso(), message_id),
            )
            return str(
                await conn.fetchval(
                    "SELECT first_at FROM outgoing_messages WHERE id = $1", (message_id,)
                )
            )

    async def message_ended(
        self, message_id: int, state: str, remote_id: str | None = None
    ) -> None:
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE outgoing_messages SET state = $1, remote_id = COALESCE($2, remote_id),"
                " sent_at = CASE WHEN $1 = 'sent' THEN $3 ELSE sent_at END WHERE id = $4",
                (state, remote_id, now_iso(), message_id),
            )

    async def deliver_internal(self, record: RawRecord, *moves: Move) -> bool:
        """The internal road: the record enters the receiving unit's inbound flow (source
        `internal`) and the recipient moves, in one transaction. False when it was there."""
        async with self._tx() as conn:
            new = await insert_raw(conn, [record])
            for m in moves:
                await self._apply_move(conn, m)
            return bool(new)

    async def internal_progress(
        self, states: Sequence[str], limit: int = 500
    ) -> list[tuple[OutRecipient, list[str]]]:
        """Internal recipients in one of `states` whose receiving unit's home system reported
        on the document their record became: each with those statuses, oldest first."""
        marks = ", ".join(f"'{s}'" for s in states)
        rows = await self._read().fetch(
            f"SELECT {_R_COLS}, e.status FROM outgoing_recipients r"
            " JOIN outgoing_docs d ON d.id = r.doc_id"
            " JOIN records rec ON rec.source = 'internal' AND rec.unit = r.to_addr"
            " AND rec.external_id = d.outbox || '/' || d.home_id AND rec.document_id IS NOT NULL"
            " JOIN outbox o ON o.document_id = rec.document_id AND o.unit = r.to_addr"
            " AND o.op = 'create' AND o.remote_id IS NOT NULL"
            " JOIN status_events e ON e.sink = o.sink AND e.remote_id = o.remote_id"
            f" WHERE r.road = 'internal' AND r.state IN ({marks}) AND {_AHEAD}"
            " ORDER BY r.id, e.id LIMIT $1",
            (limit,),
        )
        found: dict[int, tuple[OutRecipient, list[str]]] = {}
        for row in rows:
            r = _recipient(row)
            found.setdefault(r.id, (r, []))[1].append(str(row[-1]))
        return list(found.values())

    # ---- dispatch reports -----------------------------------------------------------------

    async def due_reports(
        self, outbox: str, limit: int = 50, now: float | None = None
    ) -> list[OutReport]:
        rows = await self._read().fetch(
            _DUE_REPORTS, (outbox, time.time() if now is None else now, limit)
        )
        return [OutReport(r[0], r[1], r[2], r[3], r[4], jsonutil.loads(r[5]), r[6]) for r in rows]

    async def report_sent(self, *report_ids: int) -> None:
        """These reports were taken (one transaction for all)."""
        async with self._tx() as conn:
            await conn.executemany(
                "UPDATE outgoing_reports SET state = 'sent', attempts = attempts + 1,"
                " last_error = NULL WHERE id = $1",
                [(rid,) for rid in report_ids],
            )

    async def report_failed(self, report_id: int, error: str, retry_at: float | None) -> None:
        """A report not taken: tried again at `retry_at`, or dead (None) and out of the way."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE outgoing_reports SET attempts = attempts + 1, last_error = $1,"
                " next_at = $2, state = CASE WHEN $3 THEN 'pending' ELSE 'dead' END WHERE id = $4",
                (error, retry_at or 0, retry_at is not None, report_id),
            )

    async def reports_of(self, doc_id: int) -> list[dict[str, Any]]:
        rows = await self._read().fetch(
            "SELECT recipient_id, key, body::text, state, last_error FROM outgoing_reports"
            " WHERE doc_id = $1 ORDER BY id",
            (doc_id,),
        )
        keys = ("recipient_id", "key", "body", "state", "last_error")
        return [dict(zip(keys, (*r[:2], jsonutil.loads(r[2]), *r[3:]), strict=True)) for r in rows]

    # ---- paper tasks ----------------------------------------------------------------------

    async def paper_tasks(self, units: Collection[str] | None = None) -> list[dict[str, Any]]:
        """Paper dispatches still to do, oldest first (of these units' documents only)."""
        scope, args = "", tuple[str, ...]()
        if units is not None:
            scope, args = f" AND d.unit IN {in_params(units)}", tuple(units)
        rows = await self._read().fetch(
            "SELECT t.id, t.doc_id, t.recipient_id, t.version, t.kind, t.created_at, d.unit,"
            " r.code, r.name FROM outgoing_tasks t JOIN outgoing_docs d ON d.id = t.doc_id"
            " JOIN outgoing_recipients r ON r.id = t.recipient_id"
            f" WHERE t.done_at IS NULL{scope} ORDER BY t.id",
            args,
        )
        keys = (
            "id",
            "doc_id",
            "recipient_id",
            "version",
            "kind",
            "created_at",
            "unit",
            "code",
            "name",
        )
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # ---- what operators read --------------------------------------------------------------

    async def outgoing_page(
        self,
        units: Collection[str] | None,
        state: str | None,
        limit: int,
        before: int | None,
    ) -> list[OutDoc]:
        """Outgoing documents newest first (id below `before`); `state` keeps those with a
        recipient in that state."""
        where: list[str] = ["1 = 1"]
        args: list[object] = []
        if units is not None:
            where.append(f"unit IN {in_params(units, len(args) + 1)}")
            args.extend(units)
        if before is not None:
            args.append(before)
            where.append(f"id < ${len(args)}")
        if state is not None:
            args.append(state)
            where.append(
                f"id IN (SELECT doc_id FROM outgoing_recipients WHERE state = ${len(args)})"
            )
        args.append(limit)
        rows = await self._scan().fetch(
            f"SELECT {DOC_COLS} FROM outgoing_docs WHERE {' AND '.join(where)}"
            f" ORDER BY id DESC LIMIT ${len(args)}",
            args,
        )
        return [_doc(r) for r in rows]

    async def outbound_figures(self, units: Collection[str] | None = None) -> dict[str, Any]:
        """The `outbound` block of /status and each outbox's `taken` (contract.md)."""
        scope, args = "", tuple[str, ...]()
        if units is not None:
            scope, args = f" WHERE d.unit IN {in_params(units)}", tuple(units)
        read = self._scan()
        docs = await read.fetch(
            "SELECT d.outbox, COUNT(*), SUM(CASE WHEN d.refused IS NULL THEN 0 ELSE 1 END)"
            f" FROM outgoing_docs d{scope} GROUP BY d.outbox",
            args,
        )
        pairs = await read.fetch(
            "SELECT r.road, r.state, COUNT(*) FROM outgoing_recipients r"
            f" JOIN outgoing_docs d ON d.id = r.doc_id{scope} GROUP BY r.road, r.state",
            args,
        )
        by_road = {"internal": 0, "axis": 0, "mail": 0, "paper": 0}
        by_state = dict.fromkeys(
            (
                "queued",
                "sent",
                "arrived",
                "registered",
                "assigned",
                "processing",
                "done",
                "refused",
                "failed",
                "undeliverable",
            ),
            0,
        )
        for road, st, count in pairs:
            if road is not None:
                by_road[road] = by_road.get(road, 0) + int(count)
            by_state[st] = by_state.get(st, 0) + int(count)
        return {
            "documents": sum(int(r[1]) for r in docs),
            "refused": sum(int(r[2] or 0) for r in docs),
            "recipients": sum(by_state.values()),
            "by_road": by_road,
            "by_state": by_state,
            "taken": {r[0]: int(r[1]) for r in docs},
        }

    async def waiting_for_01(self, sent_before: str) -> list[tuple[OutDoc, OutRecipient]]:
        """Axis recipients sent before then that have not said 01 (arrived) yet."""
        rows = await self._read().fetch(
            f"SELECT {RCPT_COLS} FROM outgoing_recipients WHERE road = 'axis' AND state = 'sent'"
            " AND sent_at < $1 ORDER BY id LIMIT 200",
            (sent_before,),
        )
        recipients = [_recipient(r) for r in rows]
        ids = sorted({r.doc_id for r in recipients})
        docs = (
            await self._read().fetch(
                f"SELECT {DOC_COLS} FROM outgoing_docs WHERE id IN {in_params(ids)}", tuple(ids)
            )
            if ids
            else []
        )
        by_id = {d.id: d for d in map(_doc, docs)}
        return [(by_id[r.doc_id], r) for r in recipients if r.doc_id in by_id]


def _message(r: Row) -> OutMessage:
    return OutMessage(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        tuple(jsonutil.loads(r[5])),
        r[6],
        bytes(r[7]),
        r[8],
        r[9],
        r[10],
    )
