"""Deciding whether a record is a new document, another road's copy, a revision, or none.

The rule is the contract's: the same number, the same normalized notation, the same issue
date and the same issuer (by organ code where both records have one, else by canonical name).
Records with no number fall back to their attachments' SHA-256. Every decision carries its
reasoning so that `/documents/{id}` can show why two records were judged one document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bridge.normalize import fold_key
from bridge.normalize.identity import Identity, fallback_key, identity_of, same_issuer
from bridge.status_flow import AGREE, REFUSE, reply
from bridge.store import DocumentRow, NewDocument, Outcome, Store, StoredRecord
from schemas import Action, Document, DocumentRef, DocumentState, Provenance


def _provenance(record: StoredRecord, profile: str) -> Provenance:
    raw = record.raw
    return Provenance(
        source=raw.source,
        profile=profile,
        unit=raw.unit,
        external_id=raw.external_id,
        version=raw.version,
        received_at=raw.received_at,
    )


def _differences(a: Document, b: Document) -> list[str]:
    """Fields in which two roads of one document disagree in substance."""
    differed = []
    if fold_key(a.subject) != fold_key(b.subject):
        differed.append("subject")
    if (
        {x.sha256 for x in a.attachments} != {x.sha256 for x in b.attachments}
        and a.attachments
        and b.attachments
    ):
        differed.append("attachments")
    return differed


class Matcher:
    """Turns a normalized record into an Outcome the store applies atomically.

    `sinks_of(unit)` names the unit's sinks, home first.
    """

    def __init__(self, store: Store, sinks_of: Callable[[str], Sequence[str]]) -> None:
        self.store = store
        self.sinks_of = sinks_of

    async def decide(self, record: StoredRecord, doc: Document, profile: str) -> Outcome:
        prov = _provenance(record, profile)
        doc = doc.model_copy(update={"provenance": (prov,)})
        ident = identity_of(doc)
        if doc.confidentiality.is_secret:
            return self._quarantine(record, "secret", _secret_reason(doc), ident)
        if doc.action is not Action.NEW or doc.state is DocumentState.REVOKED:
            return await self._change(record, doc, ident)
        found, rule, explain = await self._find(doc, ident)
        if found is not None:
            return self._same_document(record, doc, found, rule, explain)
        if doc.review_reason:
            return self._quarantine(record, "review", doc.review_reason, ident)
        return self._new_document(record, doc, ident)

    async def _find(
        self, doc: Document, ident: Identity | None
    ) -> tuple[DocumentRow | None, str, dict[str, Any]]:
        if ident is not None and ident.triple is not None:
            for row in await self.store.documents_by_triple(ident.triple):
                other = identity_of(row.document)
                if other is not None and same_issuer(ident, other):
                    how = "code" if ident.issuer_code and other.issuer_code else "name"
                    return (
                        row,
                        "identity",
                        {
                            "matched": ["number", "notation", "issued_on", f"issuer_{how}"],
                            "triple": ident.triple,
                        },
                    )
            return None, "", {}
        shas = [a.sha256 for a in doc.attachments]
        for row in await self.store.documents_by_attachment(shas):
            return row, "attachments", {"matched": ["attachments_sha256"], "sha256": sorted(shas)}
        return None, "", {}

    def _same_document(
        self,
        record: StoredRecord,
        doc: Document,
        row: DocumentRow,
        rule: str,
        explain: dict[str, Any],
    ) -> Outcome:
        merged_prov = (*row.document.provenance, *doc.provenance)
        if doc.revision > row.revision:
            updated = doc.model_copy(update={"provenance": merged_prov})
            holders = [(u, s) for u, s in self._holders_hint(row)]
            return Outcome(
                record_id=record.id,
                outcome="revision",
                decision={
                    "rule": "revision",
                    "candidate": row.id,
                    "from": row.revision,
                    "to": doc.revision,
                    **explain,
                },
                document_id=row.id,
                updated_document=updated,
                deliveries=tuple((u, s, "update", doc.revision) for u, s in holders)
                + self._creates(record.raw.unit, doc.revision),
            )
        differed = _differences(row.document, doc)
        conflict = None
        if differed:
            conflict = {
                "record_id": record.id,
                "source": record.raw.source,
                "fields": differed,
                "values": {f: _value(doc, f) for f in differed},
            }
        return Outcome(
            record_id=record.id,
            outcome="duplicate",
            decision={"rule": rule, "candidate": row.id, "differed": differed, **explain},
            document_id=row.id,
            updated_document=row.document.model_copy(update={"provenance": merged_prov}),
            conflict=conflict,
            deliveries=self._creates(record.raw.unit, row.revision),
        )

    def _holders_hint(self, row: DocumentRow) -> list[tuple[str, str]]:
        units = {p.unit for p in row.document.provenance}
        return [(u, s) for u in sorted(units) for s in self.sinks_of(u)]

    def _creates(self, unit: str, revision: int) -> tuple[tuple[str, str, str, int], ...]:
        return tuple((unit, sink, "create", 1) for sink in self.sinks_of(unit))

    def _new_document(self, record: StoredRecord, doc: Document, ident: Identity | None) -> Outcome:
        key = fallback_key(doc) if ident is None or ident.triple is None else None
        fallback = ",".join(sorted(key.attachments)) if key is not None else None
        return Outcome(
            record_id=record.id,
            outcome="document",
            decision={"rule": "new", "triple": ident.triple if ident else None},
            new_document=NewDocument(
                document=doc,
                triple=ident.triple if ident else None,
                issuer_code=ident.issuer_code if ident else None,
                issuer_key=ident.issuer_name_key if ident else None,
                fallback=fallback,
            ),
            deliveries=self._creates(record.raw.unit, doc.revision),
        )

    async def _change(self, record: StoredRecord, doc: Document, ident: Identity | None) -> Outcome:
        """A revocation, update or replacement of another (or the same) document."""
        target_doc = doc
        if doc.target is not None:
            ref = doc.target
            target_doc = Document(
                issuer=ref.issuer, number=ref.number, notation=ref.notation, issued_on=ref.issued_on
            )
        target_ident = identity_of(target_doc)
        row, _, explain = await self._find(target_doc, target_ident)
        if row is None:
            return Outcome(
                record_id=record.id,
                outcome="waiting",
                decision={
                    "rule": "waiting_for_target",
                    "target": target_ident.triple if target_ident else None,
                },
            )
        merged_prov = (*row.document.provenance, *doc.provenance)
        holders = self._holders_hint(row)
        if doc.action is Action.REVOKE or doc.state is DocumentState.REVOKED:
            if row.state == DocumentState.REVOKED.value:
                return Outcome(
                    record_id=record.id,
                    outcome="duplicate",
                    document_id=row.id,
                    decision={"rule": "revocation_repeat", "candidate": row.id, **explain},
                    updated_document=row.document.model_copy(update={"provenance": merged_prov}),
                )
            revoked = row.document.model_copy(
                update={
                    "state": DocumentState.REVOKED,
                    "reason": doc.reason,
                    "provenance": merged_prov,
                }
            )
            return Outcome(
                record_id=record.id,
                outcome="revision",
                decision={"rule": "revocation", "candidate": row.id, **explain},
                document_id=row.id,
                updated_document=revoked,
                cancel_pending_creates=True,
                deliveries=tuple((u, s, "revoke", row.revision) for u, s in holders),
            )
        revision = max(doc.revision, row.revision + 1)
        base = doc.model_copy(update={"action": Action.NEW, "target": None, "revision": revision})
        if doc.target is not None and doc.number is None:
            base = row.document.model_copy(
                update={"revision": revision, "subject": doc.subject or row.document.subject}
            )
        return self._same_document(
            record,
            base.model_copy(update={"provenance": doc.provenance}),
            row,
            "revision",
            {"action": doc.action.value, **explain},
        )

    async def take_back(self, record: StoredRecord, ref: DocumentRef) -> Outcome:
        """A sender takes a document back (status 13): revoke it unless it is already done."""
        target = Document(
            issuer=ref.issuer, number=ref.number, notation=ref.notation, issued_on=ref.issued_on
        )
        row, _, explain = await self._find(target, identity_of(target))
        if row is None:
            return Outcome(
                record_id=record.id,
                outcome="status",
                decision={"rule": "take_back_unknown", "code": "13"},
            )
        unit = record.raw.unit
        if await self.store.is_done_at_home(row.id) or row.state == DocumentState.REVOKED.value:
            refuse = reply(
                row.document,
                unit,
                REFUSE,
                "không thể lấy lại: văn bản đã xử lý xong / cannot take back: already done",
            )
            return Outcome(
                record_id=record.id,
                outcome="status",
                document_id=row.id,
                decision={"rule": "take_back_refused", "candidate": row.id, **explain},
                status_replies=(refuse,),
            )
        revoked = row.document.model_copy(
            update={
                "state": DocumentState.REVOKED,
                "reason": "người gửi lấy lại / taken back by the sender",
            }
        )
        return Outcome(
            record_id=record.id,
            outcome="status",
            document_id=row.id,
            decision={"rule": "take_back", "candidate": row.id, **explain},
            updated_document=revoked,
            cancel_pending_creates=True,
            deliveries=tuple((u, s, "revoke", row.revision) for u, s in self._holders_hint(row)),
            status_replies=(reply(row.document, unit, AGREE, "đồng ý lấy lại / take-back agreed"),),
        )

    def _quarantine(
        self, record: StoredRecord, kind: str, reason: str, ident: Identity | None
    ) -> Outcome:
        return Outcome(
            record_id=record.id,
            outcome="quarantined",
            decision={"rule": kind, "triple": ident.triple if ident else None},
            quarantine=(kind, reason),
        )


def _secret_reason(doc: Document) -> str:
    return (
        f"văn bản {doc.confidentiality.label}: không chuyển qua mạng thông thường / "
        f"secret document ({doc.confidentiality.name}): never forwarded over ordinary networks"
    )


def _value(doc: Document, field: str) -> Any:
    if field == "attachments":
        return sorted(a.sha256 for a in doc.attachments)
    return getattr(doc, field)
