"""The tdoffice document object as it travels, validated strictly before anything reads it.

Unknown keys are ignored (the product adds fields between releases); a known key with the
wrong JSON type is an error, reported with its path in both languages.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.errors import PermanentError


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True, frozen=True)


class WireOrgan(_Wire):
    organ_id: str | None = Field(default=None, alias="organId")
    organ_name: str | None = Field(default=None, alias="organName")


class WireType(_Wire):
    code: str | None = None
    name: str | None = None


class WireSigner(_Wire):
    full_name: str | None = Field(default=None, alias="fullName")
    position: str | None = None


class WireAttachment(_Wire):
    file_id: str | None = Field(default=None, alias="fileId")
    name: str
    content_type: str | None = Field(default=None, alias="contentType")
    size: int | None = None
    sha256: str | None = None


class WireDocument(_Wire):
    document_id: str | None = Field(default=None, alias="documentId")
    code_number: str | int | None = Field(default=None, alias="codeNumber")
    code_notation: str | None = Field(default=None, alias="codeNotation")
    promulgation_date: str | None = Field(default=None, alias="promulgationDate")
    issuer: WireOrgan | None = None
    document_type: WireType | None = Field(default=None, alias="documentType")
    subject: str | None = None
    signer: WireSigner | None = None
    priority: int = 0
    confidentiality: int = 0
    due_date: str | None = Field(default=None, alias="dueDate")
    recipients: list[WireOrgan] | None = None
    attachments: list[WireAttachment] | None = None
    version: int = 1
    state: str = "active"
    updated_at: str | None = Field(default=None, alias="updatedAt")
    note: str | None = None


def load_object(payload: bytes, what: str = "bản ghi / record") -> dict[str, Any]:
    """Decode one JSON object. Raises PermanentError for malformed JSON or a non-object."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise PermanentError(f"{what}: JSON hỏng / malformed JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise PermanentError(f"{what}: không phải đối tượng JSON / not a JSON object")
    return value


def parse_document(payload: bytes) -> WireDocument:
    """Validate one document object. Raises PermanentError naming the offending field."""
    obj = load_object(payload)
    try:
        return WireDocument.model_validate(obj)
    except ValidationError as exc:
        raise PermanentError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    path = ".".join(str(part) for part in first["loc"])
    more = f" (+{exc.error_count() - 1})" if exc.error_count() > 1 else ""
    if first["type"] == "missing":
        return f"thiếu trường bắt buộc '{path}' / missing mandatory field '{path}'{more}"
    return (
        f"trường '{path}' sai kiểu dữ liệu / field '{path}' has the wrong type "
        f"({first['msg']}){more}"
    )
