"""The mail road (one MIME message per document version and recipient, its Message-ID fixed
when first built; a 4xx is tried again with the same bytes, a 5xx fails the road) and the
internal road (the document enters the receiving unit's inbound flow as a record of the
reserved source `internal`: duplicate detection, one delivery per sink)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

import structlog

from bridge.domain.outgoing import Move, OutDoc, OutMessage, OutRecipient
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import MailRefusedError, MailSender, OutgoingMessage, Profile
from bridge.outbound.common import (
    Hold,
    OutboxContext,
    document_ref,
    item_of,
    kind_for,
    run_loop,
)
from schemas import Action, Document, DocumentState, RawRecord

log = structlog.get_logger(__name__)
INTERNAL = "internal"  # the reserved source name of the internal road (contract.md)
MAILS_IN_FLIGHT = 4  # messages submitted at once
INTERNAL_MEDIA = "application/vnd.lienthong.document+json"


class MailRoad:
    """Sends an outbox's mail recipients from its unit's official mailbox."""

    def __init__(self, ctx: OutboxContext, sender: MailSender) -> None:
        self.ctx = ctx
        self.sender = sender
        self.wake = asyncio.Event()
        self.hold: Hold | None = None  # the sending lease, when instances share the store

    async def run(self, stop: asyncio.Event) -> None:
        await run_loop(
            f"mail:{self.ctx.name}", self.send_due, stop, self.wake, self.ctx.health, hold=self.hold
        )

    async def send_due(self) -> int:
        store = self.ctx.store
        due = await store.recipients_in(
            "mail", ["queued"], due_by=time.time(), outbox=self.ctx.name
        )
        slots = asyncio.Semaphore(MAILS_IN_FLIGHT)

        async def one(r: OutRecipient) -> None:
            async with slots:
                doc = await store.outgoing_doc_by_id(r.doc_id)
                if doc is not None and doc.version == r.version:
                    await self._send(doc, r)

        await asyncio.gather(*(one(r) for r in due))
        return len(due)

    async def _send(self, doc: OutDoc, r: OutRecipient) -> None:
        store = self.ctx.store
        mine = [
            m
            for m in await store.messages_of(doc.id)
            if m.road == "mail" and m.recipients == (r.id,)
        ]
        current = [m for m in mine if m.version == r.version and m.state in ("pending", "sending")]
        m = current[0] if current else await self._compose(doc, r, mine)
        await store.message_started(m.id)
        assert r.to is not None
        try:
            await self.sender.send(to=r.to, message=m.data)
        except MailRefusedError as exc:
            await store.message_ended(m.id, "refused")
            await self.ctx.fail_over(doc, r, f"Máy chủ thư từ chối / mail refused: {exc}")
            return
        except (TransientError, AuthError) as exc:
            await store.message_ended(m.id, "pending")
            await store.note_attempt(
                [r.id], m.id, "mail", exc.reason, self.ctx.retry_at(r.attempts, exc)
            )
            self.ctx.health.failed(exc)
            return
        except PermanentError as exc:
            await store.message_ended(m.id, "refused")
            await self.ctx.fail_over(doc, r, exc.reason)
            return
        async with store.batch():
            await store.message_ended(m.id, "sent", m.ident)
            await store.note_attempt([r.id], m.id, "mail", None)
            await store.move(Move(r.id, "sent", detail=f"Message-ID {m.ident}"))
        self.ctx.health.succeeded()

    async def _compose(self, doc: OutDoc, r: OutRecipient, mine: list[OutMessage]) -> OutMessage:
        item = item_of(doc)
        had = any(m.state == "sent" for m in mine)
        kind = kind_for(doc, r, had)
        kind = "revocation" if kind == "take-back" else kind
        first = next((m.ident for m in mine), None)
        domain = self.sender.address.rpartition("@")[2] or "lienthong.invalid"
        ident = f"<lienthong.{doc.id}.{r.id}.{doc.version}@{domain}>"
        message = OutgoingMessage(
            document=item.document,
            version=doc.version,
            kind=kind,
            document_key=doc.document_key,
            to_places=tuple(x.name or x.code for x in await self.ctx.store.recipients_of(doc.id)),
            main_attachment=item.main_attachment,
            reason=item.reason,
            built_at=dt.datetime.now(dt.UTC),
        )
        assert r.to is not None
        message = await self.ctx.loaded(message)
        data = self.sender.compose(message, to=r.to, message_id=ident, in_reply_to=first)
        mid = await self.ctx.store.keep_message(
            doc.id, doc.version, "mail", kind, [r.id], ident, data
        )
        return next(m for m in await self.ctx.store.messages_of(doc.id) if m.id == mid)


class InternalRoad:
    """Hands an outbox's internal recipients their document in their own inbound flow."""

    def __init__(self, ctx: OutboxContext, records_stored: Callable[[], None]) -> None:
        self.ctx = ctx
        self.records_stored = records_stored
        self.wake = asyncio.Event()
        self.hold: Hold | None = None  # the sending lease, when instances share the store

    async def run(self, stop: asyncio.Event) -> None:
        await run_loop(f"internal:{self.ctx.name}", self.send_due, stop, self.wake, hold=self.hold)

    async def send_due(self) -> int:
        store = self.ctx.store
        due = await store.recipients_in(
            "internal", ["queued"], due_by=time.time(), outbox=self.ctx.name
        )
        stored = False
        async with store.batch():  # one commit for the pass
            for r in due:
                stored = await self._deliver(r) or stored
        if stored:
            self.records_stored()
        return len(due)

    async def _deliver(self, r: OutRecipient) -> bool:
        store = self.ctx.store
        doc = await store.outgoing_doc_by_id(r.doc_id)
        if doc is None or doc.version != r.version or r.to is None:
            return False
        return await store.deliver_internal(
            internal_record(doc, r.to),
            Move(r.id, "sent", detail="vào luồng đến / into the inbound flow"),
            Move(r.id, "arrived", status_code=None, detail="đã lưu / stored"),
        )


