"""What the rest of the bridge may ask of the store, one Protocol per concern.

Both backends (`SqliteStore`, `PostgresStore`) implement every one with the same semantics;
a caller that needs one concern can take that Protocol rather than the whole store. A `fence`
is (resource, fencing token): the write is refused (StaleLeaseError) once that lease has
passed to another instance.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from bridge.domain.alerts import AlertRecord
from bridge.domain.decision import Outcome
from bridge.domain.entities import Delivery, DocumentRow, StatusOut, StoredRecord
from bridge.domain.outgoing import Intake, Move, OutDoc, OutMessage, OutRecipient, OutReport
from bridge.domain.search import FoundDocument
from bridge.normalize.organ_history import DirectoryEntry
from schemas import Document, Page, RawRecord, StatusEvent

Fence = tuple[str, int] | None  # (resource, fencing token): refuse the write once it is stale


class Records(Protocol):
    """Raw records as sources hand them over; cursors; acknowledgements; webhook ids."""

    async def save_page(self, source: str, page: Page, *, fence: Fence = None) -> list[int]:
        """Store every record of a page and the page's cursor in one transaction. Returns the
        ids of records seen for the first time; a re-read of a stored (source, unit,
        external_id, version) is ignored."""

    async def save_records(
        self, records: Sequence[RawRecord], *, fence: Fence = None
    ) -> list[int]: ...
    async def get_cursor(self, source: str) -> str | None: ...
    async def unacked(self, source: str, limit: int = 500) -> list[StoredRecord]: ...
    async def mark_acked(
        self, source: str, unit: str, external_id: str, version: str, *, fence: Fence = None
    ) -> None: ...
    async def mark_acked_many(
        self, keys: Sequence[tuple[str, str, str, str]], *, fence: Fence = None
    ) -> None:
        """Mark (source, unit, external_id, version) records acknowledged: without a fence they
        ride along with the next commit (durable when it returns; a mark lost to a crash only
        sends an idempotent receipt again), with one in a transaction of their own."""

    async def undecided_ids(self, records: Sequence[RawRecord]) -> list[int]:
        """The ids of these records, stored and not decided yet (a pushed document the pull
        stored a moment before its webhook arrived)."""

    async def unprocessed(self, limit: int = 200) -> list[StoredRecord]: ...
    async def waiting(self, limit: int = 500) -> list[StoredRecord]:
        """Revisions and revocations whose target document has not arrived yet."""

    async def record(self, record_id: int) -> StoredRecord | None: ...
    async def records_of(self, doc_id: int) -> list[StoredRecord]: ...
    async def remember_event(self, name: str, event_id: str) -> bool:
        """Record a webhook event id; False when it was seen before (a repeat to ignore)."""


class Documents(Protocol):
    """The matcher's lookups and its decisions."""

    async def documents_by_triple(self, triple: str) -> list[DocumentRow]: ...
    async def documents_by_attachment(self, sha256s: Iterable[str]) -> list[DocumentRow]: ...
    async def document(self, document_id: int) -> DocumentRow | None: ...
    async def sinks_holding(self, doc_id: int) -> list[tuple[str, str]]: ...
    async def apply(self, outcome: Outcome, *, fence: Fence = None) -> int | None:
        """Apply one matching decision and all its consequences atomically. Returns the
        document id the record ended up with (None when quarantined apart, or when the record
        was decided already: a decision is applied once)."""

    async def held_for_review(self) -> list[tuple[int, str, list[str], dict[str, Any]]]:
        """Records held for review that name files: (record id, unit, SHA-256s, provenance),
        as the matcher wrote them into the hold's decision (inside a batch, with its holds)."""

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


class Outbox(Protocol):
    """Deliveries owed to sinks: due, sent, retried, dead, replayed."""

    async def due_deliveries(
        self, sink: str, limit: int, now: float | None = None
    ) -> list[Delivery]:
        """Pending deliveries for `sink` whose time has come, oldest first. A delivery waits
        while an earlier one of the same (document, unit, sink) is not done, so updates and
        revocations reach the sink after the create, in order."""

    async def due_deliveries_of(
        self, sink: str, document_id: int, now: float | None = None
    ) -> list[Delivery]:
        """`due_deliveries` of one document (a pushed one, delivered before the backlog)."""

    async def next_due_at(self, sink: str, after: float) -> float | None:
        """The earliest time after `after` at which a pending delivery of `sink` waits to be
        tried again (None: none waits), so an idle worker sleeps until then."""

    async def remote_id(self, doc_id: int, unit: str, sink: str) -> str | None: ...
    async def store_body(self, delivery_id: int, body: dict[str, Any]) -> bool:
        """Keep the prepared body before the first attempt; False when the delivery was
        cancelled meanwhile (then nothing must be sent). Durable when it returns."""

    async def mark_delivered(self, delivery_id: int, remote_id: str) -> None: ...
    async def schedule_retry(self, delivery_id: int, at: float, error: str) -> None: ...
    async def mark_dead(self, delivery_id: int, reason: str) -> None: ...
    async def replay(self, delivery_id: int | None, actor: str) -> int:
        """Send dead letters again with their original key and body. None replays all."""

    async def dead_letters(self, limit: int = 200) -> list[Delivery]: ...
    async def deliveries_of(self, doc_id: int) -> list[Delivery]: ...
    async def last_sink_errors(self) -> dict[str, str]: ...
    async def release_parked_deliveries(self, sink: str, now: float | None = None) -> int:
        """`sink` answers again: its pending deliveries waiting for a later try are due now
        (their attempts and claims are kept). Returns how many were brought forward."""


