"""Pure mapping of one M-Office `incoming` item (JSON) to the common document schema.

Nothing here touches the network: `to_document` reads the stored wire bytes of one item and
the attachments the source already streamed into the blob store.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from adapters._jsonfields import date_of, load_item, missing, optional_text
from bridge.errors import PermanentError
from bridge.normalize import (
    canonical_organ_name,
    clean_subject,
    clean_text,
    confidentiality_from_label,
    normalize_code,
    parse_symbol,
    priority_from_label,
    type_name_for,
)
from schemas import Document, RawRecord
from schemas.document import Confidentiality, Organ, Priority, Signer

MEDIA_TYPE = "application/json"
# Lines of "Nơi nhận" that name no recipient: the file copy and "as above".
_NOT_RECIPIENTS = ("luu", "lưu", "như trên", "nhu tren")


def _required(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    text = clean_text(value) if isinstance(value, str) else None
    if text is None:
        raise missing(key)
    return text


def _date(item: dict[str, Any], key: str, *, required: bool) -> dt.date | None:
    text = _required(item, key) if required else optional_text(item, key)
    return None if text is None else date_of(text, key)


def _priority(item: dict[str, Any]) -> Priority:
    label = optional_text(item, "do_khan")
    if label is None:
        return Priority.THUONG
    try:
        return priority_from_label(label)
    except ValueError as exc:
        raise PermanentError(f"độ khẩn không rõ: {label!r} / unknown urgency") from exc


def _confidentiality(item: dict[str, Any]) -> Confidentiality:
    label = optional_text(item, "do_mat")
    if label is None:
        return Confidentiality.THUONG
    try:
        return confidentiality_from_label(label)
    except ValueError as exc:
        # Never guess "not secret" for a label we cannot read.
        raise PermanentError(f"độ mật không rõ: {label!r} / unknown confidentiality") from exc


def _recipients(item: dict[str, Any]) -> tuple[Organ, ...]:
    raw = item.get("noi_nhan") or []
    if not isinstance(raw, list):
        raise PermanentError("trường 'noi_nhan' sai kiểu / field 'noi_nhan' has the wrong type")
    organs: list[Organ] = []
    for entry in raw:
        text = clean_text(entry) if isinstance(entry, str) else None
        if text is None or text.casefold().startswith(_NOT_RECIPIENTS):
            continue
        organs.append(Organ(name=canonical_organ_name(text.rstrip(";,.")) or text))
    return tuple(organs)


def _subject(item: dict[str, Any]) -> str:
    return clean_subject(_required(item, "trich_yeu")) or ""


def to_document(record: RawRecord) -> Document:
    """Map one stored item. Raises PermanentError (Vietnamese / English reason) if unreadable."""
    item = load_item(record.payload)
    symbol_text = _required(item, "so_ky_hieu")
    try:
        symbol = parse_symbol(symbol_text, whole=True)
    except ValueError as exc:
        raise PermanentError(
            f"không đọc được số, ký hiệu {symbol_text!r} / cannot read the number and symbol"
        ) from exc
    code = item.get("ma_co_quan")
    signer_name, position = optional_text(item, "nguoi_ky"), optional_text(item, "chuc_vu_nguoi_ky")
    return Document(
        issuer=Organ(
            code=normalize_code(code) if isinstance(code, str) else None,
            name=canonical_organ_name(_required(item, "co_quan_ban_hanh")),
        ),
        number=symbol.number,
        notation=symbol.notation,
        issued_on=_date(item, "ngay_ban_hanh", required=True),
        type_name=type_name_for(optional_text(item, "loai_van_ban"), symbol.type_abbr),
        subject=_subject(item),
        signer=Signer(name=signer_name, position=position) if signer_name or position else None,
        priority=_priority(item),
        confidentiality=_confidentiality(item),
        due_on=_date(item, "han_xu_ly", required=False),
        recipients=_recipients(item),
        attachments=record.attachments,
    )


def read_file(data: bytes, name: str) -> RawRecord:
    """A RawRecord from one item saved as a JSON file (for `lienthong normalize`).

    The item names its files but carries no bytes or hashes, so attachments stay empty.
    Raises PermanentError with a one-line reason for input that is not one item.
    """
    item = load_item(data)
    external_id = item.get("id")
    if not isinstance(external_id, int | str) or isinstance(external_id, bool):
        raise PermanentError("thiếu trường bắt buộc 'id' / missing mandatory field 'id'")
    version = item.get("ngay_cap_nhat")
    return RawRecord(
        source=f"file:{unicodedata.normalize('NFC', name)}",
        unit="",
        external_id=str(external_id),
        version=version if isinstance(version, str) else "",
        media_type=MEDIA_TYPE,
        payload=data,
        ack=None,
        received_at=dt.datetime.now(dt.UTC),
    )
