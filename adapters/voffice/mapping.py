"""Pure mapping of one V-Office document (JSON) to the common document schema.

V-Office sends enums in varying case (`URGENT`, `Urgent`, `Very_Urgent`), sometimes only the
printed `registration.display`, and times in UTC or +07:00; all of that is settled here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from adapters._jsonfields import date_of, load_item, missing, optional_text
from bridge.errors import PermanentError
from bridge.normalize import (
    canonical_organ_name,
    clean_subject,
    clean_text,
    normalize_code,
    normalize_notation,
    normalize_number,
    parse_symbol,
    type_name_for,
)
from schemas import Document, RawRecord
from schemas.document import Confidentiality, Organ, Priority, Signer

MEDIA_TYPE = "application/json"
_E = TypeVar("_E", Priority, Confidentiality)

URGENCY = {
    "NORMAL": Priority.THUONG,
    "URGENT": Priority.KHAN,
    "VERY_URGENT": Priority.THUONG_KHAN,
    "FLASH": Priority.HOA_TOC,
}
SECURITY = {
    "NONE": Confidentiality.THUONG,
    "CONFIDENTIAL": Confidentiality.MAT,
    "SECRET": Confidentiality.TOI_MAT,
    "TOP_SECRET": Confidentiality.TUYET_MAT,
}


def _object(item: dict[str, Any], key: str) -> dict[str, Any]:
    value = item.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PermanentError(f"trường '{key}' sai kiểu / field '{key}' has the wrong type")
    return value


def _date(obj: dict[str, Any], key: str, *, required: bool) -> dt.date | None:
    text = optional_text(obj, key)
    if text is None:
        if required:
            raise missing(key)
        return None
    return date_of(text, key)


def _enum(obj: dict[str, Any], key: str, table: dict[str, _E], default: _E) -> _E:
    value = obj.get(key)
    if value is None:
        return default
    token = str(value).strip().upper().replace("-", "_").replace(" ", "_")
    if token not in table:
        raise PermanentError(f"giá trị '{key}' không rõ: {value!r} / unknown '{key}' value")
    return table[token]


def _registration(item: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(number, notation, type abbreviation) from the structured fields, else the display."""
    reg = _object(item, "registration")
    display = optional_text(reg, "display")
    number, symbol = reg.get("number"), reg.get("symbol")
    abbr = None
    if display:
        try:
            abbr = parse_symbol(display, whole=True).type_abbr
        except ValueError:
            abbr = None
    if number is not None and isinstance(symbol, str) and symbol.strip():
        return normalize_number(str(number)), normalize_notation(clean_text(symbol)), abbr
    if not display:
        raise PermanentError(
            "thiếu trường bắt buộc 'registration' / missing mandatory field 'registration'"
        )
    try:
        parsed = parse_symbol(display, whole=True)
    except ValueError as exc:
        raise PermanentError(
            f"không đọc được số, ký hiệu {display!r} / cannot read the number and symbol"
        ) from exc
    return parsed.number, parsed.notation, parsed.type_abbr


def _signer(item: dict[str, Any]) -> Signer | None:
    signed = _object(item, "signedBy")
    name, title = optional_text(signed, "name"), optional_text(signed, "title")
    authority = optional_text(signed, "authority")
    if not (name or title or authority):
        return None
    return Signer(name=name, position=title, competence=authority)


def to_document(record: RawRecord) -> Document:
    """Map one stored document. Raises PermanentError (Vietnamese / English) if unreadable."""
    item = load_item(record.payload)
    number, notation, abbr = _registration(item)
    issuer = _object(item, "issuer")
    code = issuer.get("code")
    subject = clean_subject(optional_text(item, "summary"))
    if subject is None:
        raise PermanentError("thiếu trường bắt buộc 'summary' / missing mandatory field 'summary'")
    return Document(
        issuer=Organ(
            code=normalize_code(code) if isinstance(code, str) else None,
            name=canonical_organ_name(optional_text(issuer, "name")),
        ),
        number=number,
        notation=notation,
        issued_on=_date(item, "issuedOn", required=True),
        type_name=type_name_for(optional_text(_object(item, "kind"), "name"), abbr),
        subject=subject,
        signer=_signer(item),
        priority=_enum(item, "urgency", URGENCY, Priority.THUONG),
        # Missing security reads as none; an unknown value is refused, never guessed.
        confidentiality=_enum(item, "security", SECURITY, Confidentiality.THUONG),
        due_on=_date(item, "deadline", required=False),
        attachments=record.attachments,
    )


def read_file(data: bytes, name: str) -> RawRecord:
    """A RawRecord from one document saved as a JSON file (for `lienthong normalize`).

    The listing names no files (only their hashes; names live in the zip bundle), so
    attachments stay empty. Raises PermanentError for input that is not one document.
    """
    item = load_item(data)
    external_id = item.get("id")
    if not isinstance(external_id, str) or not external_id:
        raise PermanentError("thiếu trường bắt buộc 'id' / missing mandatory field 'id'")
    modified = item.get("modified")
    return RawRecord(
        source=f"file:{name}",
        unit="",
        external_id=external_id,
        version=modified if isinstance(modified, str) else "",
        media_type=MEDIA_TYPE,
        payload=data,
        received_at=dt.datetime.now(dt.UTC),
    )
