"""Pure mappers for drop-folder metadata: a tdoffice-shaped JSON object or an edXML message.

`to_document` never touches the disk or the network: the source stores attachments first and
passes them in `record.attachments`; without them (offline `lienthong normalize`) the file list
comes from the metadata itself, with `blob` None.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import PurePath
from typing import Any

import orjson

from adapters.vxp.mapping import document_from_message, inline_attachments, parse_record
from adapters.vxp.message import EdxmlMessage, bare_content_id
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
from bridge.normalize.filenames import nfc
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

JSON_MEDIA_TYPE = "application/json"
EDXML_MEDIA_TYPE = "application/edxml+xml"
MEDIA_TYPES = {".json": JSON_MEDIA_TYPE, ".xml": EDXML_MEDIA_TYPE}
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def to_document(record: RawRecord) -> Document:
    """Map one metadata file to the common schema. Raises PermanentError on unreadable input."""
    if record.error is not None:
        raise PermanentError(record.error)
    if record.media_type == EDXML_MEDIA_TYPE:
        return _edxml_document(record)
    if record.media_type == JSON_MEDIA_TYPE:
        return json_document(load_metadata(record.payload), record.attachments)
    raise PermanentError(
        f"không nhận dạng được loại tệp siêu dữ liệu {record.media_type!r} / "
        f"unknown metadata media type {record.media_type!r}"
    )


def read_file(data: bytes, name: str) -> RawRecord:
    """A RawRecord for one metadata file given on the command line (`NAME.json`, `NAME.xml`)."""
    path = PurePath(name)
    media_type = MEDIA_TYPES.get(path.suffix.lower())
    if media_type is None:
        raise PermanentError(
            "tệp siêu dữ liệu phải có đuôi .json hoặc .xml / "
            "a metadata file must end in .json or .xml"
        )
    return RawRecord(
        source="file",
        unit="",
        external_id=path.stem,
        version=hashlib.sha256(data).hexdigest(),
        media_type=media_type,
        payload=data,
        received_at=dt.datetime.now(dt.UTC),
    )


def load_metadata(payload: bytes) -> dict[str, Any]:
    """Parse a JSON metadata file into its top-level object. Raises PermanentError."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise PermanentError(
            f"tệp siêu dữ liệu không phải JSON hợp lệ / metadata is not valid JSON: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise PermanentError(
            "tệp siêu dữ liệu phải là một đối tượng JSON / metadata must be a JSON object"
        )
    return data


