"""Ingest, top to bottom: take a page, store it durably, acknowledge, then normalize and match.

Sources never wait on sinks: ingest only writes records and the outbox; delivery workers
(`bridge.delivery`) drain the outbox on their own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog

from adapters import Profile
from bridge.best import best_issuer, best_of, correction_note
from bridge.blobs import Blobs
from bridge.dedup import Matcher
from bridge.errors import AuthError, PermanentError, StaleLeaseError, TransientError
from bridge.health import Health, probe_wait_s
from bridge.interfaces import Source
from bridge.leases import Lease
from bridge.normalize.directory import OrganDirectory
from bridge.normalize.filenames import safe_file_name
from bridge.signatures import TrustStore, verify_document, verify_inline
from bridge.status_flow import ARRIVED, REFUSED_SECRET, STATUS_PROFILES, reply
from bridge.store import Outcome, Store, StoredRecord
from bridge.waiting import wait_any
from schemas import (
    Action,
    Confidentiality,
    Document,
    DocumentState,
    Page,
    RawRecord,
    SignatureStatus,
)

STATUS_MEDIA_TYPE = "application/vnd.edxml-status+xml"

log = structlog.get_logger(__name__)
BATCH_WINDOW_S = 0.02
ACK_CONCURRENCY = 8  # acknowledgements under way at once, per source
PREPARE_AHEAD = 32  # records read and checked ahead of the transaction that decides them


class _Status:
    """The marker for a status message: decided against the store, not mapped."""


STATUS = _Status()
Prepared = Document | Outcome | _Status


@functools.cache
def _signature_checker() -> ThreadPoolExecutor:
    """Signature checks are CPU work: one thread of their own, so they never queue behind
    attachment writes in the default pool (nor add to the contention for the GIL there)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="signatures")


