"""What the processor concludes about a record without matching it: quarantine verdicts, the
status owed to a sender, and the checks a document passes before it is matched (safe file
names, broken signatures). Pure functions of the record and the document."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import structlog

from bridge.domain.enums import RecordOutcome
from bridge.normalize.filenames import safe_file_name
from bridge.status_messages import ARRIVED, REFUSED_SECRET, reply
from bridge.store import Outcome, StoredRecord
from schemas import Document, SignatureStatus

log = structlog.get_logger(__name__)

_OWES_ARRIVED = (
    RecordOutcome.DOCUMENT,
    RecordOutcome.DUPLICATE,
    RecordOutcome.REVISION,
    RecordOutcome.WAITING,
)


def owe_status(outcome: Outcome, doc: Document, unit: str) -> Outcome:
    """The business status a sender expecting it is owed for `outcome`: arrived, or refused
    for a secret document kept aside; none for anything else."""
    if outcome.outcome in _OWES_ARRIVED:
        replies = (reply(doc, unit, *ARRIVED),)
    elif outcome.quarantine is not None and outcome.quarantine[0] == "secret":
        replies = (reply(doc, unit, *REFUSED_SECRET),)
    else:
        return outcome
    return dataclasses.replace(outcome, status_replies=replies)


@dataclasses.dataclass
class LocalPaths:
    """Blob files readable by the signature checker (cache copies where blobs are not files)."""

    files: dict[str, Path] = dataclasses.field(default_factory=dict)

    def path(self, sha256: str) -> Path:
        return self.files.get(sha256, Path("/nonexistent") / sha256)


BROKEN_SIGNATURE = (
    "chữ ký số không hợp lệ (nội dung đã bị sửa sau khi ký) / "
    "invalid digital signature (bytes changed after signing)"
)


def with_safe_names(doc: Document) -> Document:
    """Attachment names are never paths: `../../x.pdf`, `C:\\x`, `CON` are rewritten before any
    system receives them."""
    safe = tuple(
        a
        if safe_file_name(a.name) == a.name
        else a.model_copy(update={"name": safe_file_name(a.name)})
        for a in doc.attachments
    )
    return doc if safe == doc.attachments else doc.model_copy(update={"attachments": safe})


def broken_signature(doc: Document) -> bool:
    return any(
        a.signature is not None and a.signature.status is SignatureStatus.INVALID
        for a in doc.attachments
    )


def held(record: StoredRecord, kind: str, reason: str) -> Outcome:
    log.warning(
        "record_quarantined", source=record.raw.source, record=record.raw.external_id, reason=reason
    )
    return Outcome(
        record_id=record.id,
        outcome=RecordOutcome.QUARANTINED,
        decision={"rule": kind},
        quarantine=(kind, reason),
    )


def failed(record: StoredRecord, exc: Exception) -> Outcome:
    log.exception("record_failed", source=record.raw.source, record=record.raw.external_id)
    return unreadable(
        record,
        f"lỗi nội bộ khi xử lý / internal error while processing: {type(exc).__name__}: {exc}",
    )


def unreadable(record: StoredRecord, reason: str) -> Outcome:
    log.warning(
        "record_quarantined", source=record.raw.source, record=record.raw.external_id, reason=reason
    )
    return Outcome(
        record_id=record.id,
        outcome=RecordOutcome.QUARANTINED,
        decision={"rule": "unreadable"},
        quarantine=("unreadable", reason),
    )
