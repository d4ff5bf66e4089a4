"""The organ directory's history and the dated view built from it.

The axis tells the directory as entries (`getSynchronizeUnit`: id, code, name, mail, pid,
oldCode, centerCode, deleted, modifyDate, isAgency, version). Each state of an entry the bridge
saw is kept (`DirectoryEntry`); `build_organs` turns every state of every entry, with the
configuration's `[[organs]]` and `[[directory.successors]]`, into `OrganRecord`s: each organ's
codes and names with the dates they held, its deletion, and its successors with the day each
takes over (the cut-over). Pure: no I/O, no clock.

Cut-over of an old code to its successor, first that applies: the configuration's `from`; the
day the directory deleted the old entry; the day an entry not yet deleted was announced as the
successor (an `oldCode` naming a live entry: a merger announced ahead, effective on its date).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bridge.normalize.name_index import NameIndex
from bridge.normalize.organs import is_short_form, organ_name_key

AXIS = "axis:"  # key prefix of an organ the axis lists
CONFIG = "config:"  # key prefix of an organ only the configuration names


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One state of an axis directory entry, as the axis gave it and the store keeps it."""

    entry_id: str
    code: str
    name: str
    mail: str = ""
    pid: str = ""
    old_codes: tuple[str, ...] = ()
    center_code: str = ""
    is_agency: bool = True
    deleted: bool = False
    modified: dt.datetime | None = None  # modifyDate, local time
    version: int = 0

    def same_state(self, other: DirectoryEntry) -> bool:
        """True when nothing but the version and the modification time differ."""
        return (
            self.code,
            self.name,
            self.mail,
            self.pid,
            self.old_codes,
            self.center_code,
            self.is_agency,
            self.deleted,
        ) == (
            other.code,
            other.name,
            other.mail,
            other.pid,
            other.old_codes,
            other.center_code,
            other.is_agency,
            other.deleted,
        )


@dataclass(frozen=True, slots=True)
class Successor:
    """`[[directory.successors]]`: documents of `old` dated from `since` on are `new`'s."""

    old: str
    new: str
    since: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Organ:
    """One organ: its current code, canonical name, and previous codes (`[[organs]]`: an
    organ the configuration names, with the codes it carried before)."""

    code: str
    name: str
    previous: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """A value (a code, a name) an organ held from `since` (None: always) until `until`
    (exclusive; None: still)."""

    value: str
    since: dt.date | None = None
    until: dt.date | None = None

    def holds(self, at: dt.date) -> bool:
        return (self.since is None or self.since <= at) and (self.until is None or at < self.until)


@dataclass(frozen=True, slots=True)
class Link:
    """The organ `target` takes over from `since` (None: date unknown, always); `why` says
    where that came from (Vietnamese first)."""

    target: str
    since: dt.date | None
    why: str


@dataclass(slots=True)
class OrganRecord:
    """An organ with its dated codes and names, where it receives, and who took it over."""

    key: str
    codes: list[Span]
    names: list[Span]
    aliases: set[str] = field(default_factory=set)  # earlier codes of its own, dates unknown
    mail: str | None = None
    has_node: bool = False
    is_agency: bool = True
    deleted: bool = False
    deleted_on: dt.date | None = None
    announced: dict[str, dt.date | None] = field(default_factory=dict)  # oldCode → first seen
    links: list[Link] = field(default_factory=list)
    configured_name: str | None = None

    @property
    def code(self) -> str:
        return self.codes[-1].value

    @property
    def name(self) -> str:
        return self.configured_name or (self.names[-1].value if self.names else "")

    def name_at(self, at: dt.date) -> str:
        """The name the organ bore on `at` (the configured name wins)."""
        if self.configured_name:
            return self.configured_name
        held = [s.value for s in self.names if s.holds(at)]
        return held[-1] if held else self.name

    def old_codes(self) -> list[str]:
        """Every code it held before its current one, and its own earlier codes."""
        seen = dict.fromkeys(s.value for s in self.codes[:-1] if s.value != self.code)
        seen.update(dict.fromkeys(sorted(self.aliases)))
        return list(seen)


