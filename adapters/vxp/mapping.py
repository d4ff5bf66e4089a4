"""Pure mappers from edXML to the common schema: documents, status messages, inline attachments.

Nothing here touches the network. `to_document` reads a stored RawRecord (attachments already
in the blob store); `document_from_edxml` reads a bare edXML file and derives attachment sizes
and SHA-256 from the inline base64 (for `lienthong normalize` and the folder adapter).

Revision rule: edXML carries no revision counter, and an update (BussinessDocType 2) or a
replacement (3) names only the document it changes. Its revision is the count of updates the
message knows of (its one `Bussiness` block) plus the original: 2. The pipeline orders several
updates of one document by arrival.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import unicodedata

from adapters.vxp.edxml import EdxmlError, parse_message
from adapters.vxp.message import (
    Business,
    EdxmlMessage,
    InlineAttachment,
    OrganInfo,
    StatusMessage,
    bare_content_id,
)
from bridge.errors import PermanentError
from bridge.interfaces import Limits
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
    Document,
    DocumentRef,
    DocumentState,
    Organ,
    Priority,
    RawRecord,
    Signer,
)

DOCUMENT_MEDIA_TYPE = "application/vnd.edxml+xml"
STATUS_MEDIA_TYPE = "application/vnd.edxml-status+xml"
_ACTIONS = {"0": Action.NEW, "1": Action.REVOKE, "2": Action.UPDATE, "3": Action.REPLACE}


def _missing(field: str) -> PermanentError:
    return PermanentError(f"thiếu trường bắt buộc '{field}' / missing mandatory field '{field}'")


def parse_record(data: bytes) -> EdxmlMessage | StatusMessage:
    """`parse_message` with its failure turned into PermanentError (the record is unreadable)."""
    try:
        return parse_message(data)
    except EdxmlError as exc:
        raise PermanentError(str(exc)) from exc


def to_document(record: RawRecord) -> Document:
    """The document an edXML record carries. Raises PermanentError for anything unreadable.

    Uses the record's stored attachments when the adapter stored them, else the inline bytes.
    """
    if record.error is not None:
        raise PermanentError(record.error)
    message = parse_record(record.payload)
    if isinstance(message, StatusMessage) or record.media_type == STATUS_MEDIA_TYPE:
        raise PermanentError(
            "thông điệp trạng thái, không phải văn bản / a status message, not a document"
        )
    attachments = record.attachments or inline_attachments(message, Limits())
    return document_from_message(message, attachments)


def to_status(record: RawRecord) -> StatusMessage:
    """The status message a record carries. Raises PermanentError when it is not one."""
    if record.error is not None:
        raise PermanentError(record.error)
    message = parse_record(record.payload)
    if not isinstance(message, StatusMessage):
        raise PermanentError("không phải thông điệp trạng thái / not a status message")
    return message


def document_from_edxml(data: bytes) -> Document:
    """The document of one edXML file, attachments hashed from their inline content (blob None).

    Raises PermanentError for a status message or anything unreadable.
    """
    message = parse_record(data)
    if isinstance(message, StatusMessage):
        raise PermanentError(
            "thông điệp trạng thái, không phải văn bản / a status message, not a document"
        )
    return document_from_message(message, inline_attachments(message, Limits()))


def decode_inline(item: InlineAttachment, max_bytes: int) -> bytes:
    """The bytes of one inline attachment. Raises PermanentError if too large or not base64."""
    name = item.name or item.content_id or "?"
    compact = "".join(item.encoded.split())
    if len(compact) // 4 * 3 > max_bytes + 2:
        raise PermanentError(
            f"tệp đính kèm '{name}' quá lớn (> {max_bytes} byte) / "
            f"attachment '{name}' larger than {max_bytes} bytes"
        )
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PermanentError(
            f"tệp đính kèm '{name}' không phải base64 hợp lệ / "
            f"attachment '{name}' is not valid base64"
        ) from exc
    if len(data) > max_bytes:
        raise PermanentError(
            f"tệp đính kèm '{name}' quá lớn (> {max_bytes} byte) / "
            f"attachment '{name}' larger than {max_bytes} bytes"
        )
    return data


def describe_attachments(message: EdxmlMessage) -> list[tuple[InlineAttachment, str, str]]:
    """Each inline attachment with its name and content type, manifest references joined by
    ContentId (`cid:` on one side only is the same id). Raises PermanentError when the manifest
    names a file the message does not carry."""
    references = {bare_content_id(r.content_id): r for r in message.manifest}
    carried = {bare_content_id(a.content_id) for a in message.attachments}
    for key, listed in references.items():
        if key not in carried:
            name = listed.attachment_name or key
            raise PermanentError(
                f"thiếu nội dung tệp đính kèm '{name}' / attachment '{name}' listed but not carried"
            )
    described = []
    for index, item in enumerate(message.attachments, start=1):
        reference = references.get(bare_content_id(item.content_id))
        name = item.name or (reference.attachment_name if reference else None)
        content_type = item.content_type or (reference.content_type if reference else None)
        described.append(
            (
                item,
                unicodedata.normalize("NFC", (name or f"attachment-{index}").strip()),
                (content_type or "application/octet-stream").strip(),
            )
        )
    return described


def inline_attachments(message: EdxmlMessage, limits: Limits) -> tuple[Attachment, ...]:
    """Attachments described from the inline bytes, not stored (blob None)."""
    result = []
    for item, name, content_type in describe_attachments(message):
        data = decode_inline(item, limits.max_inline_attachment_bytes)
        sha256 = hashlib.sha256(data).hexdigest()
        result.append(
            Attachment(name=name, content_type=content_type, size=len(data), sha256=sha256)
        )
    return tuple(result)


def document_from_message(message: EdxmlMessage, attachments: tuple[Attachment, ...]) -> Document:
    """Map a parsed document message (attachments given) to the common schema."""
    number, notation = _symbol(message)
    promulgation = message.promulgation
    if promulgation is None or not (promulgation.date or "").strip():
        raise _missing("PromulgationDate")
    action, revision = _action(message.business)
    notation_hint = _type_abbr(number, notation)
    issued_on = _date(promulgation.date, "PromulgationDate")
    return Document(
        issuer=_issuer(message.sender),
        number=number,
        notation=notation,
        issued_on=issued_on,
        review_reason=contradiction(message, number, notation, issued_on),
        place=clean_text(promulgation.place),
        type_name=type_name_for(
            clean_text(message.document_type.type_name) if message.document_type else None,
            notation_hint,
        ),
        subject=clean_subject(message.subject) or "",
        content=clean_text(message.content),
        signer=_signer(message),
        priority=_priority(message),
        due_on=_date(message.due_date, "DueDate") if (message.due_date or "").strip() else None,
        recipients=tuple(_organ(r) for r in message.recipients if r.organ_id or r.organ_name),
        attachments=attachments,
        revision=revision,
        state=DocumentState.REVOKED if action is Action.REVOKE else DocumentState.ACTIVE,
        action=action,
        target=_target(message) if action is not Action.NEW else None,
        reason=clean_text(message.business.reason) if message.business else None,
    )


def _symbol(message: EdxmlMessage) -> tuple[str, str | None]:
    code = message.code
    number = normalize_number(clean_text(code.number)) if code else None
    notation = normalize_notation(clean_text(code.notation)) if code else None
    if number is None and message.document_id:
        ref = parse_document_id(message.document_id)
        number, notation = ref.number, ref.notation
    if number is None:
        raise _missing("CodeNumber")
    return number, notation


def contradiction(
    message: EdxmlMessage, number: str, notation: str | None, issued_on: dt.date
) -> str | None:
    """Why the message contradicts its own `DocumentId` (number, notation or date), kept for
    review rather than guessed; None when they agree or there is no readable DocumentId."""
    if not (message.document_id or "").strip():
        return None
    try:
        ref = parse_document_id(message.document_id or "")
    except PermanentError as exc:
        return f"DocumentId không đọc được, cần xem xét / DocumentId unreadable, held: {exc}"
    differed = []
    if ref.number != number:
        differed.append(f"CodeNumber {number!r} ≠ {ref.number!r}")
    if notation is not None and ref.notation is not None and ref.notation != notation:
        differed.append(f"CodeNotation {notation!r} ≠ {ref.notation!r}")
    if ref.issued_on != issued_on:
        differed.append(f"PromulgationDate {issued_on.isoformat()} ≠ {ref.issued_on}")
    if not differed:
        return None
    detail = "; ".join(differed)
    return (
        f"văn bản mâu thuẫn với DocumentId ({detail}), cần xem xét / "
        f"the message contradicts its DocumentId ({detail}): held for review"
    )


def _type_abbr(number: str, notation: str | None) -> str | None:
    if notation is None:
        return None
    try:
        return parse_symbol(f"{number}/{notation}", whole=True).type_abbr
    except ValueError:
        return None


def _issuer(sender: OrganInfo) -> Organ:
    code = normalize_code(sender.organ_id)
    name = canonical_organ_name(clean_text(sender.organ_name or sender.organization_in_charge))
    if code is None and name is None:
        raise _missing("From/OrganId")
    return Organ(code=code, name=name)


def _organ(organ: OrganInfo) -> Organ:
    code = normalize_code(organ.organ_id)
    return Organ(code=code, name=canonical_organ_name(clean_text(organ.organ_name)))


def _date(value: str | None, field: str) -> dt.date:
    try:
        return parse_date(value or "")
    except ValueError as exc:
        raise PermanentError(
            f"ngày không hợp lệ ở '{field}': {value!r} / invalid date in '{field}'"
        ) from exc


def _signer(message: EdxmlMessage) -> Signer | None:
    info = message.signer
    if info is None:
        return None
    signer = Signer(
        competence=clean_text(info.competence),
        position=clean_text(info.position),
        name=clean_text(info.full_name),
    )
    return signer if any((signer.competence, signer.position, signer.name)) else None


def _priority(message: EdxmlMessage) -> Priority:
    raw = (message.other_info.priority or "").strip() if message.other_info else ""
    if not raw:
        return Priority.THUONG
    if raw not in {"0", "1", "2", "3", "4"}:
        raise PermanentError(f"độ khẩn không hợp lệ {raw!r} (0-4) / invalid Priority {raw!r}")
    return Priority(int(raw))


def _action(business: Business | None) -> tuple[Action, int]:
    raw = (business.doc_type or "0").strip() if business else "0"
    action = _ACTIONS.get(raw)
    if action is None:
        raise PermanentError(
            f"BussinessDocType không hợp lệ {raw!r} (0-3) / invalid BussinessDocType {raw!r}"
        )
    if action in (Action.UPDATE, Action.REPLACE):
        return action, 2  # one Bussiness block per message: the revision after the original
    return action, 1


def _target(message: EdxmlMessage) -> DocumentRef:
    business = message.business
    candidates = [business.document_id if business else None]
    if business:
        candidates += [r.document_id for r in business.replacements]
    candidates.append(message.document_id)
    for candidate in candidates:
        if candidate and candidate.strip():
            element = "DocumentId" if candidate is message.document_id else "Bussiness/DocumentId"
            return parse_document_id(candidate, element)
    raise _missing("Bussiness/DocumentId")


def parse_document_id(value: str, element: str = "DocumentId") -> DocumentRef:
    """`OrganId,yyyy/MM/dd,Number/Notation` (split at the first two commas) as a DocumentRef.

    Raises PermanentError naming `element` and what is wrong: the shape, the date (an
    impossible one such as 2023/02/30 is named), or the number.
    """
    parts = value.split(",", 2)
    if len(parts) != 3:
        raise PermanentError(
            f"'{element}' không đúng dạng OrganId,yyyy/MM/dd,Số/Ký hiệu: {value!r} / "
            f"'{element}' is not OrganId,yyyy/MM/dd,Number/Notation: {value!r}"
        )
    organ, date, symbol = (part.strip() for part in parts)
    try:
        issued_on = parse_date(date)
    except ValueError:
        raise PermanentError(
            f"ngày không hợp lệ {date!r} trong '{element}' ({value!r}) / "
            f"invalid date {date!r} in '{element}' ({value!r})"
        ) from None
    try:
        parsed = parse_symbol(symbol, whole=True)
    except ValueError:
        raise PermanentError(
            f"không có số văn bản trong '{element}': {symbol!r} / "
            f"no document number in '{element}': {symbol!r}"
        ) from None
    return DocumentRef(
        issuer=Organ(code=normalize_code(organ)),
        number=parsed.number,
        notation=parsed.notation,
        issued_on=issued_on,
    )


def format_document_id(ref: DocumentRef) -> str:
    """The DocumentId string of a reference: `OrganId,yyyy/MM/dd,Number/Notation`."""
    date = ref.issued_on.strftime("%Y/%m/%d") if ref.issued_on else ""
    symbol = "/".join(part for part in (ref.number, ref.notation) if part)
    return f"{ref.issuer.code or ''},{date},{symbol}"
