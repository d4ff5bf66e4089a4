"""What crosses from an adapter into the pipeline before normalization: raw records and pages."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime

from schemas.base import Model
from schemas.document import Attachment


class RawRecord(Model):
    """One record exactly as its source sent it, plus the files already streamed to blobs.

    (`source`, `external_id`, `version`) identify it: a re-read of the same triple is the same
    record. `error` is set when the adapter could not read the record at all (malformed page,
    hostile XML); the pipeline quarantines it with that reason. `ack` is whatever the adapter
    needs later to acknowledge it (an id, a UID, a docId).
    """

    source: str
    unit: str
    external_id: str
    version: str
    media_type: str
    payload: bytes
    attachments: tuple[Attachment, ...] = ()
    ack: str | None = None
    error: str | None = None
    received_at: AwareDatetime


class Page(Model):
    """Records read in one call, and the cursor to store once all of them are stored.

    `cursor` None means "do not move the cursor" (for sources that acknowledge instead).
    """

    records: tuple[RawRecord, ...]
    cursor: str | None = None


class RemoteStatus(StrEnum):
    """Processing status in a home system (tdoffice vocabulary)."""

    RECEIVED = "received"
    ASSIGNED = "assigned"
    PROCESSING = "processing"
    DONE = "done"
    REJECTED = "rejected"


class StatusEvent(Model):
    """A home system reports what became of a delivered document."""

    sink: str
    remote_id: str
    status: RemoteStatus
    updated_at: AwareDatetime
    note: str | None = None