def named_files(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The `attachments` entries of a JSON metadata object (each with a string `name`)."""
    entries = metadata.get("attachments") or []
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) and e["name"].strip()
        for e in entries
    ):
        raise _wrong_type("attachments")
    return entries


def json_document(data: dict[str, Any], stored: tuple[Attachment, ...] = ()) -> Document:
    """Map a tdoffice-shaped document object. `stored` replaces the metadata's file list."""
    number, notation = _symbol(data)
    issuer = _organ(_mandatory(data, "issuer"), "issuer")
    if issuer.code is None and issuer.name is None:
        raise _missing("issuer")
    doc_type = _object(data, "documentType")
    revoked = _text(data, "state") == "revoked"
    document = Document(
        issuer=issuer,
        number=number,
        notation=notation,
        issued_on=_date(data, "promulgationDate", mandatory=True),
        type_name=type_name_for(clean_text(_text(doc_type, "name")), _text(doc_type, "code")),
        subject=_subject(data),
        signer=_signer(data),
        priority=Priority(_level(data, "priority", Priority.HOA_TOC)),
        confidentiality=Confidentiality(_level(data, "confidentiality", max(Confidentiality))),
        due_on=_date(data, "dueDate", mandatory=False),
        recipients=tuple(_organ(r, "recipients") for r in _list(data, "recipients")),
        attachments=stored or tuple(_listed_attachment(e) for e in named_files(data)),
        revision=_revision(data),
        state=DocumentState.REVOKED if revoked else DocumentState.ACTIVE,
        action=Action.REVOKE if revoked else Action.NEW,
        reason=clean_text(_text(data, "reason")) if revoked else None,
    )
    if revoked:
        document = document.model_copy(update={"target": _self_reference(document)})
    return document


def _self_reference(document: Document) -> DocumentRef:
    """What a revocation names: the document itself (tdoffice revokes in place)."""
    return DocumentRef(
        issuer=document.issuer,
        number=document.number,
        notation=document.notation,
        issued_on=document.issued_on,
    )


def _edxml_document(record: RawRecord) -> Document:
    """An edXML metadata file: files beside it come stored in `record.attachments`; offline,
    only the files the message carries inline can be described."""
    message = edxml_message(record.payload)
    attachments = record.attachments
    if not attachments and message.attachments:
        attachments = inline_attachments(message, Limits())
    return document_from_message(message, attachments)


def _symbol(data: dict[str, Any]) -> tuple[str, str | None]:
    raw_number = _mandatory(data, "codeNumber")
    if isinstance(raw_number, int) and not isinstance(raw_number, bool):
        raw_number = str(raw_number)
    if not isinstance(raw_number, str):
        raise _wrong_type("codeNumber")
    raw_notation = _text(data, "codeNotation")
    if raw_notation is None and "/" in raw_number:
        try:
            symbol = parse_symbol(raw_number, whole=True)
        except ValueError:
            raise _missing("codeNumber") from None
        if symbol.number is None:
            raise _missing("codeNumber")
        return symbol.number, symbol.notation
    number = normalize_number(raw_number)
    if number is None:
        raise _missing("codeNumber")
    return number, normalize_notation(raw_notation)


def _subject(data: dict[str, Any]) -> str:
    subject = clean_subject(_text(data, "subject"))
    if subject is None:
        raise _missing("subject")
    return subject


def _signer(data: dict[str, Any]) -> Signer | None:
    signer = _object(data, "signer")
    name = clean_text(_text(signer, "fullName"))
    position = clean_text(_text(signer, "position"))
    competence = clean_text(_text(signer, "competence"))
    if name is None and position is None and competence is None:
        return None
    return Signer(name=name, position=position, competence=competence)


def _organ(value: Any, field: str) -> Organ:
    if not isinstance(value, dict):
        raise _wrong_type(field)
    code = _text(value, "organId")
    name = clean_text(_text(value, "organName"))
    return Organ(
        code=normalize_code(code),
        name=canonical_organ_name(name),
    )


def _listed_attachment(entry: dict[str, Any]) -> Attachment:
    sha256 = entry.get("sha256")
    size = entry.get("size")
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise _wrong_type("attachments.sha256")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _wrong_type("attachments.size")
    content_type = entry.get("contentType")
    return Attachment(
        name=nfc(entry["name"].strip()),
        content_type=content_type
        if isinstance(content_type, str) and content_type
        else ("application/octet-stream"),
        size=size,
        sha256=sha256.lower(),
    )


def _level(data: dict[str, Any], field: str, top: int) -> int:
    value = data.get(field)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise _wrong_type(field)
    return value


def _revision(data: dict[str, Any]) -> int:
    version = data.get("version")
    if version is None:
        return 1
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _wrong_type("version")
    return version


def _date(data: dict[str, Any], field: str, *, mandatory: bool) -> dt.date | None:
    text = _text(data, field)
    if text is None or not text.strip():
        if mandatory:
            raise _missing(field)
        return None
    try:
        return parse_date(text)
    except ValueError:
        raise PermanentError(
            f"ngày không hợp lệ trong trường '{field}': {text[:40]!r} / "
            f"invalid date in field '{field}'"
        ) from None


def _mandatory(data: dict[str, Any], field: str) -> Any:
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _missing(field)
    return value


def _object(data: dict[str, Any], field: str) -> dict[str, Any]:
    value = data.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _wrong_type(field)
    return value


def _list(data: dict[str, Any], field: str) -> list[Any]:
    value = data.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _wrong_type(field)
    return value


def _text(data: dict[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None or isinstance(value, str):
        return value
    raise _wrong_type(field)


def _missing(field: str) -> PermanentError:
    return PermanentError(f"thiếu trường bắt buộc '{field}' / missing mandatory field '{field}'")


def _wrong_type(field: str) -> PermanentError:
    return PermanentError(f"trường '{field}' sai kiểu dữ liệu / field '{field}' has the wrong type")


def edxml_message(payload: bytes) -> EdxmlMessage:
    """The edXML document message of a `.xml` metadata file. Raises PermanentError."""
    message = parse_record(payload)
    if not isinstance(message, EdxmlMessage):
        raise PermanentError(
            "thông điệp trạng thái, không phải văn bản / a status message, not a document"
        )
    return message


def edxml_file_names(message: EdxmlMessage) -> list[str]:
    """The files a manifest lists that the message does not carry inline: those beside it."""
    carried = {bare_content_id(a.content_id) for a in message.attachments}
    return [
        reference.attachment_name.strip()
        for reference in message.manifest
        if reference.attachment_name
        and reference.attachment_name.strip()
        and bare_content_id(reference.content_id) not in carried
    ]
