"""Pure mapper from a stored tdoffice record to the common schema. No I/O.

The opposite direction (sink request bodies, the simulator's inbox view) is in `payload.py`.
"""

from __future__ import annotations

import datetime as dt

from adapters.tdoffice.wire import (
    WireAttachment,
    WireDocument,
    WireOrgan,
    load_object,
    parse_document,
)
from bridge.errors import PermanentError
from bridge.normalize import (
    canonical_organ_name,
    clean_subject,
    clean_text,
    normalize_code,
    normalize_notation,
    normalize_number,
    parse_date,
    parse_symbol,
    type_name_for,
)
from schemas import (
    Action,
    Attachment,
    Confidentiality,
    Document,
    DocumentRef,
    DocumentState,
    Organ,
    Priority,
    RawRecord,
    Signer,
)

MAX_TDOFFICE_PRIORITY = Priority.HOA_TOC  # priority 4 exists only in edXML


def to_document(record: RawRecord, *, identity_required: bool = True) -> Document:
    """Map one stored tdoffice record. Raises PermanentError for a record that is no document.

    `state: "revoked"` becomes a REVOKE whose target is the document's own identity; any
    other state is the document itself at revision `version`. With `identity_required`
    False (an outbox item: the bridge itself refuses to send it), a missing number or issue
    date is left empty instead of refused.
    """
    if record.error:
        raise PermanentError(record.error)
    wire = parse_document(record.payload)
    if identity_required or clean_text(_text(wire.code_number)) is not None:
        number, notation = _symbol(wire)
    else:
        number, notation = None, normalize_notation(clean_text(wire.code_notation))
    issuer = _issuer(wire.issuer)
    issued_on = _date(wire.promulgation_date, "promulgationDate", required=identity_required)
    subject = clean_subject(wire.subject)
    if subject is None:
        raise PermanentError(_missing("subject"))
    is_revoked = wire.state == DocumentState.REVOKED.value
    return Document(
        issuer=issuer,
        number=number,
        notation=notation,
        issued_on=issued_on,
        type_name=_type_name(wire),
        subject=subject,
        signer=_signer(wire),
        priority=Priority(_level(wire.priority, "priority", MAX_TDOFFICE_PRIORITY)),
        confidentiality=Confidentiality(
            _level(wire.confidentiality, "confidentiality", Confidentiality.TUYET_MAT)
        ),
        due_on=_date(wire.due_date, "dueDate", required=False),
        recipients=tuple(_organ(r) for r in wire.recipients or ()),
        attachments=record.attachments or _declared_attachments(wire),
        # a revocation raises tdoffice's own version without revising the content
        revision=1 if is_revoked else max(1, wire.version),
        state=DocumentState.REVOKED if is_revoked else DocumentState.ACTIVE,
        action=Action.REVOKE if is_revoked else Action.NEW,
        target=(
            DocumentRef(issuer=issuer, number=number, notation=notation, issued_on=issued_on)
            if is_revoked
            else None
        ),
    )


def _missing(field: str) -> str:
    return f"thiếu trường bắt buộc '{field}' / missing mandatory field '{field}'"


def _text(value: str | int | None) -> str | None:
    return None if value is None else str(value)


def _symbol(wire: WireDocument) -> tuple[str, str | None]:
    raw = clean_text(_text(wire.code_number))
    if raw is None:
        raise PermanentError(_missing("codeNumber"))
    notation = normalize_notation(clean_text(wire.code_notation))
    if "/" in raw:  # some senders put the whole "335/UBND-HC" in codeNumber
        try:
            symbol = parse_symbol(raw, whole=True)
        except ValueError:
            symbol = None
        if symbol is not None and symbol.number:
            return symbol.number, notation or symbol.notation
    number = normalize_number(raw)
    if not number:
        raise PermanentError(
            f"không đọc được số hiệu '{raw[:40]}' / unreadable codeNumber '{raw[:40]}'"
        )
    return number, notation


def _issuer(issuer: WireOrgan | None) -> Organ:
    organ = _organ(issuer) if issuer is not None else Organ()
    if organ.code is None and organ.name is None:
        raise PermanentError(_missing("issuer"))
    return organ


def _organ(organ: WireOrgan) -> Organ:
    return Organ(
        code=normalize_code(organ.organ_id), name=canonical_organ_name(clean_text(organ.organ_name))
    )


def _date(value: str | None, field: str, *, required: bool) -> dt.date | None:
    text = clean_text(value)
    if text is None:
        if required:
            raise PermanentError(_missing(field))
        return None
    try:
        return parse_date(text)
    except ValueError:
        raise PermanentError(
            f"ngày không hợp lệ ở '{field}': {text[:40]!r} / invalid date in '{field}'"
        ) from None


def _type_name(wire: WireDocument) -> str | None:
    if wire.document_type is None:
        return None
    return type_name_for(clean_text(wire.document_type.name), clean_text(wire.document_type.code))


def _signer(wire: WireDocument) -> Signer | None:
    if wire.signer is None:
        return None
    name = clean_text(wire.signer.full_name)
    position = clean_text(wire.signer.position)
    if name is None and position is None:
        return None
    return Signer(name=name, position=position)


def _level(value: int, field: str, top: int) -> int:
    if not 0 <= value <= top:
        raise PermanentError(
            f"giá trị '{field}' ngoài khoảng 0-{top}: {value} / "
            f"'{field}' out of range 0-{top}: {value}"
        )
    return value


def _declared_attachments(wire: WireDocument) -> tuple[Attachment, ...]:
    """Attachments as the record declares them (no bytes stored): for offline normalizing."""
    return tuple(_declared(att) for att in wire.attachments or ())


def _declared(att: WireAttachment) -> Attachment:
    sha = (att.sha256 or "").strip().lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise PermanentError(
            f"tệp '{att.name[:80]}' thiếu sha256 hợp lệ / attachment without a valid sha256"
        )
    return Attachment(
        name=att.name,
        content_type=att.content_type or "application/octet-stream",
        size=max(0, att.size or 0),
        sha256=sha,
    )


def read_file(data: bytes, name: str) -> RawRecord:
    """A RawRecord from one tdoffice document object in a file (for `lienthong normalize`).

    Raises PermanentError with a one-line reason when the file is not one JSON object.
    """
    obj = load_object(data, f"tệp '{name}' / file '{name}'")
    document_id = obj.get("documentId")
    return RawRecord(
        source="file",
        unit="",
        external_id=document_id if isinstance(document_id, str) and document_id else name,
        version=str(obj.get("version", 1)),
        media_type="application/json",
        payload=data,
        received_at=dt.datetime.now(dt.UTC),
    )
