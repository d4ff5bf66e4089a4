"""Document identity: the number|notation|date triple, the issuer, and the fallback key for
records without a number (contract.md, "When are two records the same document?").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from bridge.normalize.directory import OrganDirectory, normalize_code
from bridge.normalize.legacy import clean_text
from bridge.normalize.organs import organ_name_key
from bridge.normalize.symbol import normalize_notation, normalize_number
from bridge.normalize.text import fold_key
from schemas.document import Document

_ABOUT = re.compile(r"^\s*(?:v\s*/\s*v|về\s+việc)\s*[:.\-]?\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Identity:
    """What makes a record one issued document; compare with ``triple`` and ``same_issuer``."""

    triple: str | None
    issuer_code: str | None
    issuer_name_key: str | None
    issued_on: dt.date | None = None  # the document's date: which organ a changed code named


def identity_triple(
    number: str | None, notation: str | None, issued_on: dt.date | None
) -> str | None:
    """f"{number}|{folded notation}|{ISO date}", or None when any part is missing."""
    num = normalize_number(number)
    nota = normalize_notation(notation)
    if num is None or nota is None or issued_on is None:
        return None
    return f"{num}|{fold_key(nota)}|{issued_on.isoformat()}"


def identity_of(doc: Document) -> Identity | None:
    """The identity of ``doc``; None when it names neither a triple nor an issuer."""
    triple = identity_triple(doc.number, doc.notation, doc.issued_on)
    code = normalize_code(doc.issuer.code)
    name_key = organ_name_key(doc.issuer.name)
    if triple is None and code is None and name_key is None:
        return None
    return Identity(
        triple=triple, issuer_code=code, issuer_name_key=name_key, issued_on=doc.issued_on
    )


def same_issuer(a: Identity, b: Identity, directory: OrganDirectory | None = None) -> bool:
    """By organ code where both have one (through the directory, as of the document's date:
    an old code is its successor's only from the cut-over), else by the canonical name key (a
    code the directory knows stands in for a missing name)."""
    at = a.issued_on or b.issued_on
    if a.issuer_code is not None and b.issuer_code is not None:
        if directory is not None:
            return directory.same_organ(a.issuer_code, b.issuer_code, at)
        return a.issuer_code == b.issuer_code
    first, second = a.issuer_name_key, b.issuer_name_key
    if directory is not None:
        first = first or directory.name_key(a.issuer_code, at)
        second = second or directory.name_key(b.issuer_code, at)
    return first is not None and first == second


def same_document(a: Identity, b: Identity, directory: OrganDirectory | None = None) -> bool:
    """Same triple and same issuer. Records without a triple never match here."""
    return a.triple is not None and a.triple == b.triple and same_issuer(a, b, directory)


def clean_subject(subject: str | None) -> str | None:
    """A trích yếu as delivered: ``clean_text``, without the closing full stop some clerks type
    (a trích yếu carries none; an ellipsis stays). None/blank → None."""
    cleaned = clean_text(subject)
    if cleaned is None:
        return None
    if cleaned.endswith(".") and not cleaned.endswith(".."):
        cleaned = cleaned[:-1].rstrip(" ;")
    return cleaned or None


def subject_key(subject: str | None) -> str:
    """Folded subject with "V/v" / "Về việc" removed, for similarity."""
    cleaned = clean_text(subject) or ""
    return fold_key(_ABOUT.sub("", cleaned))


def subject_similarity(a: str | None, b: str | None) -> float:
    """Similarity of two subjects in [0, 1] (rapidfuzz ratio after folding and "V/v")."""
    first, second = subject_key(a), subject_key(b)
    if not first and not second:
        return 1.0
    return fuzz.ratio(first, second) / 100.0


@dataclass(frozen=True, slots=True)
class FallbackKey:
    """Identity of a record without a number: its files, sender, date and subject."""

    attachments: frozenset[str]
    sender: str | None
    issued_on: dt.date | None
    subject: str


def fallback_key(doc: Document) -> FallbackKey | None:
    """The fallback identity of ``doc``; None when it has neither attachments nor subject."""
    shas = frozenset(a.sha256 for a in doc.attachments)
    subject = subject_key(doc.subject)
    if not shas and not subject:
        return None
    sender = normalize_code(doc.issuer.code) or organ_name_key(doc.issuer.name)
    return FallbackKey(shas, sender, doc.issued_on, subject)


def fallback_matches(a: FallbackKey, b: FallbackKey, *, min_similarity: float = 0.9) -> bool:
    """Same non-empty attachment set (with no contradicting date); or, without files, same
    sender and date and subjects at least ``min_similarity`` alike."""
    if a.issued_on is not None and b.issued_on is not None and a.issued_on != b.issued_on:
        return False
    if a.attachments and b.attachments:
        return a.attachments == b.attachments
    if a.sender is None or a.sender != b.sender or a.issued_on is None:
        return False
    if not a.subject or not b.subject:
        return False
    return fuzz.ratio(a.subject, b.subject) / 100.0 >= min_similarity
