"""What an adapter is to the core: the `Profile` it registers, and the protocols it satisfies.

`Source` feeds the pipeline, `Sink` receives deliveries. Adapters satisfy these structurally;
they do not inherit behaviour. Each is an async context manager that owns its own
`aiohttp.ClientSession` (or other connection). What only some systems do (push intake, status
polling, business status back) is a capability: a protocol the adapter's class satisfies, or a
field its `Profile` fills in; the core asks for the capability, never for a profile by name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from bridge.blobs import Blobs
from bridge.domain.enums import Operation
from bridge.errors import PermanentError
from bridge.normalize.organ_history import DirectoryEntry
from bridge.settings import SinkSettings, SourceSettings
from schemas import (
    Document,
    DocumentRef,
    Organ,
    OutgoingItem,
    Page,
    RawRecord,
    SentEdoc,
    StatusEvent,
)

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Limits:
    """Size caps every adapter honours on hostile input (bytes unless named otherwise)."""

    max_attachment_bytes: int = 512 * 1024 * 1024
    max_inline_attachment_bytes: int = 64 * 1024 * 1024
    max_page_bytes: int = 64 * 1024 * 1024
    max_zip_ratio: int = 200
    max_zip_entries: int = 1000
    http_timeout_s: float = 60.0
    # Calls per second to one remote system, shared by every endpoint calling it (None: no
    # bound); the smallest any endpoint asks for wins (adapters._pools).
    remote_rate_limit: float | None = None


@dataclass(frozen=True)
class AdapterContext:
    """What the daemon hands every adapter it builds.

    `units` are the organ ids of the units this adapter serves (one for most sources; several
    for a vxp node shared by units). `blobs` is where attachment bytes go. `aliases` names
    the unit among `units` another code stands for during a transition (the unit's old code
    once it was re-coded or merged, its new code before the configuration says so), from the
    organ directory; None when there is none.
    """

    units: tuple[str, ...]
    blobs: Blobs
    limits: Limits = field(default_factory=Limits)
    ssl: Any = None  # ssl.SSLContext | None | bool, passed to aiohttp connectors
    aliases: Callable[[str, tuple[str, ...]], str | None] | None = None

    def unit_for(self, code: str) -> str | None:
        """The unit a recipient code in a message names: one of `units`, or the one it
        stands for during a transition; None when it names none of them."""
        if code in self.units:
            return code
        if self.aliases is not None and code:
            found = self.aliases(code, self.units)
            return found if found in self.units else None
        return None


class Source(Protocol):
    """A system the bridge receives documents from."""

    name: str

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def check(self) -> None:
        """Prove credentials and endpoint work. Raises AuthError, TransientError."""
        ...

    def pull(self, cursor: str | None) -> AsyncIterator[Page]:
        """Yield pages from `cursor` onward until caught up, then return.

        Attachments of every record are already in the blob store when its page is yielded.
        The pipeline stores the page and its cursor durably before asking for the next one.
        Raises TransientError, AuthError; an unreadable record or page is yielded as a
        RawRecord with `error` set, never raised.
        """
        ...

    async def acknowledge(self, record: RawRecord) -> None:
        """Tell the source the record is durably stored. Idempotent."""
        ...


class PushSource(Source, Protocol):
    """A source that can also be pushed to at `/hooks/{name}`."""

    async def accept_push(self, headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
        """Verify and parse one pushed event into records (possibly none).

        Raises AuthError for a bad signature or stale timestamp, PermanentError for a body
        it cannot read. Must not acknowledge anything: the pipeline stores, then answers.
        """
        ...


class Sink(Protocol):
    """A system the bridge delivers documents to (the first sink of a unit is its home)."""

    name: str

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def check(self) -> None: ...

    async def prepare(
        self,
        op: Operation,
        document: Document,
        *,
        document_id: str,
        remote_id: str | None,
        note: str | None = None,
    ) -> JsonObject:
        """Upload what must be uploaded and return the exact request body for `op`.

        `document_id` is the bridge's own id of the document; `remote_id` is the sink's id
        from an earlier CREATE (None for CREATE itself). For REVOKE, `document.reason` holds
        the reason. For CORRECT, `document` holds the best fields known and `note` says which
        road taught what (the same revision: nothing was reissued).

        The pipeline stores the body before the first `send`, so every retry repeats it.
        Raises TransientError, AuthError, PermanentError.
        """
        ...

    async def send(self, op: Operation, body: JsonObject, key: str, remote_id: str | None) -> str:
        """Perform `op` with the stored body under idempotency `key`; return the remote id.

        Repeating a call with the same key and body must not create a second copy.
        """
        ...


class StatusSink(Sink, Protocol):
    """A home system that reports processing status of what it was given."""

    async def status(self, remote_id: str) -> StatusEvent | None: ...

    async def accept_push(self, headers: Mapping[str, str], body: bytes) -> list[StatusEvent]: ...


# ---- capabilities: what the runtime looks for on an adapter it started ----------------------


@runtime_checkable
class PushReceiver(Protocol):
    """Push intake at `/hooks/{name}`: a push source's records, or a home system's status events.

    Raises AuthError for a bad signature, PermanentError for a body it cannot read."""

    async def accept_push(
        self, headers: Mapping[str, str], body: bytes
    ) -> Sequence[RawRecord] | Sequence[StatusEvent]: ...


@runtime_checkable
class UnitsServed(Protocol):
    """A source serving several units at once (a shared axis node) that takes a new set of
    them while it runs: a unit added or disabled by a reload does not restart it."""

    def serve_units(self, units: tuple[str, ...]) -> None: ...


@runtime_checkable
class StatusPolling(Protocol):
    """Status polling: a home system asked what became of a document it was given."""

    name: str

    async def status(self, remote_id: str) -> StatusEvent | None: ...


@runtime_checkable
class StatusSender(Protocol):
    """Status relay: a source that sends business status messages back to a document's sender."""

    name: str

    async def send_status(
        self,
        *,
        from_organ: str,
        to_document: DocumentRef,
        to_organ: Organ,
        code: str,
        description: str,
    ) -> str: ...


