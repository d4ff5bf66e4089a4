"""What a later road teaches a known document: the best fields of every road (`bridge.best`),
and a correction owed to each sink already holding the document when it learnt something."""

from __future__ import annotations

import dataclasses

import structlog

from bridge.best import best_issuer, best_of, correction_note
from bridge.domain.enums import RecordOutcome
from bridge.interfaces import Operation
from bridge.normalize.directory import OrganDirectory
from bridge.store import Outcome, Store, StoredRecord
from schemas import Action, Document, DocumentState

log = structlog.get_logger(__name__)


async def best_of_roads(
    store: Store,
    directory: OrganDirectory | None,
    record: StoredRecord,
    doc: Document,
    outcome: Outcome,
) -> Outcome:
    """The known document with every field this road writes better (see `bridge.best`);
    when it taught something and the document is already at (or on its way to) a sink,
    a correction for each such sink, queued like any delivery.

    A revision keeps the best issuer known (its other fields are the revision's own).
    """
    updated = outcome.updated_document
    if outcome.document_id is None or updated is None:
        return outcome
    if outcome.outcome == RecordOutcome.DUPLICATE and doc.action is Action.NEW:
        row = await store.document(outcome.document_id)
        if row is None or row.state == DocumentState.REVOKED.value:
            return outcome
        best, lessons = best_of(row.document, doc, record.raw.source, directory)
        best = best.model_copy(update={"provenance": updated.provenance})
    elif outcome.outcome == RecordOutcome.REVISION and updated.state is not DocumentState.REVOKED:
        row = await store.document(outcome.document_id)
        if row is None:
            return outcome
        issuer = best_issuer(row.document.issuer, updated.issuer, directory, row.document.issued_on)
        best = updated.model_copy(update={"issuer": issuer})
        known = row.document.model_copy(update={"issuer": issuer})
        lessons = best_of(row.document, known, record.raw.source)[1]
    else:
        return outcome
    if not lessons:
        return dataclasses.replace(outcome, updated_document=best)
    holders = await store.sinks_holding(outcome.document_id)
    corrections = tuple(
        (unit, sink, Operation.CORRECT.value, row.revision) for unit, sink in holders
    )
    log.info(
        "document_corrected",
        document=outcome.document_id,
        fields=[lesson.field for lesson in lessons],
        sinks=len(corrections),
    )
    return dataclasses.replace(
        outcome,
        updated_document=best,
        decision={**outcome.decision, "corrected": [lesson.as_dict() for lesson in lessons]},
        deliveries=outcome.deliveries + corrections,
        correction_note=correction_note(lessons),
    )
