"""Pure mapping of one iDesk `Document` element to the common schema, and `read_file`.

Never touches the network. Text goes through `clean_text` (CDATA, NFD and legacy fonts are
all seen in the field); `xsi:nil` and empty elements read as absent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import TypeVar

from lxml import etree  # type: ignore[import-untyped]

from adapters.idesk.files import digest_file, inline_files
from adapters.idesk.soap import child, children, descendants, local_name, parse_xml, text_of
from bridge.errors import PermanentError
from bridge.interfaces import Limits
from bridge.normalize import (
    VN_TZ,
    canonical_organ_name,
    clean_subject,
    clean_text,
    confidentiality_from_label,
    normalize_code,
    parse_date,
    parse_symbol,
    priority_from_label,
    type_name_for,
)
from schemas import Document, RawRecord
from schemas.document import Attachment, Confidentiality, Organ, Priority, Signer

MEDIA_TYPE = "application/xml"
_Code = TypeVar("_Code", Priority, Confidentiality)

MANDATORY = ("DocumentID", "SoHieu", "NgayBanHanh", "CoQuanBanHanh", "TrichYeu")


def missing_mandatory(document: etree._Element) -> str | None:
    """The operator-facing reason when a mandatory element is missing or empty, else None."""
    for name in MANDATORY:
        if text_of(child(document, name)) is None:
            return f"thiếu trường bắt buộc '{name}' / missing mandatory field '{name}'"
    return None


def to_document(record: RawRecord) -> Document:
    """Map a stored iDesk record (its payload is one `Document` element) to a Document.

    Raises PermanentError with a Vietnamese / English reason for anything unreadable.
    """
    if record.error is not None:
        raise PermanentError(record.error)
    el = parse_xml(record.payload)
    if local_name(el) != "Document":
        raise PermanentError(
            f"không phải phần tử 'Document' / not a 'Document' element: {local_name(el)!r}"
        )
    reason = missing_mandatory(el)
    if reason is not None:
        raise PermanentError(reason)
    symbol_text = _text(el, "SoHieu") or ""
    try:
        symbol = parse_symbol(symbol_text, whole=True)
    except ValueError as exc:
        raise PermanentError(
            f"không đọc được số, ký hiệu 'SoHieu' / unreadable 'SoHieu': {symbol_text!r}"
        ) from exc
    return Document(
        issuer=Organ(code=_code(el), name=canonical_organ_name(_text(el, "CoQuanBanHanh"))),
        number=symbol.number,
        notation=symbol.notation,
        issued_on=_date(el, "NgayBanHanh"),
        type_name=type_name_for(_text(el, "LoaiVanBan"), symbol.type_abbr),
        subject=clean_subject(_text(el, "TrichYeu")) or "",
        signer=_signer(el),
        priority=_priority(el),
        confidentiality=_confidentiality(el),
        due_on=_date(el, "HanXuLy"),
        recipients=_recipients(el),
        attachments=record.attachments or _attachments(el),
    )


def _text(el: etree._Element, name: str) -> str | None:
    return clean_text(text_of(child(el, name)))


def _code(el: etree._Element) -> str | None:
    return normalize_code(text_of(child(el, "MaDinhDanh")))


def _date(el: etree._Element, name: str) -> dt.date | None:
    raw = text_of(child(el, name))
    if raw is None:
        return None
    try:
        return parse_date(raw.strip())
    except ValueError as exc:
        raise PermanentError(
            f"ngày không hợp lệ trong '{name}' / invalid date in '{name}': {raw.strip()[:40]!r}"
        ) from exc


def _signer(el: etree._Element) -> Signer | None:
    name, position = _text(el, "NguoiKy"), _text(el, "ChucVu")
    if name is None and position is None:
        return None
    return Signer(name=name, position=position)


def _code_number(el: etree._Element, name: str, top: int) -> int | None:
    """A numeric code element (`DoKhan`, `DoMat`) in 0..top, None when absent or a label."""
    raw = (text_of(child(el, name)) or "0").strip()
    if not raw.isdigit():
        return None
    value = int(raw)
    if value > top:
        raise PermanentError(f"mã '{name}' không hợp lệ / invalid '{name}' code: {raw!r}")
    return value


def _priority(el: etree._Element) -> Priority:
    value = _code_number(el, "DoKhan", Priority.HOA_TOC)
    if value is not None:
        return Priority(value)
    return _from_label(el, "DoKhan", priority_from_label)


def _confidentiality(el: etree._Element) -> Confidentiality:
    value = _code_number(el, "DoMat", Confidentiality.TUYET_MAT)
    if value is not None:
        return Confidentiality(value)
    return _from_label(el, "DoMat", confidentiality_from_label)


def _from_label(el: etree._Element, name: str, read: Callable[[str], _Code]) -> _Code:
    raw = (text_of(child(el, name)) or "").strip()
    try:
        return read(raw)
    except ValueError as exc:
        raise PermanentError(f"mã '{name}' không hợp lệ / invalid '{name}' code: {raw!r}") from exc


def _recipients(el: etree._Element) -> tuple[Organ, ...]:
    holder = child(el, "NoiNhan")
    if holder is None:
        return ()
    names = (clean_text(text_of(ten)) for ten in children(holder, "Ten"))
    return tuple(Organ(name=canonical_organ_name(name)) for name in names if name)


def _attachments(el: etree._Element) -> tuple[Attachment, ...]:
    limit = Limits().max_inline_attachment_bytes
    return tuple(digest_file(file, limit) for file in inline_files(el))


def first_document(root: etree._Element) -> etree._Element:
    """`root` itself when it is a `Document`, else the first `Document` inside it."""
    if local_name(root) == "Document":
        return root
    found = next(descendants(root, "Document"), None)
    if found is None:
        raise PermanentError("không có phần tử 'Document' / no 'Document' element found")
    return found


def read_file(data: bytes, filename: str) -> RawRecord:
    """A RawRecord from a `Document` element or a whole SOAP answer (its first Document).

    Raises PermanentError with a one-line reason on unreadable or hostile input.
    """
    el = first_document(parse_xml(data))
    payload = etree.tostring(el, encoding="utf-8", with_tail=False)
    document_id = (text_of(child(el, "DocumentID")) or "").strip()
    modified = (text_of(child(el, "ModifiedDate")) or "").strip()
    return RawRecord(
        source=f"file:{filename}",
        unit="",
        external_id=document_id or f"file:{hashlib.sha256(payload).hexdigest()[:16]}",
        version=modified or "1",
        media_type=MEDIA_TYPE,
        payload=payload,
        ack=document_id or None,
        received_at=dt.datetime.now(VN_TZ),
    )
