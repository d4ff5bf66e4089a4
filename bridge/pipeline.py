"""Processing: normalize and match stored records in arrival order, and apply each decision.

A record is read first (mapped by its profile, names made safe, signatures checked) outside
the write transaction, then matched and applied inside it, decisions of ~20 ms sharing one
transaction. A record of a profile that speaks business status (`Profile.status_messages`)
is a status message when its media type says so, decided against the store; the senders of
such a profile are owed status for each document. Ingest (`bridge.ingest`) stores records;
delivery workers (`bridge.delivery`) drain the outbox the decisions fill.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import structlog

from bridge.blobs import Blobs
from bridge.corrections import best_of_roads
from bridge.dedup import Matcher
from bridge.domain.enums import RecordOutcome
from bridge.errors import PermanentError, StaleLeaseError
from bridge.interfaces import IncomingStatus, Profile, Profiles, StatusMessages
from bridge.leases import Lease
from bridge.logging import Tally
from bridge.normalize.directory import OrganDirectory
from bridge.signatures import TrustStore, may_be_signed, verify_document, verify_inline
from bridge.status_messages import TAKE_BACK
from bridge.store import Outcome, Store, StoredRecord
from bridge.verdicts import (
    BROKEN_SIGNATURE,
    LocalPaths,
    broken_signature,
    failed,
    held,
    owe_status,
    unreadable,
    with_safe_names,
)
from bridge.waiting import wait_any
from schemas import Confidentiality, Document, RawRecord

log = structlog.get_logger(__name__)
BATCH_WINDOW_S = 0.02
PREPARE_AHEAD = 32  # records read and checked ahead of the transaction that decides them


@dataclasses.dataclass(frozen=True)
class _Status:
    """The marker for a status message: decided against the store, not mapped."""

    messages: StatusMessages


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
        profiles: Profiles,
        profile_of_source: Callable[[str], str | None],
        sinks_of: Callable[[str], Sequence[str]],
        *,
        forward_secret: bool = False,
        blobs: Blobs | None = None,
        trust: TrustStore | None = None,
        strict_signatures: Callable[[str], bool] = lambda unit: False,
        directory: OrganDirectory | None = None,
        on_enqueued: Callable[[Sequence[str]], None] = lambda sinks: None,
        on_preferred: Callable[[Sequence[tuple[str, int]]], None] | None = None,
    ) -> None:
        self.on_enqueued = on_enqueued  # wakes the named sinks' delivery workers
        # (sink, document) of pushed records' deliveries: each sink starts them before its backlog
        self.on_preferred = on_preferred
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
        self._tally = Tally(log, "records_processed")  # one line at info for many records
        self._urgent: list[int] = []  # pushed records (webhooks): decided before the backlog
        self._urgent_done: set[int] = set()
        # A status message answering a document this bridge sent (bridge.outbound): told here,
        # inside the transaction that decides the record, so it is never lost nor told twice.
        self.on_status: Callable[[str, IncomingStatus], Awaitable[None]] | None = None

    def notify(self) -> None:
        self._wake.set()

    def urgent(self, record_ids: Sequence[int]) -> None:
        """Records pushed to the bridge were stored: decide them before the stored backlog,
        and have their deliveries start before the sinks' backlog."""
        self._urgent.extend(record_ids)
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
            self._tally.flush()
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
        created = await self._decide_urgent()
        records = await self.store.unprocessed(batch)
        loop = asyncio.get_running_loop()
        position = 0
        ready: list[tuple[StoredRecord, Prepared]] = []
        while position < len(records) or ready:
            if not await self._hold():
                raise StaleLeaseError("mất quyền đối chiếu / matching lease lost")
            created = await self._decide_urgent() or created
            # Reading a record (mapping, names, signatures) needs no lock: done ahead, outside
            # the write transaction, so sources and deliveries are not kept waiting meanwhile.
            while position < len(records) and len(ready) < PREPARE_AHEAD and not self._urgent:
                if records[position].id not in self._urgent_done:
                    ready.append((records[position], await self._prepare(records[position])))
                position += 1
            if self._urgent:
                continue  # a record was pushed meanwhile: it goes first
            ready = [(r, p) for r, p in ready if r.id not in self._urgent_done]
            # Group commit: decisions made in a ~20 ms window share one transaction.
            woken: list[str] = []
            applied = 0
            async with self.store.batch():
                deadline = loop.time() + BATCH_WINDOW_S  # the window starts once the lock is held
                while applied < len(ready) and (applied == 0 or loop.time() < deadline):
                    outcome = await self._conclude(*ready[applied], woken)
                    applied += 1
                    created = created or outcome.outcome == RecordOutcome.DOCUMENT
            del ready[:applied]
            if woken:
                self.on_enqueued(woken)  # only once the deliveries are committed
        self._urgent_done.clear()
        if created:
            await self.retry_waiting()
        return len(records)

    async def _decide_urgent(self) -> bool:
        """Decide the pushed records not decided yet, in one transaction; True when one made a
        new document. Their deliveries are handed to the sinks' first lane."""
        if not self._urgent:
            return False
        ids, self._urgent = self._urgent, []
        found = [await self.store.record(record_id) for record_id in ids]
        records = [r for r in found if r is not None and r.outcome is None]
        prepared = [(r, await self._prepare(r)) for r in records]
        woken: list[str] = []
        preferred: list[tuple[str, int]] = []
        outcomes = []
        async with self.store.batch():
            for record, ready in prepared:
                outcomes.append(await self._conclude(record, ready, woken, preferred))
                self._urgent_done.add(record.id)
        if preferred and self.on_preferred is not None:
            self.on_preferred(preferred)
        if woken:
            self.on_enqueued(woken)
        return any(o.outcome == RecordOutcome.DOCUMENT for o in outcomes)

    async def process(self, record: StoredRecord, woken: list[str] | None = None) -> Outcome:
        """Decide about one record and apply the decision; the sinks to wake go to `woken`
        (or are woken at once when it is None)."""
        return await self._conclude(record, await self._prepare(record), woken)

    async def _conclude(
        self,
        record: StoredRecord,
        prepared: Prepared,
        woken: list[str] | None,
        preferred: list[tuple[str, int]] | None = None,
    ) -> Outcome:
        """Match a prepared record and apply the decision (inside the write transaction);
        `preferred` receives the (sink, document) of each delivery it owes."""
        try:
            outcome = await self._match(record, prepared)
        except StaleLeaseError:
            raise
        except Exception as exc:  # a bug in a mapper must not stop every other record
            outcome = failed(record, exc)
        document_id = await self.store.apply(outcome, fence=self._fence)
        sinks = [sink for _, sink, _, _ in outcome.deliveries]
        if preferred is not None and document_id is not None:
            preferred.extend((sink, document_id) for sink in sinks)
        if woken is not None:
            woken.extend(sinks)
        elif sinks:
            self.on_enqueued(sinks)
        if outcome.outcome == RecordOutcome.DOCUMENT:
            await self.matcher.absorb_held()  # a mail held for review may belong to it
        log.debug(
            "record_processed",
            source=record.raw.source,
            record=record.raw.external_id,
            outcome=outcome.outcome,
            rule=outcome.decision.get("rule"),
        )
        self._tally.add(str(outcome.outcome))
        return outcome

    async def retry_waiting(self) -> None:
        for record in await self.store.waiting():
            outcome = await self._decide(record)
            if outcome.outcome != RecordOutcome.WAITING:
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
            return failed(record, exc)

    async def _read(self, record: StoredRecord) -> Prepared:
        raw = record.raw
        if raw.error:
            return unreadable(record, raw.error)
        profile = self._profile_of(raw.source)
        if profile is None:
            return unreadable(
                record, f"nguồn không còn cấu hình / source no longer configured: {raw.source}"
            )
        messages = profile.status_messages
        if messages is not None and raw.media_type.startswith(messages.media_type):
            return _Status(messages)
        try:
            doc = profile.to_document(raw)
        except PermanentError as exc:
            return unreadable(record, exc.reason)
        if record.released:  # an operator vouched for it: no hold applies any more
            doc = doc.model_copy(
                update={"review_reason": None, "confidentiality": Confidentiality.THUONG}
            )
        if self.forward_secret and doc.confidentiality.is_secret:
            doc = doc.model_copy(update={"confidentiality": Confidentiality.THUONG})
        doc = with_safe_names(doc)
        doc = await self._verify_signatures(doc, raw)
        if self.strict_signatures(raw.unit) and broken_signature(doc) and not record.released:
            return held(record, "signature", BROKEN_SIGNATURE)
        return doc

    async def _match(self, record: StoredRecord, prepared: Prepared) -> Outcome:
        if isinstance(prepared, Outcome):
            return prepared
        if isinstance(prepared, _Status):
            return await self._status_message(record, prepared.messages)
        profile_name = self.profile_of_source(record.raw.source) or ""
        outcome = await self.matcher.decide(record, prepared, profile_name)
        outcome = await best_of_roads(self.store, self.directory, record, prepared, outcome)
        profile = self.profiles.get(profile_name)
        if profile is not None and profile.status_messages is not None:
            outcome = owe_status(outcome, prepared, record.raw.unit)
        return outcome

    async def verify(self, doc: Document, raw: RawRecord) -> Document:
        """A document's signatures checked as an incoming one's are (an outbox's main file)."""
        return await self._verify_signatures(doc, raw)

    def _profile_of(self, source: str) -> Profile | None:
        return self.profiles.get(self.profile_of_source(source) or "")

    async def _verify_signatures(self, doc: Document, raw: RawRecord) -> Document:
        """Check signed PDFs (and an edXML envelope signature) off the event loop."""
        if self.blobs is None or self.trust is None or not doc.attachments:
            return doc
        edxml = (
            raw.payload
            if raw.media_type.startswith("application/vnd.edxml+xml") and may_be_signed(raw.payload)
            else None
        )  # an unsigned message is settled inline like any other record, not parsed again
        paths = LocalPaths()
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

    async def _status_message(self, record: StoredRecord, messages: StatusMessages) -> Outcome:
        """A status message: a sender taking a document back (13), or an answer."""
        try:
            message = messages.read(record.raw)
            if message.code != TAKE_BACK:
                if self.on_status is not None:
                    await self.on_status(record.raw.unit, message)
                return Outcome(
                    record_id=record.id,
                    outcome=RecordOutcome.STATUS,
                    decision={"rule": "status_received", "code": message.code},
                )
            ref = messages.target(message.document_id)
        except PermanentError as exc:
            return unreadable(record, exc.reason)
        return await self.matcher.take_back(record, ref)
