"""Urgency (độ khẩn) and secrecy (độ mật) labels, matched with case and tones folded."""

from __future__ import annotations

import re

from bridge.normalize.text import ascii_key
from schemas.document import Confidentiality, Priority

_PRIORITY: dict[str, Priority] = {
    "thuong": Priority.THUONG,
    "binh thuong": Priority.THUONG,
    "khong khan": Priority.THUONG,
    "khan": Priority.KHAN,
    "thuong khan": Priority.THUONG_KHAN,
    "hoa toc": Priority.HOA_TOC,
    "hoa toc hen gio": Priority.HOA_TOC_HEN_GIO,
}
_CONFIDENTIALITY: dict[str, Confidentiality] = {
    "thuong": Confidentiality.THUONG,
    "binh thuong": Confidentiality.THUONG,
    "khong mat": Confidentiality.THUONG,
    "mat": Confidentiality.MAT,
    "toi mat": Confidentiality.TOI_MAT,
    "tuyet mat": Confidentiality.TUYET_MAT,
}
_NOISE = re.compile(r"[\s_\-.:]+")


def _key(label: str) -> str:
    key = _NOISE.sub(" ", ascii_key(label)).strip()
    for prefix in ("do khan ", "do mat "):
        key = key.removeprefix(prefix)
    return key


def priority_from_label(label: str) -> Priority:
    """Map "Khẩn", "THƯỢNG KHẨN", "hoa toc", "3" … to a Priority. Unknown → ValueError."""
    key = _key(label)
    if key.isdigit() and int(key) in Priority._value2member_map_:
        return Priority(int(key))
    try:
        return _PRIORITY[key]
    except KeyError:
        raise ValueError(f"độ khẩn không rõ / unknown priority label {label!r}") from None


def confidentiality_from_label(label: str) -> Confidentiality:
    """Map "Mật", "TỐI MẬT", "tuyet mat", "0" … to a Confidentiality. Unknown → ValueError."""
    key = _key(label)
    if key.isdigit() and int(key) in Confidentiality._value2member_map_:
        return Confidentiality(int(key))
    try:
        return _CONFIDENTIALITY[key]
    except KeyError:
        raise ValueError(f"độ mật không rõ / unknown confidentiality label {label!r}") from None