class Processor:
    """Normalizes and matches stored records in arrival order; one per daemon.

    Woken by `notify()` whenever records were stored; also re-examines records waiting for
    the document they change once new documents appear.
    """

    def __init__(
        self,
        store: Store,
        profiles: Mapping[str, Profile],
        profile_of_source: Callable[[str], str | None],
        sinks_of: Callable[[str], Sequence[str]],
        *,
        forward_secret: bool = False,
        blobs: Blobs | None = None,
        trust: TrustStore | None = None,
        strict_signatures: Callable[[str], bool] = lambda unit: False,
        directory: OrganDirectory | None = None,
        on_enqueued: Callable[[Sequence[str]], None] = lambda sinks: None,
    ) -> None:
        self.on_enqueued = on_enqueued  # wakes the named sinks' delivery workers
        self.lease: Lease | None = None
        self.store = store
        self.blobs = blobs
        self.trust = trust
        self.strict_signatures = strict_signatures
        self.profiles = profiles
        self.profile_of_source = profile_of_source
        self.matcher = Matcher(store, sinks_of, directory)
        self.directory = directory
        self.forward_secret = forward_secret
        self._wake = asyncio.Event()

    def notify(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event, lease: Lease | None = None) -> None:
        """Process records as they arrive; with `lease`, only while this instance holds it."""
        self.lease = lease
        while not stop.is_set():
            self._wake.clear()
            try:
                processed = await self.process_pending() if await self._hold() else 0
            except StaleLeaseError as exc:  # another instance took matching over: stand by
                log.warning("processor_lease_lost", reason=exc.reason)
                processed = 0
            if processed:
                continue
            await wait_any(stop, self._wake, 5.0)

    async def _hold(self) -> bool:
        """Hold (or renew) the matching lease. Whatever another holder did meanwhile (records
        held for review, say) is read again from the store when the lease comes back."""
        if self.lease is None:
            return True
        previous = self.lease.token
        if not await self.lease.hold():
            return False
        if self.lease.token != previous:
            self.matcher.forget()
        return True

    @property
    def _fence(self) -> tuple[str, int] | None:
        return self.lease.fence if self.lease is not None else None

    async def process_pending(self, batch: int = 200) -> int:
        """Process up to `batch` stored records; return how many were processed.

        Raises StaleLeaseError when the matching lease passed to another instance meanwhile
        (the batch in hand is rolled back; that instance decides those records).
        """
        records = await self.store.unprocessed(batch)
        created = False
        loop = asyncio.get_running_loop()
        position = 0
        ready: list[tuple[StoredRecord, Prepared]] = []
        while position < len(records) or ready:
            if not await self._hold():
                raise StaleLeaseError("mất quyền đối chiếu / matching lease lost")
            # Reading a record (mapping, names, signatures) needs no lock: done ahead, outside
            # the write transaction, so sources and deliveries are not kept waiting meanwhile.
            while position < len(records) and len(ready) < PREPARE_AHEAD:
                ready.append((records[position], await self._prepare(records[position])))
                position += 1
            # Group commit: decisions made in a ~20 ms window share one transaction.
            woken: list[str] = []
            applied = 0
            async with self.store.batch():
                deadline = loop.time() + BATCH_WINDOW_S  # the window starts once the lock is held
                while applied < len(ready) and (applied == 0 or loop.time() < deadline):
                    outcome = await self._conclude(*ready[applied], woken)
                    applied += 1
                    created = created or outcome.outcome == "document"
            del ready[:applied]
            if woken:
                self.on_enqueued(woken)  # only once the deliveries are committed
        if created:
            await self.retry_waiting()
        return len(records)

    async def process(self, record: StoredRecord, woken: list[str] | None = None) -> Outcome:
        """Decide about one record and apply the decision; the sinks to wake go to `woken`
        (or are woken at once when it is None)."""
        return await self._conclude(record, await self._prepare(record), woken)

    async def _conclude(
        self, record: StoredRecord, prepared: Prepared, woken: list[str] | None
    ) -> Outcome:
        """Match a prepared record and apply the decision (inside the write transaction)."""
        try:
            outcome = await self._match(record, prepared)
        except StaleLeaseError:
            raise
        except Exception as exc:  # a bug in a mapper must not stop every other record
            outcome = _failed(record, exc)
        await self.store.apply(outcome, fence=self._fence)
        sinks = [sink for _, sink, _, _ in outcome.deliveries]
        if woken is not None:
            woken.extend(sinks)
        elif sinks:
            self.on_enqueued(sinks)
        if outcome.outcome == "document":
            await self.matcher.absorb_held()  # a mail held for review may belong to it
        log.info(
            "record_processed",
            source=record.raw.source,
            record=record.raw.external_id,
            outcome=outcome.outcome,
            rule=outcome.decision.get("rule"),
        )
        return outcome

    async def retry_waiting(self) -> None:
        for record in await self.store.waiting():
            outcome = await self._decide(record)
            if outcome.outcome != "waiting":
                await self.store.apply(outcome, fence=self._fence)

    async def _decide(self, record: StoredRecord) -> Outcome:
        return await self._match(record, await self._prepare(record))

    async def _prepare(self, record: StoredRecord) -> Prepared:
        """What can be known of a record without the store's lock: its document (mapped,
        names made safe, signatures checked), a verdict already (quarantine), or STATUS for
        a status message (decided against the store)."""
        try:
            return await self._read(record)
        except StaleLeaseError:
            raise
        except Exception as exc:  # a bug in a mapper must not stop every other record
            return _failed(record, exc)

    async def _read(self, record: StoredRecord) -> Prepared:
        raw = record.raw
        if raw.error:
            return _unreadable(record, raw.error)
        profile_name = self.profile_of_source(raw.source)
        profile = self.profiles.get(profile_name or "")
        if profile is None:
            return _unreadable(
                record, f"nguồn không còn cấu hình / source no longer configured: {raw.source}"
            )
        if raw.media_type.startswith(STATUS_MEDIA_TYPE):
            return STATUS
        try:
            doc = profile.to_document(raw)
        except PermanentError as exc:
            return _unreadable(record, exc.reason)
        if record.released:  # an operator vouched for it: no hold applies any more
            doc = doc.model_copy(
                update={"review_reason": None, "confidentiality": Confidentiality.THUONG}
            )
        if self.forward_secret and doc.confidentiality.is_secret:
            doc = doc.model_copy(update={"confidentiality": Confidentiality.THUONG})
        doc = _with_safe_names(doc)
        doc = await self._verify_signatures(doc, raw)
        if self.strict_signatures(raw.unit) and _broken_signature(doc) and not record.released:
            return _held(record, "signature", _BROKEN_SIGNATURE)
        return doc

    async def _match(self, record: StoredRecord, prepared: Prepared) -> Outcome:
        if isinstance(prepared, Outcome):
            return prepared
        if prepared is STATUS:
            return await self._status_message(record)
        assert isinstance(prepared, Document)
        profile = self.profile_of_source(record.raw.source) or ""
        outcome = await self.matcher.decide(record, prepared, profile)
        outcome = await self._best_of_roads(record, prepared, outcome)
        if profile in STATUS_PROFILES:
            outcome = _owe_status(outcome, prepared, record.raw.unit)
        return outcome

    async def _best_of_roads(
        self, record: StoredRecord, doc: Document, outcome: Outcome
    ) -> Outcome:
        """The known document with every field this road writes better (see `bridge.best`);
        when it taught something and the document is already at (or on its way to) a sink,
        a correction for each such sink, queued like any delivery.

        A revision keeps the best issuer known (its other fields are the revision's own).
        """
        updated = outcome.updated_document
        if outcome.document_id is None or updated is None:
            return outcome
        if outcome.outcome == "duplicate" and doc.action is Action.NEW:
            row = await self.store.document(outcome.document_id)
            if row is None or row.state == DocumentState.REVOKED.value:
                return outcome
            best, lessons = best_of(row.document, doc, record.raw.source, self.directory)
            best = best.model_copy(update={"provenance": updated.provenance})
        elif outcome.outcome == "revision" and updated.state is not DocumentState.REVOKED:
            row = await self.store.document(outcome.document_id)
            if row is None:
                return outcome
            issuer = best_issuer(row.document.issuer, updated.issuer, self.directory)
            best = updated.model_copy(update={"issuer": issuer})
            known = row.document.model_copy(update={"issuer": issuer})
            lessons = best_of(row.document, known, record.raw.source)[1]
        else:
            return outcome
        if not lessons:
            return dataclasses.replace(outcome, updated_document=best)
        holders = await self.store.sinks_holding(outcome.document_id)
        corrections = tuple((unit, sink, "correct", row.revision) for unit, sink in holders)
        log.info(
            "document_corrected",
            document=outcome.document_id,
            fields=[lesson.field for lesson in lessons],
            sinks=len(corrections),
        )
        return dataclasses.replace(
            outcome,
            updated_document=best,
            decision={**outcome.decision, "corrected": [lesson.as_dict() for lesson in lessons]},
            deliveries=outcome.deliveries + corrections,
            correction_note=correction_note(lessons),
        )

    async def _verify_signatures(self, doc: Document, raw: RawRecord) -> Document:
        """Check signed PDFs (and an edXML envelope signature) off the event loop."""
        if self.blobs is None or self.trust is None or not doc.attachments:
            return doc
        edxml = raw.payload if raw.media_type.startswith("application/vnd.edxml+xml") else None
        paths = _LocalPaths()
        in_memory: dict[str, bytes] = {}  # small files stored moments ago: not read back
        for att in doc.attachments:
            if att.blob is None:
                continue
            if (data := self.blobs.recent(att.blob)) is not None:
                in_memory[att.blob] = data
            elif (local := await self.blobs.local_path(att.blob)) is not None:
                paths.files[att.blob] = local
        if edxml is None and (settled := verify_inline(doc, paths, in_memory)) is not None:
            return settled  # small unsigned files only: no thread needed
        for blob in in_memory:  # the full check reads files
            if (local := await self.blobs.local_path(blob)) is not None:
                paths.files[blob] = local
        return await asyncio.get_running_loop().run_in_executor(
            _signature_checker(), verify_document, doc, paths, self.trust, edxml
        )

    async def _status_message(self, record: StoredRecord) -> Outcome:
        """A status message from the axis: a sender taking a document back (13), or an answer."""
        from adapters.vxp.mapping import parse_document_id, to_status

        try:
            message = to_status(record.raw)
            code = (message.status_code or "").strip()
            if code != "13":
                return Outcome(
                    record_id=record.id,
                    outcome="status",
                    decision={"rule": "status_received", "code": code},
                )
            ref = parse_document_id(message.response_for.document_id or "")
        except PermanentError as exc:
            return _unreadable(record, exc.reason)
        return await self.matcher.take_back(record, ref)