def other_form(code: str) -> str | None:
    """The same four-level code in the other format: QCVN 102 (`000.00.31.H59`, level 1
    last) ↔ QĐ 20/2020 (`H59.31.00.000`, level 1 first); None when not four levels."""
    parts = code.split(".")
    return ".".join(reversed(parts)) if len(parts) == 4 else None


_LEVEL_ONE = re.compile(r"[A-Z][0-9]{2}")


def qcvn_form(code: str) -> str:
    """A four-level code in the QCVN 102 format (level 1 last): a QĐ 20/2020 code
    (`H59.31.00.000`) turned around, any other code as it is."""
    parts = code.split(".")
    if len(parts) == 4 and _LEVEL_ONE.fullmatch(parts[0]) and not _LEVEL_ONE.fullmatch(parts[3]):
        return ".".join(reversed(parts))
    return code


def _date_of(moment: dt.datetime | None) -> dt.date | None:
    return moment.date() if moment is not None else None


def _spans(values: list[tuple[str, dt.date | None]]) -> list[Span]:
    """Dated spans from the values an entry took, oldest first, with the day each began."""
    spans: list[Span] = []
    for value, since in values:
        if spans and spans[-1].value == value:
            continue
        if spans:
            last = spans[-1]
            spans[-1] = Span(last.value, last.since, since)
        spans.append(Span(value, since if spans else None))
    return spans


def _from_states(entry_id: str, states: list[DirectoryEntry]) -> OrganRecord:
    states = sorted(states, key=lambda s: s.version)
    last = states[-1]
    dated = [(s, _date_of(s.modified)) for s in states]
    record = OrganRecord(
        key=AXIS + entry_id,
        codes=_spans([(s.code, d) for s, d in dated]),
        names=_spans([(s.name, d) for s, d in dated]),
        mail=last.mail or None,
        has_node=bool(last.center_code) and not last.deleted,
        is_agency=last.is_agency,
        deleted=last.deleted,
        deleted_on=_date_of(last.modified) if last.deleted else None,
    )
    for state, day in dated:
        for old in state.old_codes:
            record.announced.setdefault(old, day)
    return record


class _Index:
    """Organs by every code they held (dated or not)."""

    def __init__(self, organs: dict[str, OrganRecord]) -> None:
        self.organs = organs
        self.by_code: dict[str, list[str]] = {}
        for record in organs.values():
            self.add(record)

    def add(self, record: OrganRecord) -> None:
        for code in [*(s.value for s in record.codes), *record.aliases]:
            keys = self.by_code.setdefault(code, [])
            if record.key not in keys:
                keys.append(record.key)

    def holder(self, code: str, besides: str | None = None) -> OrganRecord | None:
        """The organ that held `code` as a code of its own (not an alias), `besides` aside."""
        for key in self.by_code.get(code, []):
            record = self.organs[key]
            if key != besides and any(s.value == code for s in record.codes):
                return record
        return None


def build_organs(
    history: Iterable[DirectoryEntry],
    organs: Iterable[Organ] = (),
    successors: Iterable[Successor] = (),
    today: dt.date | None = None,
) -> dict[str, OrganRecord]:
    """Every organ, keyed `axis:<entry id>` or `config:<code>`, from the states the axis gave
    (any order), then the configuration's organs and successors, which win. A configured
    organ whose `valid_to` has passed by `today` is deleted (None: any `valid_to`)."""
    by_entry: dict[str, list[DirectoryEntry]] = {}
    for state in history:
        by_entry.setdefault(state.entry_id, []).append(state)
    records = {AXIS + e: _from_states(e, states) for e, states in by_entry.items()}
    index = _Index(records)
    for record in list(records.values()):
        for old, announced in record.announced.items():
            _link_old(index, record, old, announced)
    for organ in organs:
        _add_configured(index, organ, today)
    for successor in successors:
        _add_successor(index, successor)
    return records


def _link_old(index: _Index, record: OrganRecord, old: str, announced: dt.date | None) -> None:
    """`record` lists `old` in its oldCode: another entry's code is a merger into it; a code
    no other entry held is an earlier code of its own."""
    if old == record.code or any(s.value == old for s in record.codes):
        return
    holder = index.holder(old, besides=record.key)
    if holder is None:
        record.aliases.add(old)
        index.add(record)
        return
    since: dt.date | None = holder.deleted_on
    if holder.deleted and since is not None:
        why = "danh bạ xóa mã cũ / the directory deleted the old code"
    else:
        since = announced
        why = "sáp nhập đã báo trước / merger announced ahead"
    holder.links.append(Link(record.key, since, why))