class Statuses(Protocol):
    """Processing status from home systems; status messages owed back to senders."""

    async def save_status_events(self, events: Sequence[StatusEvent]) -> int:
        """Store home systems' status reports (a repeat is ignored) and owe senders theirs."""

    async def due_status(
        self, source: str, limit: int = 50, now: float | None = None
    ) -> list[StatusOut]:
        """Status messages owed to `source`'s senders whose time has come, oldest first."""

    async def status_sent(self, status_id: int, sent_id: str) -> None: ...
    async def status_failed(self, status_id: int, error: str, retry_at: float | None) -> None:
        """Retry at `retry_at`, or give up (state dead) when it is None."""

    async def statuses_of(self, doc_id: int) -> dict[str, list[dict[str, Any]]]:
        """Status reported by home systems and status sent back to senders, for one document."""

    async def status_pollable(
        self, sink: str, after: int = 0, limit: int = 50
    ) -> list[tuple[int, str]]:
        """(delivery id, remote id) at `sink` whose processing is not finished, from after
        `after` in delivery order (a poller's place in its round)."""

    async def status_open(
        self, sink: str, after: int = 0, limit: int = 500
    ) -> list[tuple[int, str, float]]:
        """(delivery id, remote id, delivered at as epoch seconds) at `sink` whose processing
        is not finished, from after `after` in delivery order."""

    async def is_done_at_home(self, doc_id: int) -> bool: ...
    async def release_parked_status(self, source: str, now: float | None = None) -> int:
        """The axis node of `source` answers again: its status messages waiting for a later
        try are due now (their attempts and claims are kept). Returns how many."""


class Operator(Protocol):
    """An operator's corrections of the matcher's work, each one audited."""

    async def release_quarantined(self, quarantine_id: int, actor: str, *, release: bool) -> bool:
        """Send a quarantined record through matching again. With `release` the operator
        vouches for it: holds (review, secret, signature) no longer apply to it. Without, it is
        a retry after a fix (a new adapter version, a configuration). False when there is no
        such open quarantine entry."""

    async def is_released(self, record_id: int) -> bool: ...
    async def override_for(self, record_key: str) -> tuple[bool, int | None]:
        """(has an override, forced document id or None for "a document of its own")."""

    async def split_record(self, document_id: int, record_id: int, actor: str) -> bool:
        """Take a wrongly merged record out of a document; it becomes a document of its own.
        The correction is kept as an override, so the record (and a re-read of it) is never
        merged back by the matcher."""

    async def merge_documents(self, keep_id: int, other_id: int, actor: str) -> bool:
        """Judge two documents one: every record of `other_id` is matched to `keep_id`.
        Deliveries of `other_id` not yet made are cancelled; ones already made stay made (the
        audit trail says so) since a sink cannot be asked to forget."""

    async def audit_trail(self, limit: int = 200) -> list[dict[str, Any]]: ...


