"""Building the RawRecords of one pull source."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import structlog

from bridge.blobs import StoredBlob
from schemas import RawRecord
from schemas.document import Attachment

log = structlog.get_logger(__name__)


def digest(data: bytes) -> str:
    """A short content hash, for ids of records that have none of their own."""
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True)
class RecordMaker:
    """Makes the records of one source for one unit; `system` names its log events."""

    source: str
    unit: str
    media_type: str
    system: str

    def raw(
        self,
        external_id: str,
        version: str,
        payload: bytes,
        *,
        ack: str | None = None,
        error: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> RawRecord:
        if error:
            log.warning(
                f"{self.system}_record_unreadable",
                source=self.source,
                record=external_id,
                reason=error,
            )
        return RawRecord(
            source=self.source,
            unit=self.unit,
            external_id=external_id,
            version=version,
            media_type=self.media_type,
            payload=payload,
            attachments=attachments,
            ack=ack,
            error=error,
            received_at=dt.datetime.now(dt.UTC),
        )

    def failed(self, record: RawRecord, reason: str) -> RawRecord:
        """`record` as an error record (its files refused), keeping its ids and payload."""
        return self.raw(
            record.external_id, record.version, record.payload, ack=record.ack, error=reason
        )

    def page_error(self, body: bytes, reason: str) -> RawRecord:
        """The one error record of a listing page that cannot be read at all."""
        return self.raw(f"page:{digest(body)}", "", body, error=reason)


def stored_file(name: str, content_type: str, blob: StoredBlob) -> Attachment:
    """The Attachment of a file already streamed into the blob store as `blob`."""
    return Attachment(
        name=name,
        content_type=content_type,
        size=blob.size,
        sha256=blob.sha256,
        blob=blob.sha256,
    )
