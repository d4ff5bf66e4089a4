"""What the store keeps of sending (văn bản đi), as the rest of the bridge reads it: an outgoing
document, its recipients on their roads, the messages sent to them, the dispatch reports owed,
and what a taken version changes. Plain data; the rules are `bridge.domain.outbound`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutDoc:
    id: int
    unit: str
    outbox: str
    home_id: str
    document_key: str
    version: int
    state: str  # active, revoked, recalled
    refused: str | None  # why it is never sent
    data: dict[str, Any]  # the latest OutgoingItem as JSON
    created_at: str


@dataclass(frozen=True)
class OutRecipient:
    id: int
    doc_id: int
    code: str  # the resolved organ (its code, else the address or name the clerk gave)
    listed: tuple[str, ...]  # organIds (or addresses) as listed, reported under each
    name: str | None
    email: str | None
    road: str | None
    to: str | None
    why: str | None
    state: str
    status_code: str | None
    version: int  # the version the current road carries (or last carried)
    failed_roads: tuple[str, ...]
    attempts: int
    last_error: str | None
    sent_at: str | None
    arrived_at: str | None
    updated_at: str


@dataclass(frozen=True)
class OutMessage:
    """The exact bytes sent on a road for one version: an edXML file for the axis recipients of
    one send, or one MIME message for one recipient; `ident` is its DocumentId or Message-ID."""

    id: int
    doc_id: int
    version: int
    road: str
    kind: str
    recipients: tuple[int, ...]
    ident: str
    data: bytes
    remote_id: str | None
    state: str  # pending, sending (an attempt under way or cut short), sent, refused
    first_at: str | None


@dataclass(frozen=True)
class OutReport:
    id: int
    recipient_id: int
    outbox: str
    home_id: str
    key: str
    body: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Move:
    """A recipient's change of state, reported to the dispatch log under each listed code."""

    recipient_id: int
    state: str
    road: str | None = None
    to: str | None = None
    why: str | None = None
    status_code: str | None = None
    detail: str | None = None
    version: int | None = None  # the version the road now carries (default: unchanged)
    error: str | None = None  # an attempt's error, kept with it
    next_at: float | None = None  # when a queued recipient is due
    failed_road: str | None = None  # the road that failed for good (not taken again)


@dataclass(frozen=True)
class NewRecipient:
    code: str
    listed: tuple[str, ...]
    name: str | None
    email: str | None
    road: str | None
    to: str | None
    why: str | None
    state: str
    detail: str | None = None


@dataclass(frozen=True)
class Intake:
    """What taking one outbox item changes, applied in one transaction."""

    item_id: int
    unit: str
    outbox: str
    home_id: str
    document_key: str
    version: int
    state: str
    kind: str
    refused: str | None
    data: dict[str, Any]
    new_recipients: tuple[NewRecipient, ...] = ()
    moves: tuple[Move, ...] = ()
    paper: tuple[int, ...] = ()  # recipients given a paper task for this version (by id)
    skip: bool = False  # an older or repeated version: only marked taken
    extra: dict[str, Any] = field(default_factory=dict)
