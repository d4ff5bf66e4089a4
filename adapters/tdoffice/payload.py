"""Pure builders of tdoffice request bodies from the common schema. No I/O.

`to_payload` is the body of a create at the sink, `to_update_payload` of a PATCH (a revision),
`correction_payload` of a PATCH that corrects fields a later road wrote better,
`revoke_payload` of a revocation; `from_document` renders a Document as the tdoffice inbox shows
it (the simulator's `add_document`). Bodies are deterministic: the same Document and file ids
give the same bytes, which idempotent retries rely on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bridge.normalize import fold_key, type_name_for
from schemas import Document, Organ, Priority, SignatureStatus

JsonObject = dict[str, Any]
TDOFFICE_TOP_PRIORITY = Priority.HOA_TOC
TIMED_URGENT_NOTE = (
    "Hỏa tốc hẹn giờ: độ khẩn gốc là Hỏa tốc hẹn giờ (4), gửi với độ khẩn Hỏa tốc / "
    "original priority Hỏa tốc hẹn giờ (4) sent as Hỏa tốc (3)"
)
CONG_VAN_CODE = "CV"  # tdoffice's own code for Công văn, which Decree 30 leaves unabbreviated
DEFAULT_REVOKE_REASON = "Đơn vị gửi thu hồi văn bản / revoked by the sender"


def to_payload(document: Document, file_ids: Sequence[str]) -> JsonObject:
    """Body of `POST /api/v2/documents/incoming`: no documentId, uploaded `file_ids`.

    `file_ids[i]` is the upload of `document.attachments[i]`. `version` is the sender's
    revision; a priority tdoffice cannot hold (4) goes as 3 with a `note` saying so.
    """
    body: JsonObject = {
        "codeNumber": document.number,
        "codeNotation": document.notation,
        "promulgationDate": _iso(document.issued_on),
        "issuer": _organ(document.issuer),
        **_content(document, file_ids),
    }
    note = delivery_note(document)
    if note is not None:
        body["note"] = note
    return body


def to_update_payload(document: Document, file_ids: Sequence[str]) -> JsonObject:
    """Body of `PATCH /api/v2/documents/{id}`: the fields a revision may change, and `version`.

    The identity (number, notation, date, issuer) never changes within one document, so it is
    left out; every other field is sent as it now stands.
    """
    body = _content(document, file_ids)
    note = delivery_note(document)
    if note is not None:
        body["note"] = note
    return body


def correction_payload(document: Document, note: str | None) -> JsonObject:
    """Body of the `PATCH /api/v2/documents/{id}` that corrects a delivered document: the
    fields a later road may write better (the issuer with its code included), the same
    `version` (nothing was reissued) and a `note` saying which road taught what. No upload."""
    body: JsonObject = {
        "issuer": _organ(document.issuer),
        **_described(document),
        "dueDate": _iso(document.due_on),
        "version": document.revision,
    }
    notes = [text for text in (delivery_note(document), note) if text]
    if notes:
        body["note"] = "; ".join(notes)
    return body


def revoke_payload(document: Document) -> JsonObject:
    """Body of `POST /api/v2/documents/{id}/revoke`."""
    return {"reason": document.reason or DEFAULT_REVOKE_REASON}


def from_document(
    document: Document,
    file_ids: Sequence[str],
    *,
    document_id: str,
    version: int,
    updated_at: str,
    revoked: bool = False,
) -> JsonObject:
    """The document object as the tdoffice inbox would list it."""
    body = {"documentId": document_id, **to_payload(document, file_ids)}
    body.pop("note", None)
    body.update(version=version, state="revoked" if revoked else "active", updatedAt=updated_at)
    return body


def delivery_note(document: Document) -> str | None:
    """What the clerk must be told that the fields cannot say (None when nothing)."""
    notes: list[str] = []
    if document.priority > TDOFFICE_TOP_PRIORITY:
        notes.append(TIMED_URGENT_NOTE)
    for att in document.attachments:
        sig = att.signature
        if sig is not None and sig.status not in (SignatureStatus.VALID, SignatureStatus.UNSIGNED):
            notes.append(
                f"Chữ ký số của tệp '{att.name}': {sig.status.value} / "
                f"signature of '{att.name}': {sig.status.value}"
            )
    if document.review_reason:
        notes.append(document.review_reason)
    return "; ".join(notes) or None


def type_code(document: Document) -> str | None:
    """The type abbreviation, taken from the notation when it agrees with the type name."""
    if document.type_name is None:
        return None
    if fold_key(document.type_name) == fold_key("Công văn"):
        return CONG_VAN_CODE
    head = (document.notation or "").split("-", 1)[0]
    named = type_name_for(None, head) if head else None
    if named is not None and fold_key(named) == fold_key(document.type_name):
        return head
    return None


def _described(document: Document) -> JsonObject:
    """What a document is: its type, subject and signer (a create and a correction alike)."""
    signer = document.signer
    return {
        "documentType": (
            {"code": type_code(document), "name": document.type_name}
            if document.type_name
            else None
        ),
        "subject": document.subject,
        "signer": (
            {"fullName": signer.name, "position": signer.position}
            if signer is not None and (signer.name or signer.position)
            else None
        ),
    }


def _content(document: Document, file_ids: Sequence[str]) -> JsonObject:
    if len(file_ids) != len(document.attachments):
        raise ValueError("one file id per attachment is required")
    return {
        **_described(document),
        "priority": min(int(document.priority), int(TDOFFICE_TOP_PRIORITY)),
        "confidentiality": int(document.confidentiality),
        "dueDate": _iso(document.due_on),
        "recipients": [_organ(r) for r in document.recipients],
        "attachments": [
            {
                "fileId": file_id,
                "name": att.name,
                "contentType": att.content_type,
                "size": att.size,
                "sha256": att.sha256,
            }
            for file_id, att in zip(file_ids, document.attachments, strict=True)
        ],
        "version": document.revision,
    }


def _organ(organ: Organ) -> JsonObject:
    return {"organId": organ.code, "organName": organ.name}


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()
