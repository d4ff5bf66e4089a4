"""The embedded store: SQLite in WAL mode, synchronous=FULL.

Durability: with WAL and `synchronous=FULL` a transaction is on disk when COMMIT returns, so a
power cut after a source was acknowledged cannot lose the record. (NORMAL would be faster but
may lose the last transactions on power loss, which would break "stored before acknowledged".)

Connections (see `sqlite_conn` for why short statements run inline):
- the writer: every write, serialized between coroutines by `_tx` / `batch()`; statements
  inline, waiting for the lock and COMMIT's fsync on its own thread. Reads made inside a batch
  use it too, so they see the batch's own uncommitted writes;
- the reader: point reads outside a transaction, inline; it sees committed data only;
- the scanner (aiosqlite): reads that may take long (lists, search, counts, export), off the
  event loop so a page refresh never delays a webhook;
- the checkpointer (aiosqlite): copies the WAL back in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import structlog

from bridge import jsonutil
from bridge.store.base import Delivery, DocumentRow, Outcome, StatusOut, StatusReply, StoredRecord
from bridge.store.leases_sqlite import SqliteLeases, check_fence
from bridge.store.migrations import MIGRATIONS
from bridge.store.search import (
    EXACT,
    PARTIAL,
    REKEY_AT,
    REKEY_BATCH,
    FoundDocument,
    found,
    rekeyed,
    search_key,
    search_patterns,
)
from bridge.store.sqlite_conn import Db, SqlConnection
from bridge.supervisor import log_failure
from schemas import Attachment, Document, Page, RawRecord, StatusEvent

_RECORD_COLS = (
    "id, source, unit, external_id, version, media_type, payload, attachments, ack, error,"
    " received_at, acked, outcome, document_id, decision, released"
)
HOME_STATUS_CODES = {
    "received": ("03", "đã tiếp nhận / registered"),
    "assigned": ("04", "phân công / assigned"),
    "processing": ("05", "đang xử lý / being handled"),
    "done": ("06", "hoàn thành / done"),
    "rejected": ("02", "từ chối tiếp nhận / refused"),
}
FINAL_STATUSES = frozenset({"done", "rejected"})  # nothing more to ask the home system
# The order a document moves through at home: a road that joins late hears them in it.
HOME_STATUS_ORDER = {status: rank for rank, status in enumerate(HOME_STATUS_CODES)}
JOINED = frozenset({"document", "duplicate", "revision"})  # outcomes whose sender hears status
CORRECT = "correct"  # the outbox op of a correction (bridge.interfaces.Operation.CORRECT)
_DELIVERY_COLS = (
    "id, document_id, unit, sink, op, revision, key, body, state, attempts, next_attempt_at,"
    " last_error, remote_id, created_at, note"
)


log = structlog.get_logger(__name__)
# Inside `batch()`: the fences already checked in its transaction (none can change before it
# ends: it holds the write lock); None outside a batch.
_IN_BATCH: contextvars.ContextVar[set[tuple[str, int]] | None] = contextvars.ContextVar(
    "sqlite_batch", default=None
)


def _settle(
    riders: list[tuple[str, tuple[Any, ...], asyncio.Future[int]]],
    counts: list[int | sqlite3.Error],
) -> None:
    for (_, _, future), count in zip(riders, counts, strict=True):
        if future.done():
            continue  # its caller was cancelled meanwhile
        if isinstance(count, sqlite3.Error):
            future.set_exception(count)
        else:
            future.set_result(count)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class SqliteStore(SqliteLeases):
    """All SQL of the embedded backend, behind methods that speak the domain."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: SqlConnection | None = None
        self._reader: SqlConnection | None = None
        self._scanner: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._pending_writes: list[tuple[str, tuple[Any, ...], asyncio.Future[int]]] = []
        self._group_task: asyncio.Task[None] | None = None
        self._checkpointer: asyncio.Task[None] | None = None

    async def open(self) -> SqliteStore:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await SqlConnection.connect(
                self.path,
                "sqlite-writer",
                "PRAGMA busy_timeout=10000",
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=FULL",
                # Checkpoints run on a connection of their own (below), not inside whichever
                # commit happens to cross the threshold, so no write waits for one.
                "PRAGMA wal_autocheckpoint=0",
                # Inline statements must never sleep on a lock: BEGIN IMMEDIATE waits for
                # another process's write lock on the worker thread instead.
                "PRAGMA busy_timeout=0",
            )
            await self._migrate()
            self._reader = await SqlConnection.connect(
                self.path, "sqlite-reader", "PRAGMA busy_timeout=10000", "PRAGMA query_only=1"
            )
            self._scanner = await aiosqlite.connect(self.path, isolation_level=None)
            await self._scanner.execute("PRAGMA busy_timeout=10000")
            await self._scanner.execute("PRAGMA query_only=1")
        except BaseException:
            await self._close_connections()
            raise
        self._checkpointer = asyncio.create_task(
            self._checkpoint_forever(), name="sqlite-checkpoint"
        )
        self._checkpointer.add_done_callback(log_failure)
        return self

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
            self._checkpointer = None
        if self._group_task is not None:
            await asyncio.gather(self._group_task, return_exceptions=True)
        try:
            if self._writer is not None:
                # Readers close first so the checkpoint can empty the WAL completely.
                await self._close_readers()
                await self._writer.run(lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        except sqlite3.Error as exc:  # the WAL is still valid; the next open replays it
            log.warning("sqlite_final_checkpoint_failed", error=str(exc))
        finally:
            await self._close_connections()

    async def _close_connections(self) -> None:
        await self._close_readers()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    async def _close_readers(self) -> None:
        if self._scanner is not None:
            await self._scanner.close()
            self._scanner = None
        if self._reader is not None:
            await self._reader.close()
            self._reader = None

    async def _checkpoint_forever(self, every_s: float = 1.0) -> None:
        """Copy the WAL back into the database file in the background (PASSIVE: never blocks
        writers); the WAL is reused from its start once a checkpoint completes."""
        while True:
            try:
                async with aiosqlite.connect(self.path, isolation_level=None) as db:
                    await db.execute("PRAGMA busy_timeout=10000")
                    while True:
                        await asyncio.sleep(every_s)
                        await db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except (sqlite3.Error, OSError) as exc:  # the next commit still succeeds; retry
                log.warning("sqlite_checkpoint_failed", error=str(exc))
                await asyncio.sleep(every_s * 5)

    async def __aenter__(self) -> SqliteStore:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def writer(self) -> SqlConnection:
        if self._writer is None:
            raise RuntimeError("store is not open")
        return self._writer

    @property
    def db(self) -> SqlConnection:
        """The connection for a short read: the writer inside a batch (to see its writes),
        the reader otherwise."""
        if _IN_BATCH.get() is not None:
            return self.writer
        if self._reader is None:
            raise RuntimeError("store is not open")
        return self._reader

    @property
    def scanner(self) -> aiosqlite.Connection:
        """The connection for reads that may take long, off the event loop."""
        if self._scanner is None:
            raise RuntimeError("store is not open")
        return self._scanner

    @asynccontextmanager
    async def _tx(self, fence: tuple[str, int] | None = None) -> AsyncIterator[SqlConnection]:
        """One write transaction; with `fence`, refused (StaleLeaseError) on a lost lease.

        Inside `batch()` it joins the batch's transaction instead of opening its own.
        """
        if (checked := _IN_BATCH.get()) is not None:
            if fence is not None and fence not in checked:
                await check_fence(self.writer, *fence)
                checked.add(fence)
            yield self.writer
            return
        async with self._lock:
            writer = self.writer
            await writer.begin_immediate()
            try:
                if fence is not None:
                    await check_fence(writer, *fence)
                yield writer
            except BaseException:
                await writer.rollback()
                raise
            await self._commit(writer)

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Group commit: every write inside shares one transaction (one fsync for many).

        Other coroutines' writes wait until it ends, so keep a batch short (tens of ms).
        Rolled back whole if anything inside raises.
        """
        if _IN_BATCH.get() is not None:
            yield
            return
        async with self._lock:
            writer = self.writer
            await writer.begin_immediate()
            token = _IN_BATCH.set(set())
            try:
                yield
            except BaseException:
                await writer.rollback()
                raise
            else:
                await self._commit(writer)
            finally:
                _IN_BATCH.reset(token)

    async def _commit(self, writer: SqlConnection) -> None:
        """COMMIT, taking along the delivery workers' writes waiting for one (`_grouped`):
        they run last in this transaction and are durable with it, so they never wait for
        the lock behind a batch."""
        riders, self._pending_writes = self._pending_writes, []
        counts: list[int | sqlite3.Error] = []
        for sql, args, _ in riders:
            try:
                counts.append((await writer.execute(sql, args)).rowcount)
            except sqlite3.Error as exc:  # that statement only; the transaction goes on
                counts.append(exc)
        try:
            await writer.commit()
        except BaseException:
            if writer.in_transaction:  # not committed: the riders wait for the next commit
                with contextlib.suppress(sqlite3.Error):
                    await writer.rollback()
                self._pending_writes[:0] = riders
                self._start_group_commits()
                raise
            _settle(riders, counts)  # committed, then the caller was cancelled
            raise
        _settle(riders, counts)

    async def _migrate(self) -> None:
        async with self._tx() as db:
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version"
                " (version INTEGER PRIMARY KEY, applied_at TEXT)"
            )
            rows = await db.execute_fetchall("SELECT version FROM schema_version")
        done = {r[0] for r in rows}
        for version, sql in MIGRATIONS:
            if version in done:
                continue
            async with self._tx() as db:
                for statement in filter(str.strip, sql.split(";")):
                    await db.execute(statement)
                if version == REKEY_AT:
                    await _rekey(db)
                await db.execute("INSERT INTO schema_version VALUES (?, ?)", (version, now_iso()))
            log.info("store_migrated", backend="sqlite", version=version)

    async def schema_version(self) -> int:
        rows = await self.db.execute_fetchall("SELECT max(version) FROM schema_version")
        return int(next(iter(rows))[0] or 0)

    # ---- records and cursors -------------------------------------------------------------

    async def save_page(
        self, source: str, page: Page, *, fence: tuple[str, int] | None = None
    ) -> list[int]:
        """Store every record of a page and the page's cursor in one transaction.

        Returns the ids of records seen for the first time; a re-read of a stored
        (source, unit, external_id, version) is ignored.
        """
        async with self._tx(fence) as db:
            new_ids = await self._insert_records(db, page.records)
            if page.cursor is not None:
                await db.execute(
                    "INSERT INTO cursors (source, cursor, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor,"
                    " updated_at = excluded.updated_at",
                    (source, page.cursor, now_iso()),
                )
        return new_ids

    async def _insert_records(self, db: Db, records: Sequence[RawRecord]) -> list[int]:
        new_ids: list[int] = []
        for r in records:
            cur = await db.execute(
                "INSERT INTO records (source, unit, external_id, version, media_type, payload,"
                " attachments, ack, error, received_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT DO NOTHING",
                (
                    r.source,
                    r.unit,
                    r.external_id,
                    r.version,
                    r.media_type,
                    r.payload,
                    jsonutil.dumps([a.model_dump(mode="json") for a in r.attachments]).decode(),
                    r.ack,
                    r.error,
                    r.received_at.isoformat(),
                ),
            )
            if cur.rowcount == 1 and cur.lastrowid is not None:
                new_ids.append(cur.lastrowid)
        return new_ids

    async def get_cursor(self, source: str) -> str | None:
        rows = list(
            await self.db.execute_fetchall("SELECT cursor FROM cursors WHERE source = ?", (source,))
        )
        return rows[0][0] if rows else None

    async def unacked(self, source: str, limit: int = 500) -> list[StoredRecord]:
        rows = await self.db.execute_fetchall(
            f"SELECT {_RECORD_COLS} FROM records WHERE source = ? AND acked = 0 ORDER BY id LIMIT ?",
            (source, limit),
        )
        return [_record(r) for r in rows]

    async def mark_acked_many(
        self, keys: Sequence[tuple[str, str, str, str]], *, fence: tuple[str, int] | None = None
    ) -> None:
        """Mark (source, unit, external_id, version) records acknowledged, in one transaction."""
        async with self._tx(fence) as db:
            await db.executemany(
                "UPDATE records SET acked = 1 WHERE source = ? AND unit = ? AND external_id = ?"
                " AND version = ?",
                keys,
            )

    async def mark_acked(
        self,
        source: str,
        unit: str,
        external_id: str,
        version: str,
        *,
        fence: tuple[str, int] | None = None,
    ) -> None:
        async with self._tx(fence) as db:
            await db.execute(
                "UPDATE records SET acked = 1 WHERE source = ? AND unit = ? AND external_id = ?"
                " AND version = ?",
                (source, unit, external_id, version),
            )

    async def unprocessed(self, limit: int = 200) -> list[StoredRecord]:
        rows = await self.db.execute_fetchall(
            f"SELECT {_RECORD_COLS} FROM records WHERE outcome IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [_record(r) for r in rows]

    async def waiting(self, limit: int = 500) -> list[StoredRecord]:
        """Revisions and revocations whose target document has not arrived yet."""
        rows = await self.db.execute_fetchall(
            f"SELECT {_RECORD_COLS} FROM records WHERE outcome = 'waiting' ORDER BY id LIMIT ?",
            (limit,),
        )
        return [_record(r) for r in rows]

    async def record(self, record_id: int) -> StoredRecord | None:
        rows = list(
            await self.db.execute_fetchall(
                f"SELECT {_RECORD_COLS} FROM records WHERE id = ?", (record_id,)
            )
        )
        return _record(rows[0]) if rows else None

    async def remember_event(self, name: str, event_id: str) -> bool:
        """Record a webhook event id; False when it was seen before (a repeat to ignore)."""
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO hook_events VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (name, event_id, now_iso()),
            )
            return cur.rowcount == 1

    async def save_records(
        self, records: Sequence[RawRecord], *, fence: tuple[str, int] | None = None
    ) -> list[int]:
        async with self._tx(fence) as db:
            return await self._insert_records(db, records)

    async def save_status_events(self, events: Sequence[StatusEvent]) -> int:
        """Store status reports from home systems; a repeat of the same status is ignored."""
        async with self._tx() as db:
            added = 0
            for e in events:
                rows = list(
                    await db.execute_fetchall(
                        "SELECT document_id FROM outbox WHERE sink = ? AND remote_id = ? LIMIT 1",
                        (e.sink, e.remote_id),
                    )
                )
                cur = await db.execute(
                    "INSERT INTO status_events (document_id, sink, remote_id, status, note, updated_at)"
                    " VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                    (
                        rows[0][0] if rows else None,
                        e.sink,
                        e.remote_id,
                        e.status.value,
                        e.note,
                        e.updated_at.isoformat(),
                    ),
                )
                added += cur.rowcount
                if cur.rowcount == 1 and e.status.value in FINAL_STATUSES:
                    await db.execute(
                        "UPDATE outbox SET status_final = 1 WHERE sink = ? AND remote_id = ?",
                        (e.sink, e.remote_id),
                    )
                if cur.rowcount == 1 and rows and e.status.value in HOME_STATUS_CODES:
                    await self._mirror_status(db, rows[0][0], e.status.value, e.note)
            return added

    async def _mirror_status(self, db: Db, doc_id: int, status: str, note: str | None) -> None:
        """Owe every edXML sender of the document the status its home system reported."""
        records = await db.execute_fetchall(
            "SELECT id, source, unit FROM records WHERE document_id = ?"
            " AND outcome IN ('document', 'duplicate', 'revision')"
            " AND id IN (SELECT record_id FROM status_out)",  # records whose sender hears from us
            (doc_id,),
        )
        for record_id, source, unit in records:
            await self._owe_home_status(db, record_id, source, unit, status, note)

    async def _owe_reported(self, db: Db, doc_id: int, record_id: int) -> None:
        """A road that joins a document late: its sender is owed every status the home system
        already reported, after its 01 and in the order a document moves through at home
        (a code owed to it once is never owed again)."""
        events = await db.execute_fetchall(
            "SELECT status, note, id FROM status_events WHERE document_id = ? ORDER BY id",
            (doc_id,),
        )
        reported = sorted(
            (e for e in events if e[0] in HOME_STATUS_CODES),
            key=lambda e: (HOME_STATUS_ORDER[e[0]], e[2]),
        )
        rows = list(
            await db.execute_fetchall("SELECT source, unit FROM records WHERE id = ?", (record_id,))
        )
        for status, note, _ in reported if rows else ():
            await self._owe_home_status(db, record_id, rows[0][0], rows[0][1], status, note)

    async def _owe_home_status(
        self, db: Db, record_id: int, source: str, unit: str, status: str, note: str | None
    ) -> None:
        """Owe the sender of a record the home status `status`, naming the document as its
        first status message to that sender did (as the sender wrote it)."""
        first = list(
            await db.execute_fetchall(
                "SELECT to_organ, ref FROM status_out WHERE record_id = ? ORDER BY id LIMIT 1",
                (record_id,),
            )
        )
        if not first:
            return
        to_organ, ref = jsonutil.loads(first[0][0]), jsonutil.loads(first[0][1])
        await self._insert_status(
            db, record_id, source, home_reply(unit, to_organ, ref, status, note)
        )

    # ---- documents and matching ----------------------------------------------------------

    async def documents_by_triple(self, triple: str) -> list[DocumentRow]:
        rows = await self.db.execute_fetchall(
            "SELECT id, triple, issuer_code, issuer_key, state, revision, data, conflicts,"
            " created_at, updated_at FROM documents WHERE triple = ? AND state != 'merged'",
            (triple,),
        )
        return [_document(r) for r in rows]

    async def documents_by_attachment(self, sha256s: Iterable[str]) -> list[DocumentRow]:
        shas = sorted(set(sha256s))
        if not shas:
            return []
        marks = ",".join("?" * len(shas))
        rows = await self.db.execute_fetchall(
            "SELECT d.id, d.triple, d.issuer_code, d.issuer_key, d.state, d.revision, d.data,"
            " d.conflicts, d.created_at, d.updated_at FROM documents d WHERE d.id IN"
            f" (SELECT document_id FROM attachment_index WHERE sha256 IN ({marks}))"
            " AND d.state != 'merged' ORDER BY d.id",
            shas,
        )
        return [_document(r) for r in rows]

    async def document(self, document_id: int) -> DocumentRow | None:
        rows = list(
            await self.db.execute_fetchall(
                "SELECT id, triple, issuer_code, issuer_key, state, revision, data, conflicts,"
                " created_at, updated_at FROM documents WHERE id = ?",
                (document_id,),
            )
        )
        return _document(rows[0]) if rows else None

    async def apply(self, outcome: Outcome, *, fence: tuple[str, int] | None = None) -> int | None:
        """Apply one matching decision and all its consequences atomically.

        Returns the document id the record ended up with (None when quarantined apart, or
        when the record was decided already: a decision is applied once). With `fence`, refused
        (StaleLeaseError) once the matching lease has passed to another instance.
        """
        async with self._tx(fence) as db:
            claimed = await db.execute(
                "UPDATE records SET outcome = ? WHERE id = ? AND (outcome IS NULL OR outcome = 'waiting')",
                (outcome.outcome, outcome.record_id),
            )
            if claimed.rowcount != 1:
                return None  # decided already (by an instance whose lease we took over)
            doc_id = outcome.document_id
            if outcome.new_document is not None:
                doc_id = await self._insert_document(db, outcome)
            elif doc_id is not None and outcome.updated_document is not None:
                await self._update_document(db, doc_id, outcome)
            if doc_id is not None and outcome.conflict is not None:
                await self._add_conflict(db, doc_id, outcome.conflict)
            if outcome.quarantine is not None:
                kind, reason = outcome.quarantine
                await db.execute(
                    "INSERT INTO quarantine (record_id, kind, reason, created_at) VALUES (?,?,?,?)"
                    " ON CONFLICT (record_id) DO UPDATE SET kind = excluded.kind,"
                    " reason = excluded.reason, released_at = NULL",
                    (outcome.record_id, kind, reason, now_iso()),
                )
            if doc_id is not None and outcome.cancel_pending_creates:
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', done_at = ? WHERE document_id = ?"
                    " AND op = 'create' AND state = 'pending' AND body IS NULL",  # nothing sent yet
                    (now_iso(), doc_id),
                )
            if doc_id is not None:
                await self._enqueue(db, doc_id, outcome.deliveries, outcome.correction_note)
            await self._enqueue_status(db, outcome.record_id, outcome.status_replies)
            if doc_id is not None and outcome.status_replies and outcome.outcome in JOINED:
                await self._owe_reported(db, doc_id, outcome.record_id)
            await db.execute(
                "UPDATE records SET outcome = ?, document_id = ?, decision = ? WHERE id = ?",
                (
                    outcome.outcome,
                    doc_id,
                    jsonutil.dumps(outcome.decision).decode(),
                    outcome.record_id,
                ),
            )
            return doc_id

    async def _insert_document(self, db: Db, outcome: Outcome) -> int:
        new = outcome.new_document
        assert new is not None
        stamp = now_iso()
        data = new.document.model_dump_json()
        cur = await db.execute(
            "INSERT INTO documents (triple, issuer_code, issuer_key, fallback, state, revision,"
            " data, created_at, updated_at, search_key) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                new.triple,
                new.issuer_code,
                new.issuer_key,
                new.fallback,
                new.document.state.value,
                new.document.revision,
                data,
                stamp,
                stamp,
                search_key(new.document),
            ),
        )
        doc_id = cur.lastrowid
        assert doc_id is not None
        await db.executemany(
            "INSERT INTO attachment_index VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(a.sha256, doc_id) for a in new.document.attachments],
        )
        await db.execute(
            "INSERT INTO revisions VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
            (
                doc_id,
                new.document.revision,
                outcome.record_id,
                data,
                stamp,
            ),
        )
        return doc_id

    async def _update_document(self, db: Db, doc_id: int, outcome: Outcome) -> None:
        doc = outcome.updated_document
        assert doc is not None
        stamp = now_iso()
        await db.execute(
            "UPDATE documents SET data = ?, state = ?, revision = ?, updated_at = ?, search_key = ?"
            " WHERE id = ?",
            (doc.model_dump_json(), doc.state.value, doc.revision, stamp, search_key(doc), doc_id),
        )
        await db.executemany(
            "INSERT INTO attachment_index VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(a.sha256, doc_id) for a in doc.attachments],
        )
        if outcome.outcome == "revision":
            await db.execute(
                "INSERT INTO revisions VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                (doc_id, doc.revision, outcome.record_id, doc.model_dump_json(), stamp),
            )

    async def _add_conflict(self, db: Db, doc_id: int, conflict: dict[str, Any]) -> None:
        rows = list(
            await db.execute_fetchall("SELECT conflicts FROM documents WHERE id = ?", (doc_id,))
        )
        conflicts = jsonutil.loads(rows[0][0]) if rows else []
        conflicts.append(conflict)
        await db.execute(
            "UPDATE documents SET conflicts = ? WHERE id = ?",
            (jsonutil.dumps(conflicts).decode(), doc_id),
        )

    async def _enqueue(
        self,
        db: Db,
        doc_id: int,
        deliveries: Iterable[tuple[str, str, str, int]],
        note: str | None = None,
    ) -> None:
        """One outbox row per (unit, sink, op, revision); an update, revocation or correction
        only where a create exists that was not cancelled. Each correction is a row of its own,
        numbered in its `revision` column, with `note`."""
        stamp = now_iso()
        for unit, sink, op, revision in deliveries:
            if op != "create":
                created = list(
                    await db.execute_fetchall(
                        "SELECT state FROM outbox WHERE document_id = ? AND unit = ? AND sink = ?"
                        " AND op = 'create'",
                        (doc_id, unit, sink),
                    )
                )
                if not created or created[0][0] == "cancelled":
                    continue  # nothing at the sink to update or revoke
            if op == CORRECT:
                rows = await db.execute_fetchall(
                    "SELECT count(*) FROM outbox WHERE document_id = ? AND unit = ? AND sink = ?"
                    " AND op = ?",
                    (doc_id, unit, sink, op),
                )
                revision = int(next(iter(rows))[0]) + 1
            await db.execute(
                "INSERT INTO outbox (document_id, unit, sink, op, revision, key, created_at, note)"
                " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                (
                    doc_id,
                    unit,
                    sink,
                    op,
                    revision,
                    str(uuid.uuid4()),
                    stamp,
                    note if op == CORRECT else None,
                ),
            )

    async def sinks_holding(self, doc_id: int) -> list[tuple[str, str]]:
        rows = await self.db.execute_fetchall(
            "SELECT DISTINCT unit, sink FROM outbox WHERE document_id = ? AND op = 'create'"
            " AND state != 'cancelled'",
            (doc_id,),
        )
        return [(r[0], r[1]) for r in rows]

    # ---- business status owed to senders -------------------------------------------------

    async def _enqueue_status(self, db: Db, record_id: int, replies: Iterable[StatusReply]) -> None:
        replies = list(replies)
        if not replies:  # most decisions owe no status: no read for them
            return
        rows = list(
            await db.execute_fetchall("SELECT source FROM records WHERE id = ?", (record_id,))
        )
        for reply in replies:
            await self._insert_status(db, record_id, rows[0][0], reply)

    async def _insert_status(self, db: Db, record_id: int, source: str, reply: StatusReply) -> None:
        await db.execute(
            "INSERT INTO status_out (record_id, source, code, description, from_organ, to_organ, ref,"
            " created_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (
                record_id,
                source,
                reply.code,
                reply.description,
                reply.from_organ,
                jsonutil.dumps(reply.to_organ).decode(),
                jsonutil.dumps(reply.ref).decode(),
                now_iso(),
            ),
        )

    async def due_status(
        self, source: str, limit: int = 50, now: float | None = None
    ) -> list[StatusOut]:
        now = time.time() if now is None else now
        rows = await self.db.execute_fetchall(
            "SELECT id, record_id, source, code, description, from_organ, to_organ, ref, attempts"
            " FROM status_out INDEXED BY status_out_pending"
            " WHERE source = ? AND state = 'pending' AND next_attempt_at <= ?"
            " ORDER BY id LIMIT ?",
            (source, now, limit),
        )
        return [
            StatusOut(
                r[0], r[1], r[2], r[3], r[4], r[5], jsonutil.loads(r[6]), jsonutil.loads(r[7]), r[8]
            )
            for r in rows
        ]

    async def status_sent(self, status_id: int, sent_id: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE status_out SET state = 'sent', sent_id = ?, sent_at = ?, attempts = attempts + 1"
                " WHERE id = ?",
                (sent_id, now_iso(), status_id),
            )

    async def status_failed(self, status_id: int, error: str, retry_at: float | None) -> None:
        """Retry at `retry_at`, or give up (state dead) when it is None."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE status_out SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
                " state = CASE WHEN ? THEN 'pending' ELSE 'dead' END WHERE id = ?",
                (error, retry_at or 0, retry_at is not None, status_id),
            )

    async def statuses_of(self, doc_id: int) -> dict[str, list[dict[str, Any]]]:
        """Status reported by home systems and status sent back to senders, for one document."""
        home = await self.db.execute_fetchall(
            "SELECT sink, status, note, updated_at FROM status_events WHERE document_id = ? ORDER BY id",
            (doc_id,),
        )
        sent = await self.db.execute_fetchall(
            "SELECT s.source, s.code, s.description, s.state, s.sent_at, s.last_error FROM status_out s"
            " JOIN records r ON r.id = s.record_id WHERE r.document_id = ? ORDER BY s.id",
            (doc_id,),
        )
        return {
            "home": [
                {"sink": r[0], "status": r[1], "note": r[2], "updated_at": r[3]} for r in home
            ],
            "sent": [
                {
                    "source": r[0],
                    "code": r[1],
                    "description": r[2],
                    "state": r[3],
                    "sent_at": r[4],
                    "last_error": r[5],
                }
                for r in sent
            ],
        }

    async def status_pollable(
        self, sink: str, after: int = 0, limit: int = 50
    ) -> list[tuple[int, str]]:
        """(delivery id, remote id) of documents at `sink` whose processing is not finished
        yet, in delivery order from after `after` (a poller's place in its round)."""
        rows = await self.db.execute_fetchall(
            "SELECT id, remote_id FROM outbox INDEXED BY outbox_status_open WHERE sink = ?"
            " AND op = 'create' AND state = 'delivered' AND status_final = 0 AND id > ?"
            " ORDER BY id LIMIT ?",
            (sink, after, limit),
        )
        return [(r[0], r[1]) for r in rows]

    async def is_done_at_home(self, doc_id: int) -> bool:
        rows = list(
            await self.db.execute_fetchall(
                "SELECT 1 FROM status_events WHERE document_id = ? AND status = 'done' LIMIT 1",
                (doc_id,),
            )
        )
        return bool(rows)

    # ---- outbox --------------------------------------------------------------------------

    async def due_deliveries(
        self, sink: str, limit: int, now: float | None = None
    ) -> list[Delivery]:
        """Pending deliveries for `sink` whose time has come, oldest first.

        A delivery waits while an earlier one of the same (document, unit, sink) is not done,
        so updates and revocations reach the sink after the create, in order.
        """
        now = time.time() if now is None else now
        rows = await self.db.execute_fetchall(
            # In id order straight from the index: no sort of every pending row (migration 6).
            f"SELECT {_DELIVERY_COLS} FROM outbox o INDEXED BY outbox_pending"
            " WHERE sink = ? AND state = 'pending'"
            " AND next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM outbox e WHERE"
            " e.document_id = o.document_id AND e.unit = o.unit AND e.sink = o.sink"
            " AND e.id < o.id AND e.state IN ('pending', 'dead')) ORDER BY id LIMIT ?",
            (sink, now, limit),
        )
        return [_delivery(r) for r in rows]

    async def remote_id(self, doc_id: int, unit: str, sink: str) -> str | None:
        rows = list(
            await self.db.execute_fetchall(
                "SELECT remote_id FROM outbox WHERE document_id = ? AND unit = ? AND sink = ?"
                " AND op = 'create' AND state = 'delivered'",
                (doc_id, unit, sink),
            )
        )
        return rows[0][0] if rows else None

    async def store_body(self, delivery_id: int, body: dict[str, Any]) -> bool:
        """Keep the prepared body before the first attempt; False when the delivery was
        cancelled meanwhile (then nothing must be sent). Durable when it returns."""
        changed = await self._grouped(
            "UPDATE outbox SET body = ? WHERE id = ? AND body IS NULL AND state = 'pending'",
            (jsonutil.dumps(body).decode(), delivery_id),
        )
        return changed == 1

    async def mark_delivered(self, delivery_id: int, remote_id: str) -> None:
        await self._grouped(
            "UPDATE outbox SET state = 'delivered', remote_id = ?, done_at = ?,"
            " attempts = attempts + 1, last_error = NULL WHERE id = ?",
            (remote_id, now_iso(), delivery_id),
        )

    async def _grouped(self, sql: str, args: tuple[Any, ...]) -> int:
        """Group commit for the delivery workers' small writes: a statement rides along with
        the next commit, whoever makes it (see `_commit`), so one fsync serves many deliveries.
        Returns the statement's row count once it is durable."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending_writes.append((sql, args, future))
        self._start_group_commits()
        return await future

    def _start_group_commits(self) -> None:
        if self._group_task is None or self._group_task.done():
            # A fresh context: a task started from inside a batch must not believe it is in one.
            self._group_task = asyncio.create_task(
                self._commit_groups(), name="sqlite-group-commit", context=contextvars.Context()
            )
            self._group_task.add_done_callback(log_failure)

    async def _commit_groups(self) -> None:
        """Commit for the riders when no other transaction does it first. When that commit
        fails (the lock held elsewhere past the busy timeout, a disk error), each rider's
        caller gets the error, as it would for a write of its own: nothing waits forever."""
        while self._pending_writes:
            try:
                async with self._tx():
                    pass  # `_commit` takes the riders along
            except Exception as exc:
                log.warning("sqlite_group_commit_failed", error=str(exc))
                failed, self._pending_writes = self._pending_writes, []
                for _, _, future in failed:
                    if not future.done():
                        future.set_exception(exc)

    async def schedule_retry(self, delivery_id: int, at: float, error: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
                " WHERE id = ?",
                (at, error, delivery_id),
            )

    async def mark_dead(self, delivery_id: int, reason: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?,"
                " done_at = ? WHERE id = ?",
                (reason, now_iso(), delivery_id),
            )

    async def replay(self, delivery_id: int | None, actor: str) -> int:
        """Send dead letters again with their original key and body. None replays all."""
        async with self._tx() as db:
            where, args = (
                ("state = 'dead'", ())
                if delivery_id is None
                else ("state = 'dead' AND id = ?", (delivery_id,))
            )
            cur = await db.execute(
                f"UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0 WHERE {where}",
                args,
            )
            count = cur.rowcount
            await db.execute(
                "INSERT INTO audit (at, actor, action, target, detail) VALUES (?,?,?,?,?)",
                (
                    now_iso(),
                    actor,
                    "replay",
                    str(delivery_id or "all"),
                    jsonutil.dumps({"count": count}).decode(),
                ),
            )
            return count

    async def dead_letters(self, limit: int = 200) -> list[Delivery]:
        rows = await self.scanner.execute_fetchall(
            f"SELECT {_DELIVERY_COLS} FROM outbox WHERE state = 'dead' ORDER BY id LIMIT ?",
            (limit,),
        )
        return [_delivery(r) for r in rows]

    async def deliveries_of(self, doc_id: int) -> list[Delivery]:
        rows = await self.db.execute_fetchall(
            f"SELECT {_DELIVERY_COLS} FROM outbox WHERE document_id = ? ORDER BY id", (doc_id,)
        )
        return [_delivery(r) for r in rows]

    # ---- operator actions (each one audited) --------------------------------------------

    async def _audit(
        self, db: Db, actor: str, action: str, target: str, detail: dict[str, Any]
    ) -> None:
        await db.execute(
            "INSERT INTO audit (at, actor, action, target, detail) VALUES (?,?,?,?,?)",
            (now_iso(), actor, action, target, jsonutil.dumps(detail).decode()),
        )

    async def release_quarantined(self, quarantine_id: int, actor: str, *, release: bool) -> bool:
        """Send a quarantined record through matching again.

        With `release` the operator vouches for it: holds (review, secret, signature) no longer
        apply to it. Without, it is a retry after a fix (a new adapter version, a configuration).
        False when there is no such open quarantine entry.
        """
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT record_id, kind FROM quarantine WHERE id = ? AND released_at IS NULL",
                    (quarantine_id,),
                )
            )
            if not rows:
                return False
            record_id, kind = rows[0]
            await db.execute(
                "UPDATE quarantine SET released_at = ? WHERE id = ?", (now_iso(), quarantine_id)
            )
            await db.execute(
                "UPDATE records SET outcome = NULL, document_id = NULL, decision = NULL,"
                " released = CASE WHEN ? THEN 1 ELSE released END WHERE id = ?",
                (release, record_id),
            )
            await self._audit(
                db,
                actor,
                "release" if release else "retry",
                f"quarantine:{quarantine_id}",
                {"record_id": record_id, "kind": kind},
            )
            return True

    async def is_released(self, record_id: int) -> bool:
        rows = list(
            await self.db.execute_fetchall(
                "SELECT released FROM records WHERE id = ?", (record_id,)
            )
        )
        return bool(rows and rows[0][0])

    async def override_for(self, record_key: str) -> tuple[bool, int | None]:
        """(has an override, forced document id or None for "a document of its own")."""
        rows = list(
            await self.db.execute_fetchall(
                "SELECT document_id FROM overrides WHERE record_key = ?", (record_key,)
            )
        )
        return (True, rows[0][0]) if rows else (False, None)

    async def split_record(self, document_id: int, record_id: int, actor: str) -> bool:
        """Take a wrongly merged record out of a document; it becomes a document of its own.

        The correction is kept as an override, so the record (and a re-read of it) is never
        merged back by the matcher.
        """
        async with self._tx() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT source, unit, external_id FROM records WHERE id = ? AND document_id = ?",
                    (record_id, document_id),
                )
            )
            if not rows:
                return False
            await self._override(db, rows[0], None, actor)
            await self._detach(db, document_id, [record_id])
            await self._audit(
                db, actor, "split", f"document:{document_id}", {"record_id": record_id}
            )
            return True

    async def merge_documents(self, keep_id: int, other_id: int, actor: str) -> bool:
        """Judge two documents one: every record of `other_id` is matched to `keep_id`.

        Deliveries of `other_id` not yet made are cancelled; ones already made stay made (the
        audit trail says so) since a sink cannot be asked to forget.
        """
        if keep_id == other_id:
            return False
        async with self._tx() as db:
            exists = list(
                await db.execute_fetchall(
                    "SELECT count(*) FROM documents WHERE id IN (?, ?)", (keep_id, other_id)
                )
            )
            if exists[0][0] != 2:
                return False
            records = list(
                await db.execute_fetchall(
                    "SELECT id, source, unit, external_id FROM records WHERE document_id = ?",
                    (other_id,),
                )
            )
            for r in records:
                await self._override(db, r[1:], keep_id, actor)
            await self._detach(db, other_id, [r[0] for r in records])
            cur = await db.execute(
                "UPDATE outbox SET state = 'cancelled', done_at = ? WHERE document_id = ? AND state = 'pending'",
                (now_iso(), other_id),
            )
            await db.execute(
                "UPDATE documents SET state = 'merged', updated_at = ? WHERE id = ?",
                (now_iso(), other_id),
            )
            delivered = list(
                await db.execute_fetchall(
                    "SELECT count(*) FROM outbox WHERE document_id = ? AND state = 'delivered'",
                    (other_id,),
                )
            )
            await self._audit(
                db,
                actor,
                "merge",
                f"document:{keep_id}",
                {
                    "merged": other_id,
                    "records": [r[0] for r in records],
                    "cancelled": cur.rowcount,
                    "already_delivered": delivered[0][0],
                },
            )
            return True

    async def _override(self, db: Db, key_parts: Any, document_id: int | None, actor: str) -> None:
        key = "|".join(str(p) for p in key_parts)
        await db.execute(
            "INSERT INTO overrides (record_key, document_id, actor, created_at) VALUES (?,?,?,?)"
            " ON CONFLICT (record_key) DO UPDATE SET document_id = excluded.document_id,"
            " actor = excluded.actor, created_at = excluded.created_at",
            (key, document_id, actor, now_iso()),
        )

    async def _detach(self, db: Db, document_id: int, record_ids: list[int]) -> None:
        """Unlink records from a document and queue them for matching again."""
        for record_id in record_ids:
            await db.execute(
                "UPDATE records SET outcome = NULL, document_id = NULL, decision = NULL WHERE id = ?",
                (record_id,),
            )

    async def audit_trail(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self.scanner.execute_fetchall(
            "SELECT id, at, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            {
                "id": r[0],
                "at": r[1],
                "actor": r[2],
                "action": r[3],
                "target": r[4],
                "detail": jsonutil.loads(r[5]),
            }
            for r in rows
        ]

    async def documents_received(
        self, start: str, end: str, unit: str | None
    ) -> list[dict[str, Any]]:
        """Documents whose first record arrived in [start, end) (ISO dates), for the monthly report."""
        clauses = ["r.received_at >= ? AND r.received_at < ?"]
        args: list[Any] = [start, end]
        if unit:
            clauses.append("r.unit = ?")
            args.append(unit)
        rows = await self.scanner.execute_fetchall(
            "SELECT d.id, d.data, d.state, min(r.received_at), group_concat(DISTINCT r.source),"
            " group_concat(DISTINCT r.unit) FROM documents d JOIN records r ON r.document_id = d.id"
            f" WHERE {' AND '.join(clauses)} GROUP BY d.id ORDER BY min(r.received_at)",
            args,
        )
        out = []
        for r in rows:
            doc = Document.model_validate_json(r[1])
            out.append(
                {
                    "id": r[0],
                    "document": doc,
                    "state": r[2],
                    "received_at": r[3],
                    "roads": sorted(set((r[4] or "").split(","))),
                    "units": sorted(set((r[5] or "").split(","))),
                }
            )
        return out

    # ---- retention -----------------------------------------------------------------------

    async def purge_before(self, cutoff: str, hook_cutoff: str) -> dict[str, int]:
        """Delete what is older than `cutoff` (ISO time) and finished with, in one transaction.

        Never touches a record that is unprocessed, unacknowledged, held in quarantine or
        waiting, nor a document with a delivery still pending or dead, nor cursors.
        """
        async with self._tx() as writer:
            db = writer.offloaded()  # deletes over the whole store: off the event loop
            unfinished = (
                "SELECT document_id FROM outbox WHERE state IN ('pending', 'dead')"
                " UNION SELECT r.document_id FROM records r JOIN status_out s ON s.record_id = r.id"
                " WHERE s.state = 'pending'"
            )
            docs = [
                r[0]
                for r in await db.execute_fetchall(
                    f"SELECT id FROM documents WHERE updated_at < ? AND id NOT IN ({unfinished})",
                    (cutoff,),
                )
            ]
            counts = {"documents": len(docs)}
            for table, column in (
                ("outbox", "document_id"),
                ("revisions", "document_id"),
                ("attachment_index", "document_id"),
                ("status_events", "document_id"),
            ):
                await db.executemany(
                    f"DELETE FROM {table} WHERE {column} = ?", [(d,) for d in docs]
                )
            await db.executemany("DELETE FROM documents WHERE id = ?", [(d,) for d in docs])
            cur = await db.execute(
                "DELETE FROM records WHERE received_at < ? AND acked = 1 AND outcome IS NOT NULL"
                " AND outcome != 'waiting' AND (document_id IS NULL OR document_id NOT IN (SELECT id FROM documents))"
                " AND id NOT IN (SELECT record_id FROM quarantine WHERE released_at IS NULL)",
                (cutoff,),
            )
            counts["records"] = cur.rowcount
            await db.execute(
                "DELETE FROM status_out WHERE record_id NOT IN (SELECT id FROM records)"
            )
            await db.execute(
                "DELETE FROM quarantine WHERE record_id NOT IN (SELECT id FROM records)"
            )
            cur = await db.execute("DELETE FROM hook_events WHERE received_at < ?", (hook_cutoff,))
            counts["hook_events"] = cur.rowcount
            return counts

    async def blob_in_use(self, sha256: str) -> bool:
        """Whether any remaining document or record still names this blob."""
        rows = list(
            await self.scanner.execute_fetchall(
                "SELECT 1 FROM attachment_index WHERE sha256 = ? LIMIT 1", (sha256,)
            )
        )
        if rows:
            return True
        rows = list(
            await self.scanner.execute_fetchall(
                "SELECT 1 FROM records WHERE instr(attachments, ?) > 0 LIMIT 1", (sha256,)
            )
        )
        return bool(rows)

    async def database_bytes(self) -> int:
        """Size of the database files on disk (with the WAL)."""
        files = [p for p in self.path.parent.glob(self.path.name + "*") if p.is_file()]
        return sum(p.stat().st_size for p in files)

    # ---- reading for people --------------------------------------------------------------

    async def counts(self) -> dict[str, Any]:
        """Counters for /status, per source, per sink and in total."""
        db = self.scanner
        outcomes = dict(
            (r[0], r[1])
            for r in await db.execute_fetchall(
                "SELECT coalesce(outcome, 'unprocessed'), count(*) FROM records GROUP BY 1"
            )
        )
        per_source = {
            r[0]: r[1]
            for r in await db.execute_fetchall("SELECT source, count(*) FROM records GROUP BY 1")
        }
        per_sink: dict[str, dict[str, int]] = {}
        for sink, state, n in await db.execute_fetchall(
            "SELECT sink, state, count(*) FROM outbox WHERE op = 'create' GROUP BY 1, 2"
        ):
            per_sink.setdefault(sink, {})[state] = n
        docs = next(
            iter(
                await db.execute_fetchall("SELECT count(*) FROM documents WHERE state != 'merged'")
            )
        )[0]
        return {
            "outcomes": outcomes,
            "per_source": per_source,
            "per_sink": per_sink,
            "documents": docs,
        }

    async def last_sink_errors(self) -> dict[str, str]:
        rows = await self.scanner.execute_fetchall(
            "SELECT sink, last_error FROM outbox WHERE last_error IS NOT NULL AND state != 'delivered'"
            " ORDER BY id"
        )
        return {r[0]: r[1] for r in rows}

    async def search_documents(
        self,
        *,
        unit: str | None,
        q: str | None,
        state: str | None,
        limit: int,
        before: int | None,
        before_rank: int = EXACT,
    ) -> list[FoundDocument]:
        """Exact hits first, then partial ones (bridge/store/search.py), newest first within
        each; without `q` the latest documents. Paging: the last hit's (rank, id) as
        (`before_rank`, `before`). Merged documents only when `state` asks for them."""
        clauses: list[str] = ["1 = 1" if state else "state != 'merged'"]
        args: list[Any] = []
        rank = str(EXACT)
        rank_args: list[Any] = []
        if unit:
            clauses.append("id IN (SELECT document_id FROM records WHERE unit = ?)")
            args.append(unit)
        if state:
            clauses.append("state = ?")
            args.append(state)
        patterns = search_patterns(q) if q else None
        if patterns:
            clauses.append("search_key LIKE ? ESCAPE '\\'")
            args.append(patterns[0])
            rank = f"CASE WHEN ' ' || search_key || ' ' LIKE ? ESCAPE '\\' THEN {EXACT} ELSE {PARTIAL} END"
            rank_args = [patterns[1]]
        if before:
            clauses.append(f"({rank} > ? OR ({rank} = ? AND id < ?))")
            args.extend([*rank_args, before_rank, *rank_args, before_rank, before])
        rows = await self.scanner.execute_fetchall(
            "SELECT id, triple, issuer_code, issuer_key, state, revision, data, conflicts,"
            f" created_at, updated_at, {rank} AS hit_rank FROM documents"
            f" WHERE {' AND '.join(clauses)} ORDER BY hit_rank, id DESC LIMIT ?",
            (*rank_args, *args, limit),
        )
        return [found(_document(r), r[10]) for r in rows]

    async def records_of(self, doc_id: int) -> list[StoredRecord]:
        rows = await self.db.execute_fetchall(
            f"SELECT {_RECORD_COLS} FROM records WHERE document_id = ? ORDER BY id", (doc_id,)
        )
        return [_record(r) for r in rows]

    async def revisions_of(self, doc_id: int) -> list[dict[str, Any]]:
        rows = await self.db.execute_fetchall(
            "SELECT revision, record_id, created_at FROM revisions WHERE document_id = ? ORDER BY revision",
            (doc_id,),
        )
        return [{"revision": r[0], "record_id": r[1], "created_at": r[2]} for r in rows]

    async def quarantined(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self.scanner.execute_fetchall(
            "SELECT q.id, q.record_id, q.kind, q.reason, q.created_at, r.source, r.external_id, r.unit"
            " FROM quarantine q JOIN records r ON r.id = q.record_id WHERE q.released_at IS NULL"
            " ORDER BY q.id DESC LIMIT ?",
            (limit,),
        )
        keys = ("id", "record_id", "kind", "reason", "created_at", "source", "external_id", "unit")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # ---- matching queries (dedup) ----------------------------------------------------------

    async def held_for_review(self) -> list[tuple[int, str, list[str], dict[str, Any]]]:
        """Records held for review that name files: (record id, unit, SHA-256s, provenance),
        as the matcher wrote them into the hold's decision. Read like a point read (the matcher
        loads them inside a batch, where they must include the batch's own holds)."""
        rows = await self.db.execute_fetchall(
            "SELECT r.id, r.unit, r.decision FROM quarantine q JOIN records r ON r.id = q.record_id"
            " WHERE q.kind = 'review' AND q.released_at IS NULL AND r.outcome = 'quarantined'"
        )
        held = []
        for record_id, unit, text in rows:
            why = jsonutil.loads(text) if text else {}
            shas, prov = why.get("attachments"), why.get("provenance")
            if shas and isinstance(prov, dict):
                held.append((record_id, unit, list(shas), prov))
        return held

    async def merge_held(
        self,
        record_id: int,
        document_id: int,
        document: Document,
        decision: dict[str, Any],
        deliveries: Iterable[tuple[str, str, str, int]],
    ) -> bool:
        """A record held for review joins `document_id` (its files are that document's): it
        leaves quarantine as a duplicate, the document gains its provenance, and its unit's
        sinks get the document. False (and nothing done) when it is no longer held."""
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE quarantine SET released_at = ? WHERE record_id = ? AND kind = 'review'"
                " AND released_at IS NULL",
                (now_iso(), record_id),
            )
            if cur.rowcount != 1:
                return False
            await db.execute(
                "UPDATE records SET outcome = 'duplicate', document_id = ?, decision = ?"
                " WHERE id = ?",
                (document_id, jsonutil.dumps(decision).decode(), record_id),
            )
            await db.execute(
                "UPDATE documents SET data = ?, updated_at = ? WHERE id = ?",
                (document.model_dump_json(), now_iso(), document_id),
            )
            await self._enqueue(db, document_id, deliveries)
            return True

    async def release_parked_deliveries(self, sink: str, now: float | None = None) -> int:
        """`sink` answers again: its pending deliveries waiting for a later try are due now
        (their attempts are kept). Returns how many were brought forward."""
        return await self._release_parked("outbox", "sink", sink, now)

    async def release_parked_status(self, source: str, now: float | None = None) -> int:
        """The axis node of `source` answers again: its status messages waiting for a later
        try are due now (their attempts are kept). Returns how many were brought forward."""
        return await self._release_parked("status_out", "source", source, now)

    async def _release_parked(self, table: str, column: str, name: str, now: float | None) -> int:
        """Pending rows of `table` for `name` that wait for a later try are due at `now`."""
        now = time.time() if now is None else now
        async with self._tx() as db:
            cur = await db.execute(
                f"UPDATE {table} SET next_attempt_at = ? WHERE {column} = ?"
                " AND state = 'pending' AND next_attempt_at > ?",
                (now, name, now),
            )
            return int(cur.rowcount)


