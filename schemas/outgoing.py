"""Outgoing documents (văn bản đi) as an outbox gives them, and the entries of a dispatch log.

An outbox item is one (document, version) of a unit's issued documents: the document in the
common schema (its issuer is the unit), the recipients as the clerk chose them, which
attachment is the main file, and whether the document is still active. No I/O.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import AwareDatetime, Field

from schemas.base import Model
from schemas.document import Document


class OutgoingState(StrEnum):
    """The issuing organ's word on the document (tdoffice outbox `state`)."""

    ACTIVE = "active"
    REVOKED = "revoked"  # thu hồi: the organ cancels it
    RECALLED = "recalled"  # lấy lại: taken back, sent by mistake


class Road(StrEnum):
    """How a recipient is reached (contract.md, "Sending")."""

    INTERNAL = "internal"
    AXIS = "axis"
    MAIL = "mail"
    PAPER = "paper"


class DispatchState(StrEnum):
    """A recipient's state on its road, as the dispatch log records it (tdoffice.md)."""

    QUEUED = "queued"
    SENT = "sent"
    ARRIVED = "arrived"  # 01
    REGISTERED = "registered"  # 03
    ASSIGNED = "assigned"  # 04
    PROCESSING = "processing"  # 05
    DONE = "done"  # 06
    REFUSED = "refused"  # 02, or the bridge would not send
    FAILED = "failed"  # the road failed for good
    UNDELIVERABLE = "undeliverable"  # left to a paper dispatch


class OutgoingRecipient(Model):
    """A recipient as the clerk chose it: a code (maybe an old one), a name, an address."""

    organ_id: str | None = None
    organ_name: str | None = None
    email: str | None = None


class OutgoingItem(Model):
    """One entry of an outbox: (document, version) with its recipients."""

    send_id: str  # the outbox's id of this entry, one per (document_id, version)
    document_id: str  # the home system's id of the document (dispatch reports go there)
    version: int = Field(ge=1)
    document: Document  # issuer = the sending unit; revision = version
    main_attachment: int | None = None  # index into document.attachments of the main file
    recipients: tuple[OutgoingRecipient, ...] = ()
    state: OutgoingState = OutgoingState.ACTIVE
    reason: str | None = None  # why, for revoked and recalled


class DispatchReport(Model):
    """One line of an outbox's dispatch log: what became of the document for one recipient."""

    recipient: str  # organId as listed in the document's recipients
    to: str | None = None  # the organ code on the road, the mail address, or None
    version: int = Field(ge=1)
    road: Road | None = None  # None: refused before any road
    state: DispatchState
    status_code: str | None = Field(default=None, alias="statusCode")
    at: AwareDatetime
    detail: str | None = None


class SentEdoc(Model):
    """One (message, recipient) entry of the axis's `getSentEdocList`."""

    doc_id: str
    sender_doc_id: str | None = None  # the edXML DocumentId the message carried
    bussiness_doc_type: int | None = None  # 0 new, 1 revocation, 2 update, 3 replacement
    to_code: str
    send_status: str | None = None  # "sent" once stored for that recipient
    receive_status: str | None = None  # pending, received, fail
    sent_time: dt.datetime | None = None
