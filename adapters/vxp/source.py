"""The bridge as a node of the vxp axis: pulls documents and status messages for its units,
acknowledges them with `updateStatus`, and sends business status back with `sendEdoc`.

The node's pending list is the cursor: an item stays pending until `updateStatus` says `done`
or `fail`, so `pull` always reads everything pending (oldest first) and a bridge that crashes
before acknowledging reads the message again. Messages are fetched a few at a time
(`FETCH_GROUP`) and each group is one page, stored in one transaction while the next group is
fetched: a backlog on the axis costs a commit and a flush per group, not per message.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import datetime as dt
import functools
import hashlib
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import Any, Self, TypeVar

import structlog

from adapters._ahead import read_ahead
from adapters._http import SINGLE_TRY, RetryPolicy
from adapters._records import stored_file
from adapters._session import AsyncResource
from adapters.vxp.client import VxpClient
from adapters.vxp.edxml import EdxmlError, emit_status, parse_message
from adapters.vxp.mapping import (
    DOCUMENT_MEDIA_TYPE,
    STATUS_MEDIA_TYPE,
    decode_inline,
    describe_attachments,
    format_document_id,
)
from adapters.vxp.message import (
    EdxmlMessage,
    OrganInfo,
    ResponseFor,
    StaffInfo,
    StatusMessage,
)
from adapters.vxp.settings import VxpSettings
from bridge.errors import PermanentError
from bridge.interfaces import AdapterContext
from bridge.normalize import VN_TZ
from schemas import Attachment, DocumentRef, Organ, Page, RawRecord

log = structlog.get_logger(__name__)

SEND_CODES = frozenset({"01", "02", "03", "04", "05", "06", "13", "15", "16"})  # 13: take-back
NO_UNIT = "không gửi cho đơn vị nào của cầu nối / addressed to none of the bridge's units"
_FAIL_PREFIX = "fail:"
_ACKED_REMEMBERED = 10_000
INLINE_BYTES = 256 * 1024  # messages and attachments up to this size are read on the loop
FETCH_GROUP = 8  # messages fetched at once, and stored as one page
T = TypeVar("T")


class VxpSource(AsyncResource):
    """Source of every unit in `ctx.units` served by one axis node (base_url + system_id)."""

    def __init__(self, settings: VxpSettings, ctx: AdapterContext) -> None:
        self.name = settings.name
        self._ctx = ctx
        self._client = VxpClient(settings, ctx)
        self._acked: OrderedDict[str, None] = OrderedDict()
        self._acking: dict[str, asyncio.Task[None]] = {}  # updateStatus under way, by docId

    async def __aenter__(self) -> Self:
        await self._client.__aenter__()
        return self

    def serve_units(self, units: tuple[str, ...]) -> None:
        """Serve `units` from the next message on (units added or disabled by a reload)."""
        self._ctx = dataclasses.replace(self._ctx, units=units)

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy of every call to the node (its client's)."""
        return self._client.retry

    @retry.setter
    def retry(self, policy: RetryPolicy) -> None:
        self._client.retry = policy

    async def _release(self) -> None:
        await self._client.__aexit__(None, None, None)

    async def check(self) -> None:
        """A signed, read-only call (the status list). Raises AuthError, TransientError."""
        await self._list("status")

    async def pull(self, cursor: str | None) -> AsyncIterator[Page]:
        """Yield the pending messages, documents first, then status messages, `FETCH_GROUP`
        to a page (in the node's order), the next group fetched while a page is stored.

        `cursor` is ignored and every page's cursor is None: pending-until-acknowledged is the
        cursor. Raises TransientError, AuthError (after a page of the messages of its group
        fetched before the one that failed).
        """
        async for page in read_ahead(self._pages()):
            yield page

    async def _pages(self) -> AsyncGenerator[Page, None]:
        for message_type in ("edoc", "status"):
            items = await self._list(message_type)
            if isinstance(items, RawRecord):
                yield Page(records=(items,))
                continue
            for start in range(0, len(items), FETCH_GROUP):
                group = items[start : start + FETCH_GROUP]
                fetched = await asyncio.gather(
                    *(self._fetch(i) for i in group), return_exceptions=True
                )
                records: list[RawRecord] = []
                failure = None
                for one in fetched:
                    if isinstance(one, BaseException):
                        failure = one
                        break
                    records.extend(one)
                if records:
                    yield Page(records=tuple(records))
                if failure is not None:
                    raise failure

    async def acknowledge(self, record: RawRecord) -> None:
        """`updateStatus(done)` once per docId (`fail` for a message for none of our units).

        Idempotent: several records of one message share the docId and only the first call goes
        out; a node that no longer knows the docId (acknowledged before a restart) is harmless.
        """
        if record.ack is None:
            return
        status, doc_id = "done", record.ack
        if doc_id.startswith(_FAIL_PREFIX):
            status, doc_id = "fail", doc_id[len(_FAIL_PREFIX) :]
        if doc_id in self._acked:
            return
        under_way = self._acking.get(doc_id)
        if under_way is None:  # receipts of different messages go out side by side
            under_way = asyncio.ensure_future(self._update_status(doc_id, status))
            self._acking[doc_id] = under_way
            under_way.add_done_callback(functools.partial(self._acked_or_failed, doc_id, status))
        await asyncio.shield(under_way)  # a second record of the message waits for the first

    def _acked_or_failed(self, doc_id: str, status: str, task: asyncio.Future[None]) -> None:
        """The receipt call ended. Its failure reaches every record awaiting it (the source
        runner keeps the record unacknowledged and sends it again); it is also logged here, so
        one whose waiters were all cancelled (a stop mid-page) is never lost unseen."""
        self._acking.pop(doc_id, None)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("vxp_ack_failed", doc_id=doc_id, status=status, error=repr(exc))

    async def _update_status(self, doc_id: str, status: str) -> None:
        try:
            await self._client.call("updateStatus", {"docId": doc_id, "status": status})
        except PermanentError as exc:
            log.warning("vxp_ack_refused", doc_id=doc_id, status=status, reason=exc.reason)
        self._acked[doc_id] = None
        while len(self._acked) > _ACKED_REMEMBERED:
            self._acked.popitem(last=False)
        log.debug("vxp_acknowledged", doc_id=doc_id, status=status)

    async def send_status(
        self,
        *,
        from_organ: str,
        to_document: DocumentRef,
        to_organ: Organ,
        code: str,
        description: str,
        staff: str | None = None,
    ) -> str:
        """Send business status `code` about `to_document` to its sender; return the DocId.

        Raises ValueError for a code we never send, AuthError, TransientError, PermanentError.
        Not idempotent: each call is one more status message on the axis.
        """
        if code not in SEND_CODES:
            raise ValueError(f"unknown vxp status code {code!r}")
        now = dt.datetime.now(VN_TZ)
        message = StatusMessage(
            sender=OrganInfo(organ_id=from_organ),
            response_for=ResponseFor(
                organ_id=to_organ.code or to_document.issuer.code,
                code="/".join(p for p in (to_document.number, to_document.notation) if p),
                promulgation_date=(
                    to_document.issued_on.strftime("%Y/%m/%d") if to_document.issued_on else None
                ),
                document_id=format_document_id(to_document),
            ),
            status_code=code,
            description=description,
            timestamp=now.strftime("%Y/%m/%d %H:%M:%S"),
            staff=StaffInfo(staff=staff) if staff else None,
        )
        params = {"from": from_organ, "servicetype": "eDoc", "messagetype": "status"}
        # One try: the status relay keeps each message's own backoff, and a message the node
        # refuses must not hold the messages behind it for a whole retry budget.
        answer = await self._client.call(
            "sendEdoc", params, file_doc=emit_status(message), policy=SINGLE_TRY
        )
        doc_id = str(answer.get("DocId") or answer.get("docId") or "")
        log.debug("vxp_status_sent", doc_id=doc_id, code=code, from_organ=from_organ)
        return doc_id

    async def _list(self, message_type: str) -> list[Mapping[str, Any]] | RawRecord:
        params = {"servicetype": "eDoc", "messagetype": message_type}
        answer = await self._client.call("getReceivedEdocList", params)
        data = answer.get("data")
        if not isinstance(data, list):
            payload = repr(data).encode("utf-8")
            return self._error(
                f"page:{hashlib.sha256(payload).hexdigest()[:16]}",
                payload,
                "danh sách chờ không đọc được / pending list unreadable",
                self._ctx.units[:1],
            )[0]
        items = [i for i in data if isinstance(i, Mapping) and isinstance(i.get("docId"), str)]
        if len(items) != len(data):
            log.warning("vxp_list_items_skipped", count=len(data) - len(items))
        return items

    async def _fetch(self, item: Mapping[str, Any]) -> list[RawRecord]:
        doc_id = str(item["docId"])
        listed = self._listed_units(item)
        try:
            answer = await self._client.call("getEdoc", {"docId": doc_id})
            payload = base64.b64decode(str(answer.get("data") or ""), validate=True)
        except PermanentError as exc:
            return self._error(doc_id, b"", exc.reason, listed)
        except (binascii.Error, ValueError):
            reason = "nội dung getEdoc không phải base64 / getEdoc data is not base64"
            return self._error(doc_id, b"", reason, listed)
        try:
            message = await _sized(len(payload), parse_message, payload)
        except EdxmlError as exc:
            return self._error(doc_id, payload, str(exc), listed)
        if isinstance(message, StatusMessage):
            return [self._status_record(doc_id, payload, message, listed)]
        return await self._document_records(doc_id, payload, message)

    async def _document_records(
        self, doc_id: str, payload: bytes, message: EdxmlMessage
    ) -> list[RawRecord]:
        named = dict.fromkeys((r.organ_id or "").strip() for r in message.recipients)
        units = list(dict.fromkeys(u for u in map(self._ctx.unit_for, named) if u is not None))
        if not units:
            log.warning("vxp_message_for_no_unit", doc_id=doc_id, to=list(named))
            return self._error(doc_id, payload, NO_UNIT, self._ctx.units[:1], fail=True)
        try:
            attachments = await self._store(message)
        except PermanentError as exc:
            return self._error(doc_id, payload, exc.reason, tuple(units))
        log.debug("vxp_message_fetched", doc_id=doc_id, units=units, files=len(attachments))
        return [
            self._record(doc_id, unit, payload, DOCUMENT_MEDIA_TYPE, attachments) for unit in units
        ]

    def _status_record(
        self, doc_id: str, payload: bytes, message: StatusMessage, listed: tuple[str, ...]
    ) -> RawRecord:
        organ = (message.response_for.organ_id or "").strip()
        unit = self._ctx.unit_for(organ) or (listed or self._ctx.units)[0]
        log.info("vxp_status_fetched", doc_id=doc_id, unit=unit, code=message.status_code)
        return self._record(doc_id, unit, payload, STATUS_MEDIA_TYPE, ())

    async def _store(self, message: EdxmlMessage) -> tuple[Attachment, ...]:
        """Decode each inline attachment once, into the blob store (PermanentError if hostile)."""
        cap = self._ctx.limits.max_inline_attachment_bytes
        stored = []
        for item, name, content_type in describe_attachments(message):
            data = await _sized(len(item.encoded), decode_inline, item, cap)
            blob = await self._ctx.blobs.put_bytes(data, max_bytes=cap)
            stored.append(stored_file(name, content_type, blob))
        return tuple(stored)

    def _listed_units(self, item: Mapping[str, Any]) -> tuple[str, ...]:
        """Our units among the list item's `to` (a list, or a string joined by ',' or ';')."""
        to = item.get("to")
        names = to if isinstance(to, list) else str(to or "").replace(";", ",").split(",")
        found = (self._ctx.unit_for(str(n).strip()) for n in names)
        return tuple(dict.fromkeys(u for u in found if u is not None))

    def _record(
        self,
        doc_id: str,
        unit: str,
        payload: bytes,
        media_type: str,
        attachments: tuple[Attachment, ...],
    ) -> RawRecord:
        return RawRecord(
            source=self.name,
            unit=unit,
            external_id=doc_id,
            version="1",
            media_type=media_type,
            payload=payload,
            attachments=attachments,
            ack=doc_id,
            received_at=dt.datetime.now(dt.UTC),
        )

    def _error(
        self,
        external_id: str,
        payload: bytes,
        reason: str,
        units: tuple[str, ...],
        *,
        fail: bool = False,
    ) -> list[RawRecord]:
        """Error records, one per unit (the first configured unit when none is known)."""
        log.warning("vxp_record_unreadable", external_id=external_id, reason=reason)
        is_page = external_id.startswith("page:")
        ack = None if is_page else (f"{_FAIL_PREFIX}{external_id}" if fail else external_id)
        return [
            RawRecord(
                source=self.name,
                unit=unit,
                external_id=external_id,
                version="1",
                media_type=DOCUMENT_MEDIA_TYPE,
                payload=payload,
                ack=ack,
                error=reason,
                received_at=dt.datetime.now(dt.UTC),
            )
            for unit in (units or self._ctx.units[:1])
        ]


async def _sized(size: int, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` on the event loop when its input is at most INLINE_BYTES (a small message
    parses, a small attachment decodes, in less time than a hand-over to a thread and back);
    in a worker thread when larger."""
    if size <= INLINE_BYTES:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)