@dataclass(frozen=True)
class IncomingStatus:
    """A business status message read out of a record: its code and the document it answers
    (as the wire names it; `StatusMessages.target` reads that name)."""

    code: str
    document_id: str
    from_organ: str | None = None  # the organ that sent the status (edXML `From/OrganId`)
    description: str | None = None  # the receiver's note, shown to the clerk


@dataclass(frozen=True)
class StatusMessages:
    """A profile whose senders expect business status back (and send their own).

    Records of `media_type` are status messages, not documents: `read` gives their code and
    target (PermanentError when unreadable), `target` turns the wire's document id into a
    reference. A source of such a profile that is a `StatusSender` gets a status relay.
    """

    media_type: str
    read: Callable[[RawRecord], IncomingStatus]
    target: Callable[[str], DocumentRef]


# ---- sending (văn bản đi): what the outbound flow asks of adapters ---------------------------


@runtime_checkable
class DispatchReporter(Protocol):
    """An outbox that keeps a dispatch log: one report per change of a recipient's state.

    `body` is the exact JSON body (tdoffice.md "Dispatch reports"), stored before the first
    try; the same `key` and body are sent on every retry. Returns normally on 201 and 200.
    Raises TransientError (5xx, 429, timeouts), PermanentError for 404/409/422 with the
    answer's error (a 409 `state_regression` or `road_in_use` is never retried)."""

    name: str

    async def report(self, document_id: str, key: str, body: JsonObject) -> None: ...


@dataclass(frozen=True)
class OutgoingMessage:
    """What is sent to recipients on the axis or by mail: one version of an outgoing document.

    `kind` is "new", "update" or "revocation" (edXML BussinessDocType 0, 2, 1; mail subject
    prefix none, "Cập nhật: ", "Thu hồi: "). `document.issuer.code` is the unit's current
    code; `document_key` is the edXML DocumentId `OrganId,yyyy/MM/dd,Number/Notation`, the
    same in every message about the document. `to_places` names every recipient, whatever its
    road. Attachment bytes are read from the blob store by `Attachment.blob`."""

    document: Document
    version: int
    kind: str
    document_key: str
    to_places: tuple[str, ...] = ()
    main_attachment: int | None = None
    reason: str | None = None
    built_at: Any = None  # datetime the message was first built (edXML TraceHeader)
    # the attachments' bytes, in `document.attachments` order: `compose` is pure and reads
    # them here, so load them first with `await message.with_files(blobs)`
    files: tuple[bytes, ...] = ()

    async def with_files(self, blobs: Blobs) -> OutgoingMessage:
        """This message with `files` read from the blob store (each attachment by its `blob`,
        else its `sha256`). Raises PermanentError for an attachment not in the store."""
        files = []
        for att in self.document.attachments:
            key = att.blob or att.sha256
            if not await blobs.exists(key):
                raise PermanentError(
                    f"tệp '{att.name[:80]}' chưa có trong kho / attachment bytes are not stored"
                )
            files.append(b"".join([chunk async for chunk in blobs.read(key)]))
        return replace(self, files=tuple(files))


class AxisRefusedError(Exception):
    """`sendEdoc` refused the whole message for some recipients (ErrorCode 18 or 23): each
    refused code maps to its error code. A refusal for good, not a transient failure."""

    def __init__(self, refused: Mapping[str, str], description: str) -> None:
        super().__init__(description)
        self.refused = dict(refused)
        self.description = description


class AmbiguousSendError(Exception):
    """The message may or may not have been stored (timeout, cut connection, 5xx after the
    body was sent): look with `sent_edocs` before sending again."""


