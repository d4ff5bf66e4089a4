"""Organ identifier codes (Decision 20/2020/QĐ-TTg) and a directory of organs with previous
codes and validity, so records carrying an old and a new code of one organ match.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bridge.normalize.organs import canonical_organ_name, organ_name_key

_SPACE = re.compile(r"\s+")
_CODE = re.compile(r"[0-9A-Z]{2,4}(?:\.[0-9A-Z]{2,4}){0,3}")


def normalize_code(code: str | None) -> str | None:
    """A code as an opaque comparable string: without any space (senders pad it), upper-case
    ("000.14.31.h59 " → "000.14.31.H59"); blank → None."""
    if code is None:
        return None
    text = _SPACE.sub("", code).upper()
    return text or None


def is_organ_code(code: str) -> bool:
    """True when ``code`` is shaped like an organ code (digits, capitals, dots; ≤ 35 chars)."""
    text = code.strip()
    return len(text) <= 35 and _CODE.fullmatch(text) is not None


def parent_code(code: str) -> str | None:
    """The parent organ's code: the lowest non-zero level zeroed ("000.00.31.H59" →
    "000.00.00.H59"); None for a level-1 code or a code not in the four-part shape."""
    parts = code.strip().upper().split(".")
    if len(parts) != 4:
        return None
    for index, part in enumerate(parts[:3]):
        if part.strip("0"):
            parts[index] = "0" * len(part)
            return ".".join(parts)
    return None


@dataclass(frozen=True, slots=True)
class Organ:
    """One organ of the directory: its current code, canonical name, and previous codes."""

    code: str
    name: str
    previous: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a code or a name meant on a date: the organ as of then, and why.

    `code` is the organ's code on the road that date calls for (a successor's current code once
    a merger took effect; the old organ itself before); None when nothing is known.
    `mail` is its official address (or None), `has_node` whether the axis receives for it,
    `deleted` whether the directory has deleted it (without a successor in force), `known`
    whether the directory (or the configuration) lists it at all. `reason` says, Vietnamese
    first, how the answer was reached ("mã cũ, sáp nhập từ 2025-07-01 / old code, merged …").
    """

    code: str | None
    name: str | None = None
    mail: str | None = None
    has_node: bool = False
    deleted: bool = False
    known: bool = False
    reason: str = ""


class Resolver(Protocol):
    """(code or name, document date) → the organ as of that date. One resolver serves
    identity, the home copy's issuer, routing of outgoing documents, status messages and
    the page. `at` None means today."""

    def resolve_at(self, code_or_name: str | None, at: dt.date | None = None) -> Resolution: ...


@dataclass(slots=True)
class OrganDirectory:
    """Organs by code, resolving previous codes (aliases) to the organ that carries them now.

    Codes are stored and compared as received (after ``normalize_code``), never as numbers.
    """

    _by_code: dict[str, Organ] = field(default_factory=dict)
    _aliases: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        code: str,
        name: str,
        *,
        previous: Iterable[str] = (),
        valid_from: dt.date | None = None,
        valid_to: dt.date | None = None,
    ) -> Organ:
        """Register an organ; each previous code becomes an alias of ``code``."""
        current = normalize_code(code)
        if current is None:
            raise ValueError("mã cơ quan rỗng / empty organ code")
        olds = tuple(c for c in (normalize_code(p) for p in previous) if c is not None)
        organ = Organ(current, canonical_organ_name(name) or name, olds, valid_from, valid_to)
        self._by_code[current] = organ
        for old in olds:
            self._aliases[old] = current
        return organ

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, object]]) -> OrganDirectory:
        """Build from mappings with ``code``, ``name`` and optional ``previous`` (list),
        ``valid_from``/``valid_to`` (ISO dates). Raises ValueError on a malformed entry."""
        directory = cls()
        for entry in entries:
            previous = entry.get("previous") or ()
            if not isinstance(previous, list | tuple):
                raise ValueError(f"'previous' phải là danh sách / must be a list: {entry!r}")
            directory.add(
                str(entry["code"]),
                str(entry["name"]),
                previous=[str(p) for p in previous],
                valid_from=_date_or_none(entry.get("valid_from")),
                valid_to=_date_or_none(entry.get("valid_to")),
            )
        return directory

    def resolve(self, code: str | None) -> str | None:
        """The current code of the organ ``code`` names (itself when unknown); follows chains
        of renumbering (old → newer → current)."""
        current = normalize_code(code)
        seen: set[str] = set()
        while current is not None and current in self._aliases and current not in seen:
            seen.add(current)
            current = self._aliases[current]
        return current

    def get(self, code: str | None) -> Organ | None:
        """The organ a code (current or previous) names, or None."""
        resolved = self.resolve(code)
        return self._by_code.get(resolved) if resolved is not None else None

    def same_organ(self, a: str | None, b: str | None) -> bool:
        """True when two codes name one organ, directly or through previous codes."""
        first, second = self.resolve(a), self.resolve(b)
        return first is not None and first == second

    def name_key(self, code: str | None) -> str | None:
        """The comparison key of the organ's canonical name, when the code is known."""
        organ = self.get(code)
        return organ_name_key(organ.name) if organ is not None else None

    def resolve_at(self, code_or_name: str | None, at: dt.date | None = None) -> Resolution:
        """The organ a code names (dates not yet taken into account: previous codes always
        stand for the current organ); names are not resolved here yet."""
        code = normalize_code(code_or_name)
        if code is None or not is_organ_code(code):
            return Resolution(code=None, reason="không phải mã cơ quan / not an organ code")
        organ = self.get(code)
        if organ is None:
            return Resolution(code=code, reason="mã chưa có trong danh bạ / code not in directory")
        return Resolution(
            code=organ.code, name=organ.name, known=True, reason="danh bạ / directory"
        )

    def organs(self) -> list[Organ]:
        """Every organ of the directory (current codes)."""
        return list(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)


def _date_or_none(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
