"""Configuration errors as operators read them: Vietnamese first with English beside, and a
"did you mean" for a misspelt key or profile."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

# pydantic's error type → (Vietnamese, English); {names} come from the error's context.
_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("thiếu khóa bắt buộc", "required key missing"),
    "extra_forbidden": ("khóa không có trong cấu hình", "unknown key"),
    "string_type": ("phải là chuỗi", "must be a string"),
    "int_type": ("phải là số nguyên", "must be an integer"),
    "int_parsing": ("phải là số nguyên", "must be an integer"),
    "int_from_float": ("phải là số nguyên", "must be an integer"),
    "float_type": ("phải là số", "must be a number"),
    "float_parsing": ("phải là số", "must be a number"),
    "bool_type": ("phải là true hoặc false", "must be true or false"),
    "bool_parsing": ("phải là true hoặc false", "must be true or false"),
    "greater_than": ("phải lớn hơn {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("phải từ {ge} trở lên", "must be at least {ge}"),
    "less_than": ("phải nhỏ hơn {lt}", "must be less than {lt}"),
    "less_than_equal": ("phải không quá {le}", "must be at most {le}"),
    "string_too_short": ("không được ngắn hơn {min_length} ký tự", "too short"),
    "string_too_long": ("không được dài hơn {max_length} ký tự", "too long"),
    "string_pattern_mismatch": ("không đúng dạng {pattern}", "does not match {pattern}"),
    "literal_error": ("phải là một trong {expected}", "must be one of {expected}"),
    "enum": ("phải là một trong {expected}", "must be one of {expected}"),
    "url_parsing": ("không phải địa chỉ URL hợp lệ", "not a valid URL"),
    "url_scheme": ("URL phải bắt đầu bằng http:// hoặc https://", "URL scheme must be http(s)"),
    "date_type": ("phải là ngày (YYYY-MM-DD)", "must be a date (YYYY-MM-DD)"),
    "date_parsing": ("phải là ngày (YYYY-MM-DD)", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": ("phải là ngày (YYYY-MM-DD)", "must be a date (YYYY-MM-DD)"),
    "list_type": ("phải là danh sách", "must be a list"),
    "tuple_type": ("phải là danh sách", "must be a list"),
    "dict_type": ("phải là bảng", "must be a table"),
    "model_type": ("phải là bảng", "must be a table"),
    "model_attributes_type": ("phải là bảng", "must be a table"),
    "path_type": ("phải là đường dẫn", "must be a path"),
}


def explain(err: ErrorDetails, model: type[BaseModel] | None) -> str:
    """One error's reason, Vietnamese first; for an unknown key, the nearest known one."""
    vi, en = _MESSAGES.get(err["type"], ("giá trị không hợp lệ", "invalid value: {msg}"))
    ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
    try:
        text = f"{vi.format(**ctx)} / {en.format(msg=err['msg'], **ctx)}"
    except (KeyError, IndexError):
        text = f"{vi} / {err['msg']}"
    if err["type"] == "extra_forbidden" and model is not None:
        key = str(err["loc"][-1]) if err["loc"] else ""
        text += suggestion(key, keys_at(model, err["loc"][:-1]))
    return text


def suggestion(word: str, known: Iterable[str]) -> str:
    """ " — có phải 'x'? / did you mean 'x'?" for the closest known word, or ""."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" — có phải ý là '{close[0]}'? / did you mean '{close[0]}'?" if close else ""


def keys_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys a table accepts at `loc` inside `model` (walking nested models and lists)."""
    current: Any = model
    for part in loc:
        current = _inner_model(current, part)
        if current is None:
            return []
    return list(current.model_fields) if _is_model(current) else []


def _inner_model(current: Any, part: int | str) -> Any:
    if isinstance(part, int):
        return current  # already unwrapped to the element type below
    if not _is_model(current) or part not in current.model_fields:
        return None
    return _unwrap(current.model_fields[part].annotation)


def _unwrap(annotation: Any) -> Any:
    """The model inside `X`, `X | None`, `tuple[X, ...]` or `list[X]`, else None."""
    if _is_model(annotation):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, tuple, list):
        for arg in typing.get_args(annotation):
            if (inner := _unwrap(arg)) is not None:
                return inner
    return None


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)
