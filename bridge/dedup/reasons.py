"""The reasoning every matching decision stores, in one shape, and the substance two roads of
one document may disagree on.

Every decision dict has the same keys: `rule` (one of RULES), `candidate` (the document id the
record was judged against, or None), `matched` and `differed` (field names), `key` (the
record's identity: triple, issuer code, issuer name key) and, where documents were considered
and rejected, `near` ([{candidate, differed}]). Rules add their own details beside them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bridge.normalize.identity import Identity, subject_key
from bridge.store import DocumentRow, Outcome, StoredRecord
from schemas import Document

RULES = (
    "identity",  # same number, notation, date and issuer
    "attachments",  # no number: same files (SHA-256), no contradicting date or issuer
    "override",  # an operator's correction (split or merge) decided it
    "revision",  # a later revision of a known document
    "revocation",  # revokes a known document
    "revocation_repeat",  # a revocation of an already revoked document
    "new",  # no known document matched
    "secret",  # held: marked Mật / Tối mật / Tuyệt mật
    "review",  # held: a person must look at it (no number, ambiguous issuer)
    "held_merged",  # a record held for review joined the document its files belong to
    "waiting_for_target",  # a change whose document has not arrived yet
    "take_back",  # the sender took the document back (edXML status 13)
    "take_back_refused",
    "take_back_unknown",
)
AMBIGUOUS = (
    "nhiều văn bản cùng số, ký hiệu, ngày và tên cơ quan ban hành nhưng khác mã cơ quan / "
    "several documents share number, symbol, date and issuer name under different organ codes"
)


@dataclass(frozen=True)
class Match:
    """What the lookup found: a document (or none), by which rule, and why."""

    row: DocumentRow | None = None
    rule: str = "new"
    matched: tuple[str, ...] = ()
    near: tuple[dict[str, Any], ...] = ()
    ambiguous: tuple[int, ...] = ()


def decision(
    rule: str,
    ident: Identity | None,
    *,
    candidate: int | None = None,
    matched: Iterable[str] = (),
    differed: Iterable[str] = (),
    **details: Any,
) -> dict[str, Any]:
    """A decision dict with every common key (see the module docstring)."""
    return {
        "rule": rule,
        "candidate": candidate,
        "matched": list(matched),
        "differed": list(differed),
        "key": {
            "triple": ident.triple if ident else None,
            "issuer_code": ident.issuer_code if ident else None,
            "issuer_name": ident.issuer_name_key if ident else None,
        },
        **details,
    }


def differences(a: Document, b: Document) -> list[str]:
    """Fields in which two roads of one document disagree in substance ("V/v" and
    formatting aside)."""
    differed = []
    if a.subject != b.subject and _subject_key(a.subject) != _subject_key(b.subject):
        differed.append("subject")
    first, second = shas(a), shas(b)
    if first and second and first != second:
        differed.append("attachments")
    return differed


@functools.lru_cache(maxsize=4096)
def _subject_key(subject: str) -> str:
    return subject_key(subject)


def conflict(record: StoredRecord, doc: Document, fields: list[str]) -> dict[str, Any] | None:
    """The disagreement a road brings, as stored in the document's `conflicts`."""
    if not fields:
        return None
    return {
        "record_id": record.id,
        "source": record.raw.source,
        "fields": fields,
        "values": {f: _value(doc, f) for f in fields},
    }


def shas(doc: Document) -> frozenset[str]:
    return frozenset(a.sha256 for a in doc.attachments)


def quarantine(
    record: StoredRecord, kind: str, reason: str, ident: Identity | None, **details: Any
) -> Outcome:
    return Outcome(
        record_id=record.id,
        outcome="quarantined",
        decision=decision(kind, ident, reason=reason, **details),
        quarantine=(kind, reason),
    )


def secret_reason(doc: Document) -> str:
    return (
        f"văn bản {doc.confidentiality.label}: không chuyển qua mạng thông thường / "
        f"secret document ({doc.confidentiality.name}): never forwarded over ordinary networks"
    )


def _value(doc: Document, name: str) -> Any:
    if name == "attachments":
        return sorted(a.sha256 for a in doc.attachments)
    return getattr(doc, name)