def _owe_status(outcome: Outcome, doc: Document, unit: str) -> Outcome:
    if outcome.outcome in ("document", "duplicate", "revision", "waiting"):
        replies = (reply(doc, unit, *ARRIVED),)
    elif outcome.quarantine is not None and outcome.quarantine[0] == "secret":
        replies = (reply(doc, unit, *REFUSED_SECRET),)
    else:
        return outcome
    return dataclasses.replace(outcome, status_replies=replies)


@dataclasses.dataclass
class _LocalPaths:
    """Blob files readable by the signature checker (cache copies where blobs are not files)."""

    files: dict[str, Path] = dataclasses.field(default_factory=dict)

    def path(self, sha256: str) -> Path:
        return self.files.get(sha256, Path("/nonexistent") / sha256)


_BROKEN_SIGNATURE = (
    "chữ ký số không hợp lệ (nội dung đã bị sửa sau khi ký) / "
    "invalid digital signature (bytes changed after signing)"
)


def _with_safe_names(doc: Document) -> Document:
    """Attachment names are never paths: `../../x.pdf`, `C:\\x`, `CON` are rewritten before any
    system receives them."""
    safe = tuple(
        a
        if safe_file_name(a.name) == a.name
        else a.model_copy(update={"name": safe_file_name(a.name)})
        for a in doc.attachments
    )
    return doc if safe == doc.attachments else doc.model_copy(update={"attachments": safe})


