"""The Matcher: turns a normalized record into the Outcome the store applies atomically.

Order of judgement: a secret hold; an operator's correction (override); a change (update,
replacement, revocation) of a known document; a road of a known document (identity, or files
for a record without a number); a hold for review; else a new document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import structlog

from bridge.dedup.finding import Finder
from bridge.dedup.held import Deliveries, HeldRecords
from bridge.dedup.issuers import IssuerNames
from bridge.dedup.reasons import (
    AMBIGUOUS,
    Match,
    conflict,
    decision,
    differences,
    quarantine,
    secret_reason,
)
from bridge.normalize import OrganDirectory
from bridge.normalize.identity import Identity, fallback_key, identity_of
from bridge.normalize.organs import fuller_name, is_short_form
from bridge.status_messages import AGREE, REFUSE, reply
from bridge.store import DocumentRow, NewDocument, Outcome, Store, StoredRecord
from schemas import Action, Document, DocumentRef, DocumentState, Provenance

log = structlog.get_logger(__name__)


# A mail's issuer name is its sender's display name, not the document's: nothing is learned
# from it (a clerk's own name would otherwise become the organ's).
_NAMES_NOT_FROM_THE_DOCUMENT = frozenset({"mailbox"})


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


def _is_change(doc: Document) -> bool:
    return doc.action is not Action.NEW or doc.state is DocumentState.REVOKED


class Matcher:
    """Decides what each record is; reads the store, never writes it except to let a record
    held for review join its document (`HeldRecords`).

    `sinks_of(unit)` names the unit's sinks, home first. `directory` resolves organ codes that
    changed (previous codes) and names organs known only by code.
    """

    def __init__(
        self,
        store: Store,
        sinks_of: Callable[[str], Sequence[str]],
        directory: OrganDirectory | None = None,
    ) -> None:
        self.store = store
        self.sinks_of = sinks_of
        self.finder = Finder(store, directory)
        self.held = HeldRecords(store, self._creates)
        self.issuers = IssuerNames(directory)

    async def decide(self, record: StoredRecord, doc: Document, profile: str) -> Outcome:
        doc = doc.model_copy(update={"provenance": (_provenance(record, profile),)})
        if profile not in _NAMES_NOT_FROM_THE_DOCUMENT:
            self.issuers.learn(doc)
        doc = self.issuers.resolve(doc)
        ident = identity_of(doc)
        await self.held.absorb()
        if doc.confidentiality.is_secret:
            return quarantine(record, "secret", secret_reason(doc), ident)
        forced = await self._override(record)
        if forced is not None:
            return await self._forced(record, doc, ident, forced)
        if _is_change(doc):
            return await self._change(record, doc, ident)
        match = await self.finder.find(doc, ident)
        if match.row is not None:
            row = await self.held.absorb_into(match.row, doc)
            return self._same_document(record, doc, row, match, ident)
        if match.ambiguous or doc.review_reason:
            return await self._hold(record, doc, ident, doc.review_reason or AMBIGUOUS, match)
        await self.held.note_new(doc)
        return self._new_document(record, doc, ident, match)

    def forget(self) -> None:
        """Drop what is cached from the store (records held for review): read it again."""
        self.held.forget()

    async def absorb_held(self) -> int:
        """Let held records join documents stored since the last decision (the pipeline may
        call it right after applying an outcome; `decide` does so first in any case)."""
        return await self.held.absorb()

    # ---- operator corrections ----------------------------------------------------------------

    async def _override(self, record: StoredRecord) -> int | Literal["new"] | None:
        """The operator's correction for this record: a document id, "new" (a document of its
        own), or None when there is none."""
        raw = record.raw
        has, document_id = await self.store.override_for(
            f"{raw.source}|{raw.unit}|{raw.external_id}"
        )
        if not has:
            return None
        return "new" if document_id is None else document_id

    async def _forced(
        self,
        record: StoredRecord,
        doc: Document,
        ident: Identity | None,
        forced: int | Literal["new"],
    ) -> Outcome:
        if forced == "new":
            return self._new_document(record, doc, ident, Match(rule="override"))
        row = await self.store.document(forced)
        if row is None:  # the document is gone (purged): decide as if uncorrected
            log.warning("override_target_missing", record=record.id, document=forced)
            return self._new_document(record, doc, ident, Match())
        match = Match(row, "override", ("override",))
        if _is_change(doc):
            return await self._change(record, doc, ident, match)
        return self._same_document(record, doc, row, match, ident)

    # ---- outcomes ----------------------------------------------------------------------------

    def _same_document(
        self,
        record: StoredRecord,
        doc: Document,
        row: DocumentRow,
        match: Match,
        ident: Identity | None,
    ) -> Outcome:
        merged_prov = (*row.document.provenance, *doc.provenance)
        if doc.revision > row.revision:
            why = decision(
                "revision",
                ident,
                candidate=row.id,
                matched=match.matched,
                differed=differences(row.document, doc),
                by=match.rule,
                revision={"from": row.revision, "to": doc.revision},
                near=list(match.near),
            )
            updates = tuple((u, s, "update", doc.revision) for u, s in self._holders(row))
            return Outcome(
                record_id=record.id,
                outcome="revision",
                decision=why,
                document_id=row.id,
                updated_document=doc.model_copy(
                    update={"provenance": merged_prov, **_kept_issuer(row.document, doc)}
                ),
                deliveries=updates + self._creates(record.raw.unit),
            )
        older = doc.revision < row.revision  # a slower road still carries an earlier revision
        differed = [] if older else differences(row.document, doc)
        learned = _learned(row.document, doc)
        why = decision(
            match.rule,
            ident,
            candidate=row.id,
            matched=match.matched,
            differed=differed,
            older_revision=older,
            learned=sorted(learned),
            near=list(match.near),
        )
        return Outcome(
            record_id=record.id,
            outcome="duplicate",
            decision=why,
            document_id=row.id,
            updated_document=row.document.model_copy(update={"provenance": merged_prov, **learned}),
            conflict=conflict(record, doc, differed),
            deliveries=self._creates(record.raw.unit),
        )

    def _holders(self, row: DocumentRow) -> list[tuple[str, str]]:
        units = {p.unit for p in row.document.provenance}
        return [(u, s) for u in sorted(units) for s in self.sinks_of(u)]

    def _creates(self, unit: str) -> Deliveries:
        return tuple((unit, sink, "create", 1) for sink in self.sinks_of(unit))

    def _new_document(
        self, record: StoredRecord, doc: Document, ident: Identity | None, match: Match
    ) -> Outcome:
        key = fallback_key(doc) if ident is None or ident.triple is None else None
        fallback = ",".join(sorted(key.attachments)) if key is not None else None
        return Outcome(
            record_id=record.id,
            outcome="document",
            decision=decision(match.rule, ident, near=list(match.near)),
            new_document=NewDocument(
                document=doc,
                triple=ident.triple if ident else None,
                issuer_code=ident.issuer_code if ident else None,
                issuer_key=ident.issuer_name_key if ident else None,
                fallback=fallback,
            ),
            deliveries=self._creates(record.raw.unit),
        )

    async def _hold(
        self, record: StoredRecord, doc: Document, ident: Identity | None, reason: str, match: Match
    ) -> Outcome:
        """Keep the record aside for a person; its files (in the decision) let the document
        they belong to take it in when that arrives by another road."""
        await self.held.hold(record.id, record.raw.unit, doc)
        return quarantine(
            record,
            "review",
            reason,
            ident,
            candidates=list(match.ambiguous),
            near=list(match.near),
            attachments=sorted(a.sha256 for a in doc.attachments),
            provenance=doc.provenance[0].model_dump(mode="json"),
        )

    # ---- changes to known documents ----------------------------------------------------------

    async def _change(
        self,
        record: StoredRecord,
        doc: Document,
        ident: Identity | None,
        forced: Match | None = None,
    ) -> Outcome:
        """A revocation, update or replacement of another (or the same) document."""
        target_doc = _ref_document(doc.target) if doc.target is not None else doc
        target_ident = identity_of(target_doc)
        match = forced or await self.finder.find(target_doc, target_ident)
        row = match.row
        if row is None:
            return Outcome(
                record_id=record.id,
                outcome="waiting",
                decision=decision("waiting_for_target", target_ident, action=doc.action.value),
            )
        if doc.action is Action.REVOKE or doc.state is DocumentState.REVOKED:
            return self._revoke(record, doc, row, match, ident)
        revision = max(doc.revision, row.revision + 1)
        base = doc.model_copy(update={"action": Action.NEW, "target": None, "revision": revision})
        if doc.target is not None and doc.number is None:
            base = row.document.model_copy(
                update={"revision": revision, "subject": doc.subject or row.document.subject}
            )
        return self._same_document(
            record, base.model_copy(update={"provenance": doc.provenance}), row, match, ident
        )

    def _revoke(
        self,
        record: StoredRecord,
        doc: Document,
        row: DocumentRow,
        match: Match,
        ident: Identity | None,
    ) -> Outcome:
        merged_prov = (*row.document.provenance, *doc.provenance)
        why: dict[str, Any] = {"matched": match.matched, "by": match.rule}
        if row.state == DocumentState.REVOKED.value:
            return Outcome(
                record_id=record.id,
                outcome="duplicate",
                document_id=row.id,
                decision=decision("revocation_repeat", ident, candidate=row.id, **why),
                updated_document=row.document.model_copy(update={"provenance": merged_prov}),
            )
        revoked = row.document.model_copy(
            update={"state": DocumentState.REVOKED, "reason": doc.reason, "provenance": merged_prov}
        )
        return Outcome(
            record_id=record.id,
            outcome="revision",
            decision=decision("revocation", ident, candidate=row.id, reason=doc.reason, **why),
            document_id=row.id,
            updated_document=revoked,
            cancel_pending_creates=True,
            deliveries=tuple((u, s, "revoke", row.revision) for u, s in self._holders(row)),
        )

    async def take_back(self, record: StoredRecord, ref: DocumentRef) -> Outcome:
        """A sender takes a document back (status 13): revoke it unless it is already done."""
        target = _ref_document(ref)
        ident = identity_of(target)
        row = (await self.finder.find(target, ident)).row
        if row is None:
            return Outcome(
                record_id=record.id,
                outcome="status",
                decision=decision("take_back_unknown", ident, code="13"),
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
                decision=decision("take_back_refused", ident, candidate=row.id, code="13"),
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
            decision=decision("take_back", ident, candidate=row.id, code="13"),
            updated_document=revoked,
            cancel_pending_creates=True,
            deliveries=tuple((u, s, "revoke", row.revision) for u, s in self._holders(row)),
            status_replies=(reply(row.document, unit, AGREE, "đồng ý lấy lại / take-back agreed"),),
        )


def _learned(known: Document, doc: Document) -> dict[str, Any]:
    """Fill what the first road lacked: an issuer code keeps same-name organs apart later;
    the full name of an issuer the first road wrote short ("Phòng NV …", "Điện lực X")."""
    updates: dict[str, Any] = {}
    if known.issuer.code is None and doc.issuer.code is not None:
        updates["code"] = doc.issuer.code
    if doc.issuer.name is not None and (
        known.issuer.name is None or is_short_form(known.issuer.name, doc.issuer.name)
    ):
        updates["name"] = doc.issuer.name
    return {"issuer": known.issuer.model_copy(update=updates)} if updates else {}


def _kept_issuer(known: Document, doc: Document) -> dict[str, Any]:
    """A revision keeps the issuer code and the full name an earlier road taught."""
    code = doc.issuer.code or known.issuer.code
    name = fuller_name(doc.issuer.name, known.issuer.name)
    if (code, name) == (doc.issuer.code, doc.issuer.name):
        return {}
    return {"issuer": doc.issuer.model_copy(update={"code": code, "name": name})}


def _ref_document(ref: DocumentRef) -> Document:
    return Document(
        issuer=ref.issuer, number=ref.number, notation=ref.notation, issued_on=ref.issued_on
    )
