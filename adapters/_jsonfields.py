"""Reading the fields of one JSON record object, with the operator-facing reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from bridge.errors import PermanentError
from bridge.normalize import clean_text, parse_date


def load_item(payload: bytes) -> dict[str, Any]:
    """The record as a dict. Raises PermanentError for bytes that are not one JSON object."""
    try:
        item = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise PermanentError(f"JSON không đọc được / malformed JSON ({exc})") from exc
    if not isinstance(item, dict):
        raise PermanentError("bản ghi không phải đối tượng JSON / record is not a JSON object")
    return item


def missing(key: str) -> PermanentError:
    return PermanentError(f"thiếu trường bắt buộc '{key}' / missing mandatory field '{key}'")


def optional_text(obj: dict[str, Any], key: str) -> str | None:
    """A text field through clean_text; None when absent. Raises PermanentError if not text."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PermanentError(f"trường '{key}' sai kiểu / field '{key}' has the wrong type")
    return clean_text(value)


def date_of(text: str, key: str) -> dt.date:
    """The date written in field `key`. Raises PermanentError when it is not one."""
    try:
        return parse_date(text)
    except ValueError as exc:
        raise PermanentError(
            f"ngày không hợp lệ ở '{key}': {text!r} / invalid date in '{key}'"
        ) from exc