def _read_internal(raw: RawRecord) -> Document:
    try:
        return Document.model_validate_json(raw.payload)
    except ValueError as exc:
        raise PermanentError(f"bản ghi nội bộ hỏng / broken internal record: {exc}") from None


def _read_file(data: bytes, name: str) -> RawRecord:
    raise PermanentError("hồ sơ nội bộ không đọc tệp / the internal profile reads no files")


INTERNAL_PROFILE = Profile(name=INTERNAL, to_document=_read_internal, read_file=_read_file)


def internal_id(doc: OutDoc) -> str:
    """The internal record's external id: the sending outbox and the home system's id."""
    return f"{doc.outbox}/{doc.home_id}"


def internal_record(doc: OutDoc, unit: str) -> RawRecord:
    """One version of an outgoing document as a record of the receiving unit's `internal`
    source: the document itself (its files already in the blob store), as a revision or
    revocation of the earlier ones after the first."""
    item = item_of(doc)
    document = item.document.model_copy(update={"revision": doc.version, "recipients": ()})
    ref = document_ref(doc)
    if doc.state in ("revoked", "recalled"):
        document = document.model_copy(
            update={
                "action": Action.REVOKE,
                "state": DocumentState.REVOKED,
                "target": ref,
                "reason": item.reason,
            }
        )
    elif doc.version > 1:
        document = document.model_copy(update={"action": Action.UPDATE, "target": ref})
    return RawRecord(
        source=INTERNAL,
        unit=unit,
        external_id=internal_id(doc),
        version=str(doc.version),
        media_type=INTERNAL_MEDIA,
        payload=document.model_dump_json().encode(),
        attachments=document.attachments,
        ack=None,
        received_at=dt.datetime.now(dt.UTC),
    )
