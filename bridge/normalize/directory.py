"""Organ identifier codes (Decision 20/2020/QĐ-TTg) and the organ directory: what a code or a
name meant on a date (`OrganDirectory.resolve_at`), from the axis's directory history and the
configuration (bridge/normalize/organ_history.py builds the dated organs).

An old code stands for its successor only for documents dated on or after the cut-over, and
for the old organ itself before: two former communes' documents of one number and date before
their merger stay two documents. The directory is refreshed in place after a sync, so every
holder (the matcher, the page) sees the new one without a restart.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bridge.normalize.dates import VN_TZ
from bridge.normalize.name_index import NameIndex
from bridge.normalize.organ_history import (
    DirectoryEntry,
    Organ,
    OrganIndex,
    OrganRecord,
    Successor,
    build_organs,
    qcvn_form,
)
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
class Resolution:
    """What a code or a name meant on a date: the organ as of then, and why.

    `code` is the organ's code on the road that date calls for (a successor's current code once
    a merger took effect; the old organ itself before); None when nothing is known.
    `mail` is its official address (or None), `has_node` whether the axis receives for it,
    `deleted` whether the directory has deleted it (without a successor in force), `known`
    whether the directory (or the configuration) lists it at all. `reason` says, Vietnamese
    first, how the answer was reached ("mã cũ, sáp nhập từ 2025-07-01 / old code, merged …").
    `organ` names the organ itself (two codes are one organ on a date when theirs are equal),
    `old_codes` its earlier codes, `successor` the current code of the organ that took it over
    (whatever the date), `since` the cut-over that was applied, `successors` the codes of
    several organs that took it over (a district with no single successor).
    """

    code: str | None
    name: str | None = None
    mail: str | None = None
    has_node: bool = False
    deleted: bool = False
    known: bool = False
    reason: str = ""
    organ: str | None = None
    old_codes: tuple[str, ...] = ()
    successor: str | None = None
    since: dt.date | None = None
    successors: tuple[str, ...] = ()


class Resolver(Protocol):
    """(code or name, document date) → the organ as of that date. One resolver serves
    identity, the home copy's issuer, routing of outgoing documents, status messages and
    the page. `at` None means today."""

    def resolve_at(self, code_or_name: str | None, at: dt.date | None = None) -> Resolution: ...


def today() -> dt.date:
    return dt.datetime.now(VN_TZ).date()


@dataclass(frozen=True, slots=True)
class Prepared:
    """A directory built off the event loop (`OrganDirectory.prepare`), to `install`."""

    history: tuple[DirectoryEntry, ...]
    view: OrganIndex
    generation: int


class OrganDirectory:
    """The organ directory: the axis's entries (every state kept, `refresh`), the
    configuration's organs (`add`) and successors (`set_successors`), which win.

    Codes are stored and compared as received (after ``normalize_code``), never as numbers.
    """

    def __init__(self) -> None:
        self._history: tuple[DirectoryEntry, ...] = ()
        self._configured: list[Organ] = []
        self._successors: tuple[Successor, ...] = ()
        self._learned: dict[str, set[str]] = {}
        self._view: OrganIndex | None = None
        self.generation = 0  # moves at each change: holders of derived indexes rebuild them

    # ---- filling it ------------------------------------------------------------------

    def add(
        self,
        code: str,
        name: str,
        *,
        previous: Iterable[str] = (),
        valid_from: dt.date | None = None,
        valid_to: dt.date | None = None,
    ) -> Organ:
        """Register an organ of the configuration; each previous code an earlier code of it
        (or, naming another organ, a merger into it from `valid_from`)."""
        current = normalize_code(code)
        if current is None:
            raise ValueError("mã cơ quan rỗng / empty organ code")
        olds = tuple(c for c in (normalize_code(p) for p in previous) if c is not None)
        organ = Organ(current, canonical_organ_name(name) or name, olds, valid_from, valid_to)
        self._configured.append(organ)
        self._changed()
        return organ

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, object]]) -> OrganDirectory:
        """Build from mappings with ``code``, ``name`` and optional ``previous`` (list),
        ``valid_from``/``valid_to`` (ISO dates). Raises ValueError on a malformed entry."""
        directory = cls()
        directory.configure(entries)
        return directory

    def configure(
        self, entries: Iterable[Mapping[str, object]], successors: Iterable[Successor] = ()
    ) -> None:
        """Replace the configuration's part (`[[organs]]` as `from_entries` reads them, and
        `[[directory.successors]]`); the axis's part stays. Raises ValueError."""
        self._configured = []
        self.set_successors(successors)
        for entry in entries:
            previous = entry.get("previous") or ()
            if not isinstance(previous, list | tuple):
                raise ValueError(f"'previous' phải là danh sách / must be a list: {entry!r}")
            self.add(
                str(entry["code"]),
                str(entry["name"]),
                previous=[str(p) for p in previous],
                valid_from=_date_or_none(entry.get("valid_from")),
                valid_to=_date_or_none(entry.get("valid_to")),
            )

    def set_successors(self, successors: Iterable[Successor]) -> None:
        """The configuration's `[[directory.successors]]` (they win over the axis)."""
        self._successors = tuple(
            Successor(normalize_code(s.old) or s.old, normalize_code(s.new) or s.new, s.since)
            for s in successors
        )
        self._changed()

    def refresh(self, history: Iterable[DirectoryEntry]) -> None:
        """Replace the axis's part with every state the store holds (after a sync)."""
        self._history = tuple(history)
        self._changed()

    def preparer(self, history: Iterable[DirectoryEntry]) -> Callable[[], Prepared]:
        """What builds the directory with `history` as its axis part, not yet in force. Called
        on the event loop (it takes the configuration as it is now); the builder it returns is
        slow for a national directory (names are folded), so run it in a thread, then
        `install` what it returns."""
        states, configured = tuple(history), tuple(self._configured)
        successors, generation, day = self._successors, self.generation, today()

        def build() -> Prepared:
            view = OrganIndex(build_organs(states, configured, successors, day))
            return Prepared(states, view, generation)

        return build

    def install(self, prepared: Prepared) -> None:
        """Put a prepared directory in force at once (its index is dropped, to be built again
        when asked, if the configuration changed meanwhile)."""
        fresh = prepared.generation == self.generation
        self.refresh(prepared.history)
        if fresh:
            self._view = prepared.view

    def _changed(self) -> None:
        self._view = None
        self.generation += 1

    def learn_name(self, code: str | None, name: str | None) -> None:
        """A record carried both a code and a full name: the name may name the organ later."""
        current, key = normalize_code(code), organ_name_key(name)
        if current is not None and key:
            self._learned.setdefault(key, set()).add(current)

    def _built(self) -> OrganIndex:
        view = self._view
        if view is None:
            built = build_organs(self._history, self._configured, self._successors, today())
            view = OrganIndex(built)
            self._view = view
        return view

    # ---- asking it -------------------------------------------------------------------

    def resolve_at(self, code_or_name: str | None, at: dt.date | None = None) -> Resolution:
        """The organ a code or a name meant on `at` (today when None), with the reason."""
        day = at or today()
        code = normalize_code(code_or_name)
        if code is None:
            return Resolution(code=None, reason="trống / empty")
        if is_organ_code(code):
            return self._resolve_code(code, day)
        return self._resolve_name(str(code_or_name), day)

    def _resolve_code(self, code: str, day: dt.date, how: str = "") -> Resolution:
        view = self._built()
        record = view.find(code, day)
        if record is None:
            reason = "mã chưa có trong danh bạ / code not in directory"
            return Resolution(code=code, reason=f"{how}{reason}")
        steps = [f"{how}danh bạ / directory"]
        seen = {record.key}
        applied: dt.date | None = None
        while True:
            in_force = {
                link.target: link
                for link in record.links
                if link.since is None or link.since <= day
            }
            if len(in_force) != 1:
                break
            link = next(iter(in_force.values()))
            target = view.records[link.target]
            if target.key in seen:
                break
            seen.add(target.key)
            when = link.since.isoformat() if link.since else "?"
            steps.append(f"{record.code} → {target.code} từ / from {when} ({link.why})")
            applied, record = link.since, target
        if len(in_force) > 1:
            steps.append("nhiều cơ quan kế thừa / several successors")
        elif not in_force and record.links:
            later = min((lk.since for lk in record.links if lk.since), default=None)
            if later is not None:
                steps.append(
                    f"trước ngày sáp nhập {later.isoformat()}: cơ quan cũ / "
                    f"before the merger on {later.isoformat()}: the old organ"
                )
        return self._resolution(record, day, "; ".join(steps), applied, in_force)

    def _resolution(
        self,
        record: OrganRecord,
        day: dt.date,
        reason: str,
        applied: dt.date | None,
        in_force: Mapping[str, object],
    ) -> Resolution:
        records = self._built().records
        targets = [records[lk.target].code for lk in record.links]
        return Resolution(
            code=record.code,
            name=canonical_organ_name(record.name_at(day)) or None,
            mail=record.mail,
            has_node=record.has_node,
            deleted=record.deleted,
            known=True,
            reason=reason,
            organ=record.key,
            old_codes=tuple(record.old_codes()),
            successor=targets[0] if len(set(targets)) == 1 else None,
            since=applied,
            successors=tuple(records[k].code for k in in_force) if len(in_force) > 1 else (),
        )

    def _resolve_name(self, name: str, day: dt.date) -> Resolution:
        view = self._built()
        canonical = canonical_organ_name(name) or name
        key = organ_name_key(canonical) or ""
        steps: list[tuple[set[str], str]] = [
            (view.named(key, day), "tên trong danh bạ / directory name; "),
            (self._learned.get(key, set()), "tên học từ văn bản / name learned from records; "),
            (view.shortened(canonical, day), "tên viết tắt (NĐ 30) / short form (Decree 30); "),
        ]
        for index, (found, how) in enumerate(steps):
            if len(found) == 1:
                (only,) = found
                code = only if index == 1 else view.records[only].code
                if index != 1:
                    return self._resolve_code(code, day, how)
                resolved = self._resolve_code(code, day, how)
                return resolved if resolved.known else _named(resolved, canonical)
            if len(found) > 1:
                return Resolution(
                    code=None,
                    name=canonical,
                    reason=f"{how}nhiều cơ quan mang tên này / several organs bear this name",
                )
        return Resolution(code=None, name=canonical, reason="không rõ cơ quan / unknown organ")

    def _known(self, code: str | None, at: dt.date | None) -> tuple[str | None, Resolution]:
        """The code normalized, and what it named on `at` (today when None)."""
        current = normalize_code(code)
        if current is None:
            return None, Resolution(code=None)
        return current, self._resolve_code(current, at or today())

    def resolve(self, code: str | None, at: dt.date | None = None) -> str | None:
        """The code of the organ ``code`` names on `at` (today when None; itself when
        unknown): an earlier code of the organ, or a merged organ's once the merger holds."""
        current, found = self._known(code, at)
        return found.code if found.known else current

    def organ_of(self, code: str | None, at: dt.date | None = None) -> str | None:
        """The organ ``code`` names on `at`: its key, or, unknown, the code itself (in the
        QCVN 102 format: both formats of one code are one organ)."""
        current, found = self._known(code, at)
        if found.known or current is None:
            return found.organ
        return qcvn_form(current)

    def get(self, code: str | None, at: dt.date | None = None) -> Organ | None:
        """The organ a code (current or previous) names on `at`, or None."""
        _, found = self._known(code, at)
        if not found.known or found.code is None:
            return None
        return Organ(found.code, found.name or "", found.old_codes)

    def same_organ(self, a: str | None, b: str | None, at: dt.date | None = None) -> bool:
        """True when two codes name one organ on `at` (a document's date): directly,
        through earlier codes, or through a merger in force that day."""
        first, second = self.organ_of(a, at), self.organ_of(b, at)
        return first is not None and first == second

    def name_key(self, code: str | None, at: dt.date | None = None) -> str | None:
        """The comparison key of the organ's name on `at`, when the code is known."""
        organ = self.get(code, at)
        return organ_name_key(organ.name) if organ is not None and organ.name else None

    def unit_for(
        self, code: str | None, units: Iterable[str], at: dt.date | None = None
    ) -> str | None:
        """The unit among `units` that `code` names on `at` (today): the same organ (an old
        code of the unit, or a merged organ's once the merger holds), or the organ the unit
        is being merged or re-coded into (its new code used before the configuration says so).
        """
        day = at or today()
        organ = self.organ_of(code, day)
        if organ is None:
            return None
        listed = list(units)
        for unit in listed:
            if self.organ_of(unit, day) == organ:
                return unit
        for unit in listed:
            successor = self._resolve_code(normalize_code(unit) or unit, day).successor
            if successor is not None and self.organ_of(successor, day) == organ:
                return unit
        return None

    def organs(self) -> list[Organ]:
        """Every organ of the directory (current codes and names)."""
        return [
            Organ(r.code, r.name, tuple(r.old_codes()))
            for r in self._built().records.values()
            if r.name
        ]

    def successor_of(self, record: OrganRecord) -> tuple[str, dt.date | None] | None:
        """The current code of the one organ that takes `record` over, and from when."""
        targets = {link.target: link for link in record.links}
        if len(targets) != 1:
            return None
        (link,) = targets.values()
        return self._built().records[link.target].code, link.since

    def names(self) -> NameIndex:
        """The organs' current names, indexed for the short forms clerks write."""
        return self._built().names

    def records(self) -> list[OrganRecord]:
        """Every organ with its dated codes and names (for the directory page)."""
        return list(self._built().records.values())

    def __len__(self) -> int:
        return len(self._built().records)


def _named(resolution: Resolution, name: str) -> Resolution:
    return Resolution(code=resolution.code, name=name, reason=resolution.reason)


def _date_or_none(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
