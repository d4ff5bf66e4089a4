"""Untrusted file names made safe, and on-disk names made NFC.

Attachment names come from senders; before any system receives them (a folder, a home system
that saves them to disk) they pass through `safe_file_name`.

A name from a document is never a path. `safe_file_name` keeps what a person would recognise
(letters, the extension) and rewrites anything that could climb out of a folder, hide a file,
name a Windows device or confuse a terminal.
"""

from __future__ import annotations

import os
import re
import unicodedata

MAX_NAME_BYTES = 200  # well under the 255-byte limit of common file systems, room for suffixes
FALLBACK_NAME = "tep-dinh-kem"
_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in "0123456789¹²³"}
    | {f"LPT{i}" for i in "0123456789¹²³"}
)
_SEPARATORS = re.compile(r"[\\/]+")
_RESERVED = re.compile(r'[<>:"|?*]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def nfc(name: str) -> str:
    """The NFC form of an on-disk name, for comparing names written NFC or NFD."""
    return unicodedata.normalize("NFC", name)


def printable_name(name: str) -> str:
    """An on-disk name fit for ids and logs: NFC, control characters and bad bytes escaped."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", nfc(text))
    return text[:MAX_NAME_BYTES]


def has_odd_characters(name: str) -> bool:
    """True when an on-disk name holds control characters or bytes that are not UTF-8."""
    return printable_name(name) != nfc(name)


def safe_file_name(name: str) -> str:
    """A file name safe to create in a folder we own; same input, same output.

    Path separators, `.`/`..` components, drive letters, reserved and control characters,
    leading dots, trailing dots and spaces, and device names (CON, NUL, COM1…) are rewritten.
    """
    text = _CONTROL.sub("", nfc(name).encode("utf-8", "replace").decode("utf-8"))
    parts = [p for p in _SEPARATORS.split(text) if p.strip(" .")]
    text = "_".join(p.strip() for p in parts)
    text = _RESERVED.sub("_", text).strip(" .")
    if not text:
        return FALLBACK_NAME
    if text.partition(".")[0].strip().upper() in _DEVICE_NAMES:
        text = f"_{text}"
    return _shorten(text)


def unique_names(names: list[str]) -> list[str]:
    """Safe names for a document's files, made distinct (`a.pdf`, `a (2).pdf`) in order."""
    taken: set[str] = set()
    result: list[str] = []
    for name in names:
        candidate = base = safe_file_name(name)
        counter = 1
        while candidate.casefold() in taken:
            counter += 1
            stem, dot, ext = base.rpartition(".")
            candidate = f"{stem} ({counter}).{ext}" if dot and stem else f"{base} ({counter})"
        taken.add(candidate.casefold())
        result.append(candidate)
    return result


def _shorten(text: str) -> str:
    if len(text.encode("utf-8")) <= MAX_NAME_BYTES:
        return text
    stem, dot, ext = text.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 16:
        stem, ext = text, ""
    room = MAX_NAME_BYTES - len(ext.encode("utf-8")) - 1
    short = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" .")
    return f"{short}.{ext}" if ext else short
