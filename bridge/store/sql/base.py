"""What every part of the SQL layer stands on: the driver's hooks, the column lists, the
mapping of rows to the store's row types, and the time stamp the store writes.

A driver (bridge/store/driver/) provides the hooks: `_tx` (a write transaction, fenced on
request), `_read` (point reads: inside a batch they see its writes), `_scan` (long reads for
people), `_write_soon` (a small write that may ride along with another commit) and
`_claim_args` (who claims due rows, for how long, where the dialect claims).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Self

from bridge import jsonutil
from bridge.domain.entities import Delivery, DocumentRow, StoredRecord
from bridge.store.api import Fence
from bridge.store.dialect import Dialect
from bridge.store.driver.shim import Conn, Row
from schemas import Attachment, Document, RawRecord

RECORD_COLS = (
    "id, source, unit, external_id, version, media_type, payload, attachments::text, ack,"
    " error, received_at, acked, outcome, document_id, decision::text, released"
)
DOCUMENT_COLS = (
    "id, triple, issuer_code, issuer_key, state, revision, data::text, conflicts::text,"
    " created_at, updated_at"
)
DELIVERY_COLS = (
    "o.id, o.document_id, o.unit, o.sink, o.op, o.revision, o.key, o.body::text, o.state,"
    " o.attempts, o.next_attempt_at, o.last_error, o.remote_id, o.created_at, o.note"
)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def dumps(value: Any) -> str:
    """JSON text for a JSON column."""
    return jsonutil.dumps(value).decode()


class SqlBase:
    """The hooks a driver provides (see the module's docstring)."""

    dialect: Dialect

    async def open(self) -> Self:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _tx(self, fence: Fence = None) -> AbstractAsyncContextManager[Conn]:
        raise NotImplementedError

    def _read(self) -> Conn:
        raise NotImplementedError

    def _scan(self) -> Conn:
        raise NotImplementedError

    def _long(self, conn: Conn) -> Conn:
        """`conn` for statements over the whole store (off the event loop where that matters)."""
        return conn

    async def _write_soon(self, sql: str, args: Sequence[Any]) -> int:
        raise NotImplementedError

    def _claim_args(self) -> tuple[Any, ...]:
        return ()

    async def _due(
        self, table: str, index: str, cols: str, where: str, args: Sequence[Any]
    ) -> list[Row]:
        """Due rows of a queue (`Dialect.pick`), claimed in a transaction where the dialect
        claims. Rows another live instance claimed are skipped and this instance's own are
        offered again (so rows a worker left untried are not held for a whole TTL): each
        instance runs one caller per queue at a time, as the workers do."""
        sql = self.dialect.pick(table, index, cols, where)
        args = (*args, *self._claim_args())
        if not self.dialect.claims:
            return await self._read().fetch(sql, args)  # in id order straight from the index
        async with self._tx() as conn:
            return await conn.fetch(sql, args)

    async def _audit(
        self, conn: Conn, actor: str, action: str, target: str, detail: dict[str, Any]
    ) -> None:
        await conn.execute(
            "INSERT INTO audit (at, actor, action, target, detail) VALUES ($1,$2,$3,$4,$5)",
            (now_iso(), actor, action, target, dumps(detail)),
        )


def record_row(r: Row) -> StoredRecord:
    raw = raw_of(r)
    decision = jsonutil.loads(r[14]) if r[14] else None
    return StoredRecord(r[0], raw, bool(r[11]), r[12], r[13], decision, bool(r[15]))


def raw_of(r: Row) -> RawRecord:
    """The raw record of a row whose columns 1-10 are source (or outbox), unit, external_id,
    version, media_type, payload, attachments, ack, error, received_at."""
    return RawRecord(
        source=r[1],
        unit=r[2],
        external_id=r[3],
        version=r[4],
        media_type=r[5],
        payload=bytes(r[6]),
        attachments=tuple(Attachment.model_validate(a) for a in jsonutil.loads(r[7])),
        ack=r[8],
        error=r[9],
        received_at=dt.datetime.fromisoformat(r[10]),
    )


def document_row(r: Row) -> DocumentRow:
    document = Document.model_validate_json(r[6])
    return DocumentRow(
        r[0], r[1], r[2], r[3], r[4], r[5], document, jsonutil.loads(r[7]), r[8], r[9]
    )


def delivery_row(r: Row) -> Delivery:
    body = jsonutil.loads(r[7]) if r[7] else None
    return Delivery(
        *(r[0], r[1], r[2], r[3], r[4], r[5], r[6], body, r[8], r[9]),
        r[10],
        r[11],
        r[12],
        r[13],
        r[14],
    )


def in_params(values: Collection[object], first: int = 1) -> str:
    """`($1, $2, …)`: the placeholders of an IN list of `values`, numbered from `first`."""
    return "(" + ", ".join(f"${i}" for i in range(first, first + len(values))) + ")"