@runtime_checkable
class AxisSender(Protocol):
    """An axis node that sends documents (`sendEdoc`) and can be asked what it sent."""

    name: str

    def compose(self, message: OutgoingMessage, to: Sequence[str]) -> bytes:
        """The edXML document message for the recipients `to` (current codes). Pure: the
        bytes are stored before the first send and sent unchanged on every retry."""
        ...

    async def send_edoc(self, *, from_organ: str, file: bytes) -> str:
        """Send the stored edXML file; return the axis's DocId. A single HTTP try.
        Raises AxisRefusedError (18, 23), AmbiguousSendError, TransientError (refused before
        the body was sent, or a 429/5xx answered before storing), PermanentError."""
        ...

    async def sent_edocs(self, *, doc_id: str | None = None, since: Any = None) -> list[SentEdoc]:
        """`getSentEdocList` by DocId or from a local datetime. Raises TransientError."""
        ...


class MailRefusedError(Exception):
    """The SMTP server refused the message for good (5xx to RCPT or DATA)."""


@runtime_checkable
class MailSender(Protocol):
    """The unit's official mailbox on the mail road (SMTP submission)."""

    name: str
    address: str  # the unit's official address, the message's From

    def compose(
        self,
        message: OutgoingMessage,
        *,
        to: str,
        message_id: str,
        in_reply_to: str | None = None,
    ) -> bytes:
        """The MIME message (mailbox.md "Sending (SMTP)"). Pure: stored before the first send."""
        ...

    async def send(self, *, to: str, message: bytes) -> None:
        """Submit the stored bytes. Raises MailRefusedError (5xx), TransientError (4xx,
        timeouts, cut connections), AuthError."""
        ...


@runtime_checkable
class DirectorySource(Protocol):
    """An axis node that serves the organ directory (vxp.md "The organ directory"). Its
    `Profile.make_directory_source` makes it as an async context manager owning its
    connection."""

    async def agencies(self) -> list[DirectoryEntry]:
        """Every organ not deleted (`getAgenciesList`: no deletion, node or version).
        Raises TransientError, AuthError, PermanentError (an entry it cannot read)."""
        ...

    async def synchronize(self, version: int) -> tuple[list[DirectoryEntry], int]:
        """The entries changed after `version` (0: every entry, deleted ones too), oldest
        change first, and the newest version (`getSynchronizeUnit`). Raises as `agencies`."""
        ...


@dataclass(frozen=True)
class Profile:
    """Everything the bridge knows about one kind of system.

    `to_document` is the pure mapper from a stored raw record to the common schema.
    `read_file` builds a RawRecord from one file in the profile's wire format (for
    `lienthong normalize`); it raises PermanentError with a one-line reason on bad input.
    `status_messages` is set by a profile that speaks business status back and forth.
    `shared_node` names the node a source's settings point at when several units may share
    one (their sources are then one poller serving all of them); None when it is never shared.
    """

    name: str
    to_document: Callable[[RawRecord], Document]
    read_file: Callable[[bytes, str], RawRecord]
    source_settings: type[SourceSettings] | None = None
    make_source: Callable[[Any, AdapterContext], Source] | None = None
    sink_settings: type[SinkSettings] | None = None
    make_sink: Callable[[Any, AdapterContext], Sink] | None = None
    status_messages: StatusMessages | None = None
    shared_node: Callable[[SourceSettings], Hashable] | None = None
    # sending: an outbox is a source of OutgoingItem records (pull and push, like any source)
    # whose adapter may also be a DispatchReporter; `to_outgoing` maps its records.
    outbox_settings: type[SourceSettings] | None = None
    make_outbox: Callable[[Any, AdapterContext], Source] | None = None
    to_outgoing: Callable[[RawRecord], OutgoingItem] | None = None
    # the axis node's sending side and the mail road, built from the node's source settings
    # and from an outbox's `smtp` table respectively
    make_axis_sender: Callable[[Any, AdapterContext], AxisSender] | None = None
    make_mail_sender: Callable[[Any, AdapterContext], MailSender] | None = None
    # the organ directory an axis node serves, built from the node's source settings
    make_directory_source: (
        Callable[[Any, AdapterContext], AbstractAsyncContextManager[DirectorySource]] | None
    ) = None


Profiles = Mapping[str, Profile]  # the adapter registry as the core receives it


__all__ = [
    "AdapterContext",
    "AmbiguousSendError",
    "AxisRefusedError",
    "AxisSender",
    "DirectoryEntry",
    "DirectorySource",
    "DispatchReporter",
    "Document",
    "IncomingStatus",
    "JsonObject",
    "Limits",
    "MailRefusedError",
    "MailSender",
    "Operation",
    "OutgoingMessage",
    "Profile",
    "Profiles",
    "PushReceiver",
    "PushSource",
    "RawRecord",
    "Sink",
    "Source",
    "StatusMessages",
    "StatusPolling",
    "StatusSender",
    "StatusSink",
]