def _broken_signature(doc: Document) -> bool:
    return any(
        a.signature is not None and a.signature.status is SignatureStatus.INVALID
        for a in doc.attachments
    )


def _held(record: StoredRecord, kind: str, reason: str) -> Outcome:
    log.warning(
        "record_quarantined", source=record.raw.source, record=record.raw.external_id, reason=reason
    )
    return Outcome(
        record_id=record.id,
        outcome="quarantined",
        decision={"rule": kind},
        quarantine=(kind, reason),
    )


def _failed(record: StoredRecord, exc: Exception) -> Outcome:
    log.exception("record_failed", source=record.raw.source, record=record.raw.external_id)
    return _unreadable(
        record,
        f"lỗi nội bộ khi xử lý / internal error while processing: {type(exc).__name__}: {exc}",
    )


def _unreadable(record: StoredRecord, reason: str) -> Outcome:
    log.warning(
        "record_quarantined", source=record.raw.source, record=record.raw.external_id, reason=reason
    )
    return Outcome(
        record_id=record.id,
        outcome="quarantined",
        decision={"rule": "unreadable"},
        quarantine=("unreadable", reason),
    )


class SourceRunner:
    """Drives one source: pull, store, acknowledge, repeat every `poll_interval` seconds."""

    def __init__(
        self,
        source: Source,
        store: Store,
        processor: Processor,
        health: Health,
        poll_interval_s: float,
        lease: Lease | None = None,
        share: Callable[[str], bool] = lambda name: True,
    ) -> None:
        self.source = source
        self.share = share  # whether this instance may hold this source now (its fair share)
        self.store = store
        self.processor = processor
        self.health = health
        self.poll_interval_s = poll_interval_s
        self.lease = lease
        self.poke = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        name = self.source.name
        while not stop.is_set():
            delay = self.poll_interval_s
            try:
                if self.lease is not None and not self.share(self.source.name):
                    await self.lease.release()  # more than our share: let another instance pull it
                    self.health.standby = True
                elif self.lease is not None and not await self.lease.hold():
                    self.health.standby = True  # another instance pulls this source now
                else:
                    self.health.standby = False
                    await self.ack_pending()
                    await self.pull_once(stop)
                    self.health.succeeded()
            except (TransientError, AuthError, PermanentError) as exc:
                # Each call was already retried under its own budget; between polls a source that
                # is down is asked again every few seconds (or after its Retry-After), not after
                # a backoff grown to minutes, so its backlog flows within seconds of its return.
                delay = max(self.poll_interval_s, probe_wait_s(self.health.failed(exc), exc))
                log.warning(
                    "source_failed",
                    source=name,
                    state=self.health.state,
                    reason=exc.reason,
                    retry_in_s=round(delay, 1),
                )
            except Exception as exc:  # a bug in an adapter: keep the source alive, retry later
                log.exception("source_crashed", source=name)
                delay = self.health.failed(
                    TransientError(f"lỗi nội bộ / internal error: {type(exc).__name__}: {exc}")
                )
            await wait_any(stop, self.poke, delay)
            self.poke.clear()

    async def pull_once(self, stop: asyncio.Event) -> None:
        """Pull from the stored cursor, storing each page durably before its receipts go out.

        The receipts of one page are sent while the next page is fetched and stored (at most
        one page's receipts under way), so a receipt that waits out a Retry-After does not
        hold the pull. A receipt that failed raises at the next page or at the end; the
        records it concerns stay unacknowledged and `ack_pending` sends them again.
        """
        cursor = await self.store.get_cursor(self.source.name)
        receipts: asyncio.Task[None] | None = None
        try:
            async for page in self.source.pull(cursor):
                await self.store_page(page)
                self.health.succeeded()  # a long first pull is not "unknown" while it stores
                if receipts is not None:
                    await receipts
                receipts = asyncio.create_task(
                    self.acknowledge(page.records), name=f"receipts:{self.source.name}"
                )
                if stop.is_set():
                    break
            if receipts is not None:
                await receipts
        finally:
            if receipts is not None:  # failed or cut short: read its outcome, raise the first
                await asyncio.gather(receipts, return_exceptions=True)

    async def ingest(self, page: Page) -> None:
        """Store a page (records and cursor) durably, then acknowledge each record."""
        await self.store_page(page)
        await self.acknowledge(page.records)

    async def store_page(self, page: Page) -> None:
        """Store a page (records and cursor) durably; its receipts are the caller's."""
        if self.lease is not None and not await self.lease.hold():
            raise StaleLeaseError(f"mất quyền đọc nguồn / lease lost: {self.lease.resource}")
        new_ids = await self.store.save_page(self.source.name, page, fence=self._fence)
        if new_ids:
            self.processor.notify()
            log.info(
                "records_stored", source=self.source.name, new=len(new_ids), seen=len(page.records)
            )

    async def acknowledge(self, records: Sequence[RawRecord]) -> None:
        """Acknowledge each record at its source, then note them all in one transaction.

        Up to ACK_CONCURRENCY acknowledgements are under way at once (a receipt is one HTTP
        call each on most systems). After a failure no new one starts; those under way finish,
        what got through is noted, then the failure is raised. A record acknowledged at the
        source but not yet noted is acknowledged again after a crash; acknowledgements are
        idempotent, so that is harmless.
        """
        done: list[tuple[str, str, str, str]] = []
        failures: list[Exception] = []
        slots = asyncio.Semaphore(ACK_CONCURRENCY)

        async def one(record: RawRecord) -> None:
            async with slots:
                if failures:
                    return
                try:
                    await self.source.acknowledge(record)
                except Exception as exc:  # raised below, once the others under way finish
                    failures.append(exc)
                    return
                done.append((record.source, record.unit, record.external_id, record.version))

        try:
            await asyncio.gather(*(one(record) for record in records))
        finally:
            if done:
                await self.store.mark_acked_many(done, fence=self._fence)
        if failures:
            raise failures[0]

    @property
    def _fence(self) -> tuple[str, int] | None:
        return self.lease.fence if self.lease is not None else None

    async def ack_pending(self) -> None:
        """Acknowledge records stored earlier whose acknowledgement did not get through."""
        pending = await self.store.unacked(self.source.name)
        await self.acknowledge([r.raw for r in pending])
