"""Issuer names resolved before matching: a shortened name ("Phòng NV huyện X", "Bộ TC",
"Điện lực X") becomes the organ's full name, in this order, from the organ directory (codes,
names, previous codes), from names learned at run time from records that carry both a code and
a full name, and by the Decree 30 conventions of `is_short_form`. Never from a list of cases.
"""

from __future__ import annotations

import datetime as dt

from bridge.normalize import OrganDirectory, canonical_organ_name, normalize_code
from bridge.normalize.name_index import NameIndex
from bridge.normalize.organs import (
    is_short_form,
    looks_short,
    organ_name_key,
)
from schemas import Document, Organ


class IssuerNames:
    """Full organ names known to this matcher: the directory's and those learned at run time
    (by code from records carrying a code and a name; as bare names from the others).

    Learned names live in memory: after a restart they are learned again from the records that
    follow (the matching itself never depends on them, see `Finder.issuer_match`).
    """

    def __init__(self, directory: OrganDirectory | None = None) -> None:
        self.directory = directory
        self._by_code: dict[str, str] = {}
        self._learned = NameIndex()  # the directory keeps its own (built with it)

    def name_for(self, code: str | None, at: dt.date | None = None) -> str | None:
        """The full name the directory (as of the document's date `at`), else what was
        learned, gives the organ ``code``."""
        organ = self.directory.get(code, at) if self.directory is not None else None
        if organ is not None and organ.name:
            return organ.name
        resolved = self.directory.resolve(code, at) if self.directory is not None else code
        return self._by_code.get(resolved or "")

    def resolve(self, doc: Document) -> Document:
        """``doc`` with its issuer's name made full where a known name is what it shortens
        (or, without a name, the name its code is known by); otherwise unchanged."""
        issuer = self.resolve_organ(doc.issuer, doc.issued_on)
        return doc if issuer is doc.issuer else doc.model_copy(update={"issuer": issuer})

    def resolve_organ(self, organ: Organ, at: dt.date | None = None) -> Organ:
        name = canonical_organ_name(organ.name)
        known = self.name_for(normalize_code(organ.code), at)
        if known is not None and (name is None or is_short_form(name, known)):
            return organ.model_copy(update={"name": known})
        if known is None and name is not None:
            unique = self._only_expansion(name)
            if unique is not None:
                return organ.model_copy(update={"name": unique})
        return organ

    def learn(self, doc: Document) -> None:
        """Remember a full issuer name a record gives: as the name of its organ code when it
        carries one, and in any case as a name a later short form may spell (domain.md: the
        initials are checked against the names the directory and the other roads give)."""
        code = normalize_code(doc.issuer.code)
        name = canonical_organ_name(doc.issuer.name)
        if name is None or looks_short(name):
            return
        if code is None:
            self._index(name)
            return
        at = doc.issued_on
        if self.directory is not None:
            self.directory.learn_name(code, name)  # names resolve to codes through it
            known = self.directory.get(code, at)
            if known is not None and known.name:  # the directory names it already
                return
        resolved = (
            self.directory.resolve(code, at) if self.directory is not None else code
        ) or code
        current = self._by_code.get(resolved)
        if current is None or is_short_form(current, name):
            self._by_code[resolved] = name
            self._index(name)

    def _index(self, name: str) -> None:
        self._learned.add(name)

    def _only_expansion(self, name: str) -> str | None:
        """The one known full name ``name`` shortens; None when none or several do.

        A name without initials can only have lost a generic head: one dictionary look-up.
        A name with initials is checked against the known names sharing its first word."""
        candidates = self._learned.candidates(name)
        if self.directory is not None:
            candidates |= self.directory.names().candidates(name)
        found = {organ_name_key(c): c for c in candidates if is_short_form(name, c)}
        return next(iter(found.values())) if len(found) == 1 else None