class Reading(Protocol):
    """What people read: counters, search, history, quarantine, the monthly report."""

    async def counts(self) -> dict[str, Any]:
        """Counters for /status, per source, per sink and in total."""

    async def unit_figures(self) -> dict[str, dict[str, int]]:
        """Each unit's figures (bridge/domain/figures.py)."""

    async def backlog(self) -> dict[tuple[str, str], int]:
        """Records not decided yet, by (unit, source)."""

    async def delivered_to(self, doc_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Every home system each document reached, by document."""

    async def throughput_rows(
        self, since: str, units: Collection[str] | None = None
    ) -> tuple[list[str], list[tuple[str, str | None, bool]]]:
        """Records' received times and deliveries (created, done, delivered) since `since`."""

    async def search_documents(
        self,
        *,
        unit: str | None,
        q: str | None,
        state: str | None,
        limit: int,
        before: int | None,
        before_rank: int = 0,
        units: Collection[str] | None = None,
    ) -> list[FoundDocument]:
        """Exact hits first, then partial ones (bridge/domain/search.py), newest first within
        each; without `q` the latest documents. Paging: the last hit's (rank, id) as
        (`before_rank`, `before`). Merged documents only when `state` asks for them. `units`:
        only documents addressed to one of them (None: every unit)."""

    async def revisions_of(self, doc_id: int) -> list[dict[str, Any]]: ...
    async def quarantined(self, limit: int = 200) -> list[dict[str, Any]]: ...
    async def documents_received(
        self, start: str, end: str, unit: str | None
    ) -> list[dict[str, Any]]:
        """Documents whose first record arrived in [start, end) (ISO dates): monthly report."""


class Retention(Protocol):
    """Deleting what is old and finished with."""

    async def purge_before(self, cutoff: str, hook_cutoff: str) -> dict[str, int]:
        """Delete what is older than `cutoff` (ISO time) and finished with, in one transaction.
        Never touches a record that is unprocessed, unacknowledged, held in quarantine or
        waiting, nor a document with a delivery still pending or dead, nor cursors."""

    async def blob_in_use(self, sha256: str) -> bool:
        """Whether any remaining document or record still names this blob."""

    async def database_bytes(self) -> int: ...


class Leases(Protocol):
    """Which instance reads a source, with fencing tokens."""

    async def acquire_lease(self, resource: str, owner: str, ttl_s: float) -> int | None:
        """Take or extend `resource` for `ttl_s` seconds; the fencing token, or None when
        another owner holds a live lease. Re-acquiring a live lease of one's own keeps the token."""

    async def renew_lease(self, resource: str, owner: str, token: int, ttl_s: float) -> bool:
        """Extend a live lease; False when it lapsed or changed hands (acquire again)."""

    async def release_lease(self, resource: str, owner: str, token: int) -> None:
        """Give the lease up now (it expires; the token is kept so it keeps growing)."""

    async def leases(self) -> list[dict[str, Any]]: ...


class Alerts(Protocol):
    """The alerts' durable state, and the counts their rules watch."""

    async def alerts(self) -> list[AlertRecord]:
        """Every alert kept: firing, or ended (what each channel was told of it)."""

    async def save_alerts(self, records: Sequence[AlertRecord]) -> None:
        """Keep these alerts' state (each replaces the one of its key), in one transaction."""

    async def open_counts(self) -> dict[str, int]:
        """{"dead_letters": deliveries given up, "quarantined": records held, not released}."""

    async def unsent_status(self, code: str, before: str) -> list[tuple[str, str, int, str]]:
        """Status messages of `code` owed before `before` (ISO) and not sent (pending, or
        given up): (source, unit that owes it, how many, the oldest's time) per source and unit."""


class Scope(Protocol):
    """Which units a row belongs to, for filtering by an operator's units."""

    async def quarantine_unit(self, quarantine_id: int) -> str | None: ...
    async def delivery_unit(self, delivery_id: int) -> str | None: ...
    async def document_units(self, document_id: int) -> set[str]:
        """Every unit a document reached: by its records and by its deliveries."""


class Controls(Protocol):
    """An operator's controls of the running endpoints (bridge/store/sql/controls.py)."""

    async def set_paused(self, name: str, paused: bool, actor: str) -> bool:
        """Pause or resume a source, audited; True when its state changed."""

    async def is_paused(self, name: str) -> bool: ...
    async def paused_endpoints(self) -> set[str]: ...
    async def note_action(
        self, actor: str, action: str, target: str, detail: dict[str, Any]
    ) -> None:
        """Audit a control whose effect is in the running daemon only."""


class Timeline(Protocol):
    """The rows of one document's timeline (bridge/domain/timeline.py orders them)."""

    async def timeline_rows(self, doc_id: int) -> dict[str, list[dict[str, Any]]]:
        """records, deliveries, home (statuses in), sent (statuses out), audit."""


class Directory(Protocol):
    """The organ directory synced from the axis: every state of every entry, never
    overwritten, and the sync's version, time and last error."""

    async def directory_save(self, entries: Sequence[DirectoryEntry], version: int) -> int:
        """Append each changed entry's state to the history, make it current, and record the
        sync's version (its error cleared), in one transaction. Returns how many changed."""

    async def directory_failed(self, error: str) -> None:
        """Note a failed sync; the last good directory and version stay."""

    async def directory_history(self) -> list[DirectoryEntry]: ...
    async def directory_entries(self) -> list[DirectoryEntry]: ...
    async def directory_state(self) -> dict[str, Any]:
        """`organs` (not deleted), `version`, `synced_at`, `last_error`, `failed_at`."""


class Outgoing(Protocol):
    """Sending (văn bản đi, bridge/store/sql/outgoing*.py): outbox items as taken in, outgoing
    documents and recipients, their moves with the dispatch reports they owe, the messages
    kept before their first attempt, paper tasks and what operators read."""

    async def save_outbox_page(self, outbox: str, page: Page, *, fence: Fence = None) -> list[int]:
        """Store an outbox's page of items and its cursor in one transaction (new ids)."""

    async def save_outbox_items(
        self, outbox: str, records: Sequence[RawRecord], *, fence: Fence = None
    ) -> list[int]: ...
    async def outbox_unacked(self, outbox: str, limit: int = 500) -> list[RawRecord]: ...
    async def mark_outbox_acked(
        self, outbox: str, keys: Sequence[tuple[str, str, str]], *, fence: Fence = None
    ) -> None:
        """Mark (unit, external_id, version) items of `outbox` acknowledged."""

    async def untaken_items(self, limit: int = 100) -> list[tuple[int, str, RawRecord]]: ...
    async def skip_item(self, item_id: int, error: str) -> None: ...
    async def outgoing_doc(self, outbox: str, home_id: str) -> OutDoc | None: ...
    async def outgoing_doc_by_id(self, doc_id: int) -> OutDoc | None: ...
    async def outgoing_docs_by_key(self, document_key: str) -> list[OutDoc]: ...
    async def recipients_of(self, doc_id: int) -> list[OutRecipient]: ...
    async def recipient(self, recipient_id: int) -> OutRecipient | None: ...
    async def recipients_in(
        self,
        road: str,
        states: Sequence[str],
        limit: int = 200,
        due_by: float | None = None,
        outbox: str | None = None,
        after: int = 0,
    ) -> list[OutRecipient]: ...
    async def take_item(self, intake: Intake) -> int:
        """Apply what taking an outbox item changes, in one transaction; the document's id."""

    async def move(self, *moves: Move, paper: Sequence[tuple[int, int, str]] = ()) -> list[bool]:
        """Move recipients (each move owes its dispatch reports), in one transaction."""

    async def note_attempt(
        self,
        recipient_ids: Sequence[int],
        message_id: int | None,
        road: str,
        error: str | None,
        next_at: float | None = None,
    ) -> None: ...
    async def attempts_of(self, recipient_id: int) -> list[dict[str, Any]]: ...
    async def retry_now(self, recipient_id: int) -> None:
        """A queued recipient is due at once (an operator's retry)."""

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
        """Keep a message's exact bytes before its first attempt; its id."""

    async def messages_of(self, doc_id: int, version: int | None = None) -> list[OutMessage]: ...
    async def message_started(self, message_id: int) -> str:
        """An attempt starts (`sending` until its answer is kept); the first attempt's time."""

    async def message_ended(
        self, message_id: int, state: str, remote_id: str | None = None
    ) -> None: ...
    async def deliver_internal(self, record: RawRecord, *moves: Move) -> bool:
        """The internal road: the record stored for the receiving unit with the moves."""

    async def internal_progress(
        self, states: Sequence[str], limit: int = 500
    ) -> list[tuple[OutRecipient, list[str]]]:
        """Internal recipients in `states` whose receiving home system reported, with those
        statuses, oldest first."""

    async def due_reports(
        self, outbox: str, limit: int = 50, now: float | None = None
    ) -> list[OutReport]:
        """Pending dispatch reports due now, the oldest of each recipient only."""

    async def report_sent(self, *report_ids: int) -> None:
        """These reports were taken (one transaction for all)."""

    async def report_failed(self, report_id: int, error: str, retry_at: float | None) -> None: ...
    async def reports_of(self, doc_id: int) -> list[dict[str, Any]]: ...
    async def paper_tasks(self, units: Collection[str] | None = None) -> list[dict[str, Any]]: ...
    async def outgoing_page(
        self, units: Collection[str] | None, state: str | None, limit: int, before: int | None
    ) -> list[OutDoc]: ...
    async def outbound_figures(self, units: Collection[str] | None = None) -> dict[str, Any]: ...
    async def waiting_for_01(self, sent_before: str) -> list[tuple[OutDoc, OutRecipient]]: ...


class Store(
    Records,
    Documents,
    Outbox,
    Statuses,
    Operator,
    Reading,
    Retention,
    Leases,
    Alerts,
    Scope,
    Controls,
    Timeline,
    Directory,
    Outgoing,
    Protocol,
):
    """The whole store: every concern, a schema version and group commit (`batch`)."""

    def batch(self) -> AbstractAsyncContextManager[None]: ...
    async def schema_version(self) -> int: ...
