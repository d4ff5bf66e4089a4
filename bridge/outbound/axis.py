"""The axis road: one `sendEdoc` per document version for all its axis recipients, the edXML
file kept before the first attempt and sent unchanged on every retry; after an answer that
never came (or a crash mid-send) the node's `getSentEdocList` is asked first.

A message is `pending` until an attempt starts and `sending` until its answer is kept, so a
message found `sending` is ambiguous: it is looked for (by its DocumentId and
BussinessDocType, stored since its first attempt) before it is sent again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

import structlog

from bridge.domain.outgoing import Move, OutDoc, OutMessage, OutRecipient
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AmbiguousSendError, AxisRefusedError, AxisSender, OutgoingMessage
from bridge.outbound.common import (
    Hold,
    OutboxContext,
    item_of,
    kind_for,
    run_loop,
)

log = structlog.get_logger(__name__)
BUSSINESS = {"new": 0, "revocation": 1, "update": 2}
LOOK_MARGIN = dt.timedelta(minutes=2)  # clocks of the node and the bridge may differ a little
SENDS_IN_FLIGHT = 4  # documents sent at once (each its own message)
TakeBack = Callable[[OutDoc, OutRecipient, str], Awaitable[None]]


class AxisRoad:
    """Sends an outbox's axis recipients through its unit's node."""

    def __init__(
        self, ctx: OutboxContext, sender: AxisSender, take_back: TakeBack | None = None
    ) -> None:
        self.ctx = ctx
        self.sender = sender
        self.take_back = take_back
        self.wake = asyncio.Event()
        self.hold: Hold | None = None  # the sending lease, when instances share the store

    async def run(self, stop: asyncio.Event) -> None:
        await run_loop(
            f"axis:{self.ctx.name}", self.send_due, stop, self.wake, self.ctx.health, hold=self.hold
        )

    async def send_due(self) -> int:
        """One pass over the due axis recipients; how many messages were tried."""
        store = self.ctx.store
        due = await store.recipients_in(
            "axis", ["queued"], due_by=time.time(), outbox=self.ctx.name
        )
        groups: dict[tuple[int, int], list[OutRecipient]] = defaultdict(list)
        for r in due:
            groups[(r.doc_id, r.version)].append(r)
        slots = asyncio.Semaphore(SENDS_IN_FLIGHT)
        tried = [0]

        async def one(doc_id: int, version: int, rs: list[OutRecipient]) -> None:
            async with slots:
                doc = await store.outgoing_doc_by_id(doc_id)
                if doc is None or doc.version != version:
                    return  # a later version was taken meanwhile: it moved them
                tried[0] += await self._send_version(doc, rs)

        await asyncio.gather(*(one(d, v, rs) for (d, v), rs in groups.items()))
        return tried[0]

    async def _send_version(self, doc: OutDoc, due: list[OutRecipient]) -> int:
        store = self.ctx.store
        messages = await store.messages_of(doc.id)
        had = {
            rid for m in messages if m.road == "axis" and m.state == "sent" for rid in m.recipients
        }
        kinds: dict[str, list[OutRecipient]] = defaultdict(list)
        for r in due:
            kinds[kind_for(doc, r, r.id in had and r.version > 1)].append(r)
        tried = 0
        for kind, rs in kinds.items():
            if kind == "take-back":
                await self._take_back(doc, rs)
                continue
            open_ = [
                m
                for m in messages
                if m.road == "axis"
                and m.version == doc.version
                and m.kind == kind
                and m.state in ("pending", "sending")
                and set(m.recipients) & {r.id for r in rs}
            ]
            for m in open_:
                tried += 1
                await self._attempt(doc, m, messages)
            covered = {rid for m in open_ for rid in m.recipients}
            rest = [r for r in rs if r.id not in covered]
            if rest:
                m = await self._compose(doc, kind, rest)
                tried += 1
                await self._attempt(doc, m, messages)
        return tried

    async def _compose(self, doc: OutDoc, kind: str, rs: list[OutRecipient]) -> OutMessage:
        item = item_of(doc)
        built = dt.datetime.now(dt.UTC)
        message = OutgoingMessage(
            document=item.document,
            version=doc.version,
            kind=kind,
            document_key=doc.document_key,
            to_places=tuple(r.name or r.code for r in await self.ctx.store.recipients_of(doc.id)),
            main_attachment=item.main_attachment,
            reason=item.reason,
            built_at=built,
        )
        message = await self.ctx.loaded(message)
        data = self.sender.compose(message, [r.to or r.code for r in rs])
        mid = await self.ctx.store.keep_message(
            doc.id, doc.version, "axis", kind, [r.id for r in rs], doc.document_key, data
        )
        (kept,) = [m for m in await self.ctx.store.messages_of(doc.id) if m.id == mid]
        return kept

    async def _attempt(self, doc: OutDoc, m: OutMessage, known: list[OutMessage]) -> None:
        store = self.ctx.store
        if m.state == "sending" and await self._found_sent(doc, m, known):
            return
        await store.message_started(m.id)
        try:
            doc_id = await self.sender.send_edoc(from_organ=self.ctx.unit, file=m.data)
        except AxisRefusedError as exc:
            await self._refused(doc, m, exc)
            return
        except AmbiguousSendError as exc:  # stays `sending`: looked for before the next try
            await self._retry_later(m, f"không rõ đã gửi / ambiguous: {exc}", exc)
            return
        except (TransientError, AuthError) as exc:  # not stored: the same bytes again later
            await store.message_ended(m.id, "pending")
            await self._retry_later(m, exc.reason, exc)
            return
        except PermanentError as exc:  # the file or the sender is not acceptable
            await store.message_ended(m.id, "refused")
            for r in await self._recipients(m):
                await self.ctx.fail_over(doc, r, exc.reason)
            return
        await self._sent(m, doc_id)

    async def _found_sent(self, doc: OutDoc, m: OutMessage, known: list[OutMessage]) -> bool:
        """Whether the node stored `m` although its answer was lost (then it is marked sent)."""
        assert m.first_at is not None
        since = dt.datetime.fromisoformat(m.first_at) - LOOK_MARGIN
        try:
            entries = await self.sender.sent_edocs(since=since)
        except TransientError as exc:
            await self._retry_later(m, exc.reason, exc)
            raise
        others = {x.remote_id for x in known if x.remote_id and x.id != m.id}
        hits = [
            e
            for e in entries
            if e.sender_doc_id == doc.document_key
            and e.bussiness_doc_type == BUSSINESS.get(m.kind)
            and e.doc_id not in others
        ]
        if not hits:
            return False
        log.info("outgoing_found_sent", outbox=self.ctx.name, doc_id=hits[0].doc_id)
        await self._sent(m, hits[0].doc_id)
        return True

    async def _sent(self, m: OutMessage, doc_id: str) -> None:
        store = self.ctx.store
        async with store.batch():  # one commit: the answer kept and the recipients moved
            await store.message_ended(m.id, "sent", doc_id)
            await store.note_attempt(m.recipients, m.id, "axis", None)
            await store.move(*(Move(rid, "sent", detail=f"DocId {doc_id}") for rid in m.recipients))
        self.ctx.health.succeeded()

    async def _refused(self, doc: OutDoc, m: OutMessage, exc: AxisRefusedError) -> None:
        """18 or 23: none stored; the refused recipients take their next road, the others
        go in a new message without them."""
        store = self.ctx.store
        await store.message_ended(m.id, "refused")
        for r in await self._recipients(m):
            code = exc.refused.get(r.to or r.code)
            if code is not None:
                reason = f"Trục từ chối ({code}): {exc.description}"
                await self.ctx.fail_over(doc, r, reason)
            else:
                await store.note_attempt([r.id], m.id, "axis", f"gửi lại riêng / resend: {exc}")

    async def _retry_later(self, m: OutMessage, error: str, exc: BaseException) -> None:
        rs = await self._recipients(m)
        attempts = max((r.attempts for r in rs), default=0)
        await self.ctx.store.note_attempt(
            m.recipients, m.id, "axis", error, self.ctx.retry_at(attempts, exc)
        )
        if isinstance(exc, TransientError | AuthError):
            self.ctx.health.failed(exc)

    async def _recipients(self, m: OutMessage) -> list[OutRecipient]:
        found = [await self.ctx.store.recipient(rid) for rid in m.recipients]
        return [r for r in found if r is not None and r.road == "axis" and r.state == "queued"]

    async def _take_back(self, doc: OutDoc, rs: list[OutRecipient]) -> None:
        """A recalled document: status 13 to each axis recipient that has it."""
        item = item_of(doc)
        reason = item.reason or "Lấy lại văn bản gửi nhầm"
        for r in rs:
            if self.take_back is None:
                await self.ctx.fail_over(doc, r, "không gửi được mã 13 / no status sender")
                continue
            try:
                await self.take_back(doc, r, reason)
            except (TransientError, AuthError) as exc:
                await self.ctx.store.note_attempt(
                    [r.id], None, "axis", exc.reason, self.ctx.retry_at(r.attempts, exc)
                )
                continue
            await self.ctx.store.move(Move(r.id, "sent", detail=f"13: {reason}"))