def _add_configured(index: _Index, organ: Organ, today: dt.date | None) -> None:
    record = index.holder(organ.code)
    if record is None:
        record = OrganRecord(
            key=CONFIG + organ.code,
            codes=[Span(organ.code, organ.valid_from)],
            names=[Span(organ.name)],
            deleted=organ.valid_to is not None and (today is None or organ.valid_to <= today),
            deleted_on=organ.valid_to,
        )
        index.organs[record.key] = record
    record.configured_name = organ.name
    for previous in organ.previous:
        holder = index.holder(previous, besides=record.key)
        if holder is None:
            record.aliases.add(previous)
        else:
            since = organ.valid_from or holder.deleted_on
            holder.links = [Link(record.key, since, "cấu hình [[organs]] / configuration")]
    index.add(record)


def _add_successor(index: _Index, successor: Successor) -> None:
    """The configuration's successor wins: the old code becomes an organ of its own (split off
    an organ that listed it as an earlier code) taken over by `new` from `since`."""
    new = index.holder(successor.new) or _stub(index, successor.new)
    old = index.holder(successor.old, besides=new.key)
    if old is None:
        new.aliases.discard(successor.old)
        for key in index.by_code.get(successor.old, []):
            index.organs[key].aliases.discard(successor.old)
        index.by_code[successor.old] = []
        old = _stub(index, successor.old)
    since = successor.since or old.deleted_on or new.announced.get(successor.old)
    why = "cấu hình [[directory.successors]] / configured successor"
    old.links = [Link(new.key, since, why)]


def _stub(index: _Index, code: str) -> OrganRecord:
    record = OrganRecord(key=CONFIG + code, codes=[Span(code)], names=[])
    index.organs[record.key] = record
    index.add(record)
    return record


class OrganIndex:
    """The built directory: organs, and their codes and names (dated) for looking up."""

    def __init__(self, records: dict[str, OrganRecord]) -> None:
        self.records = records
        self.names = NameIndex()  # the current names, for short forms (bridge/dedup/issuers)
        self.by_code: dict[str, list[OrganRecord]] = {}
        self.by_name: dict[str, list[tuple[OrganRecord, str, dt.date | None, dt.date | None]]] = {}
        for record in records.values():
            if record.name:
                self.names.add(record.name)
            for code in [*(s.value for s in record.codes), *sorted(record.aliases)]:
                self.by_code.setdefault(code, []).append(record)
            spans = [(s.value, s.since, s.until) for s in record.names]
            if record.configured_name:
                spans.append((record.configured_name, None, None))
            for name, since, until in spans:
                key = organ_name_key(name)
                if key:
                    self.by_name.setdefault(key, []).append((record, name, since, until))

    def find(self, code: str, at: dt.date) -> OrganRecord | None:
        """The organ that bore `code` on `at` (else the latest that bore it, else one that
        listed it as an earlier code of its own), in either code format."""
        found = self.by_code.get(code)
        if not found:
            swapped = other_form(code)
            found = self.by_code.get(swapped) if swapped else None
            code = swapped or code
        if not found:
            return None
        dated = [r for r in found if any(s.value == code and s.holds(at) for s in r.codes)]
        held = [r for r in found if any(s.value == code for s in r.codes)]
        return (dated or held or found)[-1]

    def named(self, key: str, at: dt.date) -> set[str]:
        """The organs bearing a name of this key on `at`."""
        return {
            r.key
            for r, _, since, until in self.by_name.get(key, [])
            if (since is None or since <= at) and (until is None or at < until)
        }

    def shortened(self, name: str, at: dt.date) -> set[str]:
        """The organs whose name on `at` `name` shortens by Decree 30 conventions."""
        found: set[str] = set()
        for entries in self.by_name.values():
            for record, full, since, until in entries:
                in_force = (since is None or since <= at) and (until is None or at < until)
                if in_force and is_short_form(name, full):
                    found.add(record.key)
        return found
