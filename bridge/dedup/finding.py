"""Finding the known document a record is a road of: by identity (number, notation, date,
issuer through the organ directory), or, for a record without a number, by its files."""

from __future__ import annotations

from typing import Any

from bridge.dedup.reasons import Match, shas
from bridge.normalize import OrganDirectory, normalize_code
from bridge.normalize.identity import (
    FallbackKey,
    Identity,
    fallback_key,
    identity_of,
    subject_similarity,
)
from bridge.normalize.organs import is_short_form, organ_name_key
from bridge.store import DocumentRow, Store
from schemas import Document

MERGED = "merged"  # the state of a document an operator merged into another
SUBJECT_SIMILAR = 0.8  # a no-number record's subject must be this alike to join by a subset
_BY_TRIPLE = ("number", "notation", "issued_on")


class Finder:
    """Read-only lookups against the store; `directory` resolves changed organ codes."""

    def __init__(self, store: Store, directory: OrganDirectory | None = None) -> None:
        self.store = store
        self.directory = directory

    async def find(self, doc: Document, ident: Identity | None) -> Match:
        """The known document `doc` is a road of, by identity or, without a number, by files."""
        if ident is not None and ident.triple is not None:
            return await self._by_identity(doc, ident)
        return await self._by_attachments(doc, ident)

    def issuer_match(
        self, a: Identity, b: Identity, names: tuple[str | None, str | None] = (None, None)
    ) -> str | None:
        """How two identities name one issuer ("issuer_code", "issuer_code_alias",
        "issuer_name", or "issuer_name_short" when one of the two ``names`` shortens the other
        by Decree 30 conventions), or None when they name different organs. Codes are read as
        of the document's date: an old code names its successor only from the cut-over."""
        at = a.issued_on or b.issued_on
        if a.issuer_code is not None and b.issuer_code is not None:
            if a.issuer_code == b.issuer_code:
                return "issuer_code"
            if self.directory is not None and self.directory.same_organ(
                a.issuer_code, b.issuer_code, at
            ):
                return "issuer_code_alias"
            return None
        first, second = a.issuer_name_key, b.issuer_name_key
        if self.directory is not None:
            first = self.directory.name_key(a.issuer_code, at) or first
            second = self.directory.name_key(b.issuer_code, at) or second
        if first is not None and first == second:
            return "issuer_name"
        short, full = names
        if short is not None and organ_name_key(short) == organ_name_key(full):
            return "issuer_name"  # the document's name, made full by a later road
        if is_short_form(short, full) or is_short_form(full, short):
            return "issuer_name_short"
        return None

    async def _by_identity(self, doc: Document, ident: Identity) -> Match:
        assert ident.triple is not None
        by_code: list[tuple[DocumentRow, str]] = []
        by_name: list[tuple[DocumentRow, str]] = []
        near: list[dict[str, Any]] = []
        for row in await self.store.documents_by_triple(ident.triple):
            names = (doc.issuer.name, row.document.issuer.name)
            how = self.issuer_match(ident, row_identity(row), names)
            if how is None:
                near.append({"candidate": row.id, "differed": ["issuer"]})
            elif how in ("issuer_name", "issuer_name_short"):
                by_name.append((row, how))
            else:
                by_code.append((row, how))
        if by_code:
            row, how = by_code[0]
            return Match(row, "identity", (*_BY_TRIPLE, how), tuple(near))
        rows = [r for r, _ in by_name]
        if len(rows) > 1 and len({self._code_of(r) for r in rows}) > 1:
            return _pick_by_files(doc, rows, tuple(near))
        if by_name:
            row, how = by_name[0]
            return Match(row, "identity", (*_BY_TRIPLE, how), tuple(near))
        return Match(near=tuple(near))

    def _code_of(self, row: DocumentRow) -> str | None:
        code = row.document.issuer.code
        if self.directory is None:
            return code
        return self.directory.organ_of(code, row.document.issued_on)

    async def _by_attachments(self, doc: Document, ident: Identity | None) -> Match:
        key = fallback_key(doc)
        if key is None or not key.attachments:
            return Match()
        found: list[DocumentRow] = []
        near: list[dict[str, Any]] = []
        for row in await self.store.documents_by_attachment(key.attachments):
            if row.state == MERGED:  # merged into another by an operator: no longer a target
                continue
            differed = self._fallback_differences(key, ident, row, doc.issuer.name)
            if differed:
                near.append({"candidate": row.id, "differed": differed})
            else:
                found.append(row)
        if len(found) == 1:
            return Match(found[0], "attachments", ("attachments_sha256",), tuple(near))
        return Match(near=tuple(near), ambiguous=tuple(r.id for r in found))

    def _fallback_differences(
        self, key: FallbackKey, ident: Identity | None, row: DocumentRow, name: str | None
    ) -> list[str]:
        """Why a document sharing files with a no-number record is not its document."""
        doc = row.document
        differed = []
        if key.issued_on is not None and doc.issued_on not in (None, key.issued_on):
            differed.append("issued_on")
        other = identity_of(doc)
        if ident is not None and other is not None:
            knows = (ident.issuer_code or ident.issuer_name_key) and (
                other.issuer_code or other.issuer_name_key
            )
            names = (name, doc.issuer.name)
            if knows and self.issuer_match(ident, other, names) is None:
                differed.append("issuer")
        files = shas(doc)
        if not key.attachments <= files:
            differed.append("attachments")
        elif key.attachments != files and subject_similarity(key.subject, doc.subject) < (
            SUBJECT_SIMILAR
        ):
            differed.append("subject")
        return differed


def row_identity(row: DocumentRow) -> Identity:
    """A stored document's identity from its indexed columns (computed when it was created),
    with the issuer code from its data, where a later road may have filled it in."""
    return Identity(
        row.triple,
        normalize_code(row.document.issuer.code),
        row.issuer_key,
        row.document.issued_on,
    )


def _pick_by_files(
    doc: Document, rows: list[DocumentRow], near: tuple[dict[str, Any], ...]
) -> Match:
    """Several same-name organs under different codes: the files may tell which one."""
    files = shas(doc)
    sharing = [r for r in rows if files and files & shas(r.document)]
    if len(sharing) == 1:
        matched = (*_BY_TRIPLE, "issuer_name", "attachments_sha256")
        return Match(sharing[0], "identity", matched, near)
    return Match(near=near, ambiguous=tuple(r.id for r in rows))