def home_reply(
    unit: str, to_organ: dict[str, Any], ref: dict[str, Any], status: str, note: str | None
) -> StatusReply:
    """The status message mirroring `status`, reported by the home system of `unit`."""
    code, label = HOME_STATUS_CODES[status]
    return StatusReply(code, f"{label}{': ' + note if note else ''}", unit, to_organ, ref)


async def _rekey(db: Db) -> None:
    """Compute every document's search key anew (in the caller's transaction), in batches."""
    last = 0
    while rows := await db.execute_fetchall(
        "SELECT id, data FROM documents WHERE id > ? ORDER BY id LIMIT ?", (last, REKEY_BATCH)
    ):
        await db.executemany("UPDATE documents SET search_key = ? WHERE id = ?", rekeyed(rows))
        last = rows[-1][0]


def _record(r: Any) -> StoredRecord:
    raw = RawRecord(
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
    return StoredRecord(
        id=r[0],
        raw=raw,
        acked=bool(r[11]),
        outcome=r[12],
        document_id=r[13],
        decision=jsonutil.loads(r[14]) if r[14] else None,
        released=bool(r[15]),
    )


def _document(r: Any) -> DocumentRow:
    return DocumentRow(
        id=r[0],
        triple=r[1],
        issuer_code=r[2],
        issuer_key=r[3],
        state=r[4],
        revision=r[5],
        document=Document.model_validate_json(r[6]),
        conflicts=jsonutil.loads(r[7]),
        created_at=r[8],
        updated_at=r[9],
    )


def _delivery(r: Any) -> Delivery:
    return Delivery(
        id=r[0],
        document_id=r[1],
        unit=r[2],
        sink=r[3],
        op=r[4],
        revision=r[5],
        key=r[6],
        body=jsonutil.loads(r[7]) if r[7] else None,
        state=r[8],
        attempts=r[9],
        next_attempt_at=r[10],
        last_error=r[11],
        remote_id=r[12],
        created_at=r[13],
        note=r[14],
    )
