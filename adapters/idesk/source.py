"""The iDesk source: pulls GetIncomingDocuments page by page, confirms what was stored.

Attachments arrive inline as base64 and are decoded into the blob store before their page is
yielded. A document that cannot be read becomes an error record; so does a page that cannot
be read at all, which ends the pull (see `Cursor.after_unreadable_page` for when the cursor
moves past it). A PageIndex past 0 that comes back empty sends the pull back to PageIndex 0
at the same FromDate, once per pull, so nothing waiting behind a skipped page is missed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import AsyncGenerator, AsyncIterator
from functools import partial

import aiohttp
import structlog

from adapters._ahead import read_ahead
from adapters._fanout import Fetch, fetch_all
from adapters._http import (
    DEFAULT_RETRY,
    client_session,
    error_for_status,
    read_limited,
    request,
    retrying,
)
from adapters._session import SessionOwner
from adapters.idesk.cursor import Cursor, modified_second
from adapters.idesk.files import InlineFile, inline_files, store_file
from adapters.idesk.mapping import MEDIA_TYPE, missing_mandatory
from adapters.idesk.page import Item, read_page
from adapters.idesk.settings import IdeskSettings
from adapters.idesk.soap import (
    SERVICE_PATH,
    build_envelope,
    descendants,
    fault_error,
    parse_xml,
    soap_action,
    text_of,
)
from bridge.errors import PermanentError, TransientError
from bridge.interfaces import AdapterContext
from bridge.normalize import VN_TZ
from schemas import Page, RawRecord
from schemas.document import Attachment

log = structlog.get_logger(__name__)

STORE_CONCURRENCY = 8  # inline files decoded into the blob store at once, per source


class IdeskSource(SessionOwner):
    """An iDesk DocumentService as a pull `Source` for one unit (`ctx.units[0]`)."""

    def __init__(self, settings: IdeskSettings, ctx: AdapterContext) -> None:
        self.name = settings.name
        self.settings = settings
        self.ctx = ctx
        self.unit = ctx.units[0]
        self._url = settings.base_url.rstrip("/") + SERVICE_PATH
        self._stores = asyncio.Semaphore(STORE_CONCURRENCY)
        self.retry = DEFAULT_RETRY  # every call of this source goes through it

    def _open_session(self) -> aiohttp.ClientSession:
        return client_session(self.ctx, timeout_s=self.settings.timeout_s)

    async def check(self) -> None:
        """Sign in with an empty query (a FromDate in the future). Raises AuthError, ..."""
        tomorrow = dt.datetime.now(VN_TZ) + dt.timedelta(days=1)
        await self._call(
            "GetIncomingDocuments", self._query(tomorrow.strftime("%Y-%m-%dT%H:%M:%S"), 0, 1)
        )

    def pull(self, cursor: str | None) -> AsyncIterator[Page]:
        """Yield pages from `cursor` until `TotalRecord` is covered (or, without one, a short
        page says the source is caught up).

        An unreadable page is yielded as an error record whose cursor stays on it (read again
        next poll, see `Cursor.after_unreadable_page`); the pull goes on past it, reading the
        pages behind it with the cursor left where it is, so they flow now and are recognised
        as already stored when the page is read again. A second unreadable page in a row ends
        the pull.
        """
        return read_ahead(self._pages(cursor))

    async def _pages(self, cursor: str | None) -> AsyncGenerator[Page, None]:
        """The pages of `pull`, read one after the other (`read_ahead` runs them a page
        ahead of the pipeline)."""
        state = Cursor.load(cursor, self.settings.start_from)
        size = self.settings.page_size
        may_restart = state.page_index > 0
        ahead = False  # past an unreadable page: read on, but keep the stored cursor
        while True:
            query = self._query(state.from_date, state.page_index, size)
            try:
                page = read_page(data := await self._call("GetIncomingDocuments", query))
            except _Unreadable as exc:
                page, reason, data = None, exc.reason, exc.data
            except PermanentError as exc:
                page, reason = None, exc.reason
            if page is None:
                if ahead:
                    yield Page(records=(self._unreadable_record(state, reason, data),))
                    return
                error_page, after = self._unreadable_page(state, reason, data)
                yield error_page
                ahead = after.page_index == state.page_index
                state = Cursor(after.from_date, after.seen, state.page_index + 1)
                continue
            if not page.items and may_restart:
                may_restart, state = False, state.from_first_page()
                continue
            may_restart = False
            fresh = [i for i in page.items if not state.is_seen(i.document_id, i.modified)]
            records = await self._records(fresh)
            dated = [
                (item.document_id, second)
                for item in page.items
                if item.document_id and (second := modified_second(item.modified))
            ]
            # A server may answer fewer than PageSize documents a page (its own cap) while
            # TotalRecord counts them all: a short page is taken as that cap, so `covered`
            # errs low and at worst one more (empty) page is asked.
            covered = (state.page_index + 1) * len(page.items)
            has_more = len(page.items) >= size or (
                page.total is not None and covered < page.total and bool(page.items)
            )
            before, state = state, state.after_page(dated, is_full=has_more)
            (log.info if records else log.debug)(
                "idesk_page_read",
                source=self.name,
                records=len(records),
                total=page.total,
                is_salvaged=page.is_salvaged,
            )
            yield Page(records=tuple(records), cursor=None if ahead else state.dump())
            if not has_more or state == before:
                return

    async def acknowledge(self, record: RawRecord) -> None:
        """ConfirmReceived for the record's DocumentID. Idempotent; page errors have none."""
        if record.ack is None:
            return
        fields = [*self._credentials(), ("DocumentID", record.ack), ("UnitCode", record.unit)]
        root = parse_xml(await self._call("ConfirmReceived", fields))
        result = next(descendants(root, "ConfirmReceivedResult"), None)
        if (text_of(result) or "").strip().lower() != "true":
            raise TransientError(
                "iDesk không xác nhận đã nhận / ConfirmReceived did not answer true"
            )

    def _credentials(self) -> list[tuple[str, str]]:
        return [
            ("Username", self.settings.username),
            ("Password", self.settings.password.get_secret_value()),
        ]

    def _query(self, from_date: str, page_index: int, size: int) -> list[tuple[str, str]]:
        return [
            *self._credentials(),
            ("UnitCode", self.unit),
            ("FromDate", from_date),
            ("PageIndex", str(page_index)),
            ("PageSize", str(size)),
        ]

    async def _call(self, operation: str, fields: list[tuple[str, str]]) -> bytes:
        """POST one operation under the retry policy; the answer's bytes. Faults and HTTP
        errors are mapped (a soap:Server fault, 5xx or 429 is retried)."""
        what = f"idesk {operation}"
        return await retrying(
            partial(self._call_once, operation, fields, what), what=what, policy=self.retry
        )

    async def _call_once(self, operation: str, fields: list[tuple[str, str]], what: str) -> bytes:
        if self._session is None:
            raise RuntimeError("IdeskSource used outside 'async with'")
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": soap_action(operation),
        }
        body = build_envelope(operation, fields)
        async with request(
            self._session, "POST", self._url, what=what, check=False, data=body, headers=headers
        ) as resp:
            try:
                data = await read_limited(resp, self.ctx.limits.max_page_bytes, what)
            except PermanentError as exc:
                raise _Unreadable(exc.reason, b"") from exc
            status, retry_after = resp.status, resp.headers.get("Retry-After")
        if status >= 400 or b"Fault" in data[:4096]:
            _raise_for_answer(status, data, what, retry_after)
        return data

    async def _records(self, items: list[Item]) -> list[RawRecord]:
        """The records of `items`, in order, their inline files decoded into the blob store.

        The files of all the items are stored together, a few at once so their fsyncs
        overlap (see adapters._fanout); a broken or oversized file makes its record an error
        record.
        """
        planned = [self._plan(item) for item in items]
        fetches = [
            Fetch(position, partial(self._store_file, file))
            for position, files in enumerate(planned)
            if isinstance(files, list)
            for file in files
        ]
        stored = await fetch_all(fetches, self._stores)
        return [
            self._finish(item, files if isinstance(files, str) else stored.get(position, []))
            for position, (item, files) in enumerate(zip(items, planned, strict=True))
        ]

    def _plan(self, item: Item) -> list[InlineFile] | str:
        """The item's inline files, or why it cannot be read."""
        if item.error is not None or item.element is None:
            return item.error or "Document không đọc được / unreadable"
        reason = missing_mandatory(item.element)
        if reason is None and modified_second(item.modified) is None:
            reason = "thiếu hoặc sai 'ModifiedDate' / missing or invalid 'ModifiedDate'"
        if reason is not None:
            return reason
        try:
            return inline_files(item.element)
        except PermanentError as exc:
            return exc.reason

    def _finish(self, item: Item, stored: list[Attachment] | PermanentError | str) -> RawRecord:
        if isinstance(stored, str):
            return self._error_record(item, stored)
        if isinstance(stored, PermanentError):
            return self._error_record(item, stored.reason)
        return self._raw(item, attachments=tuple(stored))

    async def _store_file(self, file: InlineFile) -> Attachment:
        cap = self.ctx.limits.max_inline_attachment_bytes
        return await store_file(file, self.ctx.blobs, cap)

    def _raw(
        self, item: Item, *, attachments: tuple[Attachment, ...] = (), error: str | None = None
    ) -> RawRecord:
        digest = hashlib.sha256(item.payload).hexdigest()
        return RawRecord(
            source=self.name,
            unit=self.unit,
            external_id=item.document_id or f"doc:{digest[:16]}",
            version=item.modified or f"sha256:{digest[:16]}",
            media_type=MEDIA_TYPE,
            payload=item.payload,
            attachments=attachments,
            ack=item.document_id,
            error=error,
            received_at=dt.datetime.now(VN_TZ),
        )

    def _error_record(self, item: Item, reason: str) -> RawRecord:
        log.warning(
            "idesk_record_unreadable", source=self.name, record=item.document_id, reason=reason
        )
        return self._raw(item, error=reason)

    def _unreadable_page(self, state: Cursor, reason: str, data: bytes) -> tuple[Page, Cursor]:
        """The error record of an unreadable page, with the cursor that reads it again (or
        steps past it once it stayed unreadable); and that cursor."""
        record = self._unreadable_record(state, reason, data)
        after = state.after_unreadable_page()
        if after.page_index != state.page_index:
            log.warning("idesk_page_stepped_over", source=self.name, page=state.page_index)
        return Page(records=(record,), cursor=after.dump()), after

    def _unreadable_record(self, state: Cursor, reason: str, data: bytes) -> RawRecord:
        where = f"{state.from_date}#{state.page_index}"
        digest = hashlib.sha256(data or where.encode()).hexdigest()
        log.warning("idesk_page_unreadable", source=self.name, page=state.page_index, reason=reason)
        return RawRecord(
            source=self.name,
            unit=self.unit,
            external_id=f"page:{digest[:16]}",
            version=where,
            media_type=MEDIA_TYPE,
            payload=data,
            error=reason,
            received_at=dt.datetime.now(VN_TZ),
        )


class _Unreadable(PermanentError):
    """An answer refused before parsing (too large), with whatever bytes were kept."""

    def __init__(self, reason: str, data: bytes) -> None:
        super().__init__(reason)
        self.data = data


def _raise_for_answer(status: int, data: bytes, what: str, retry_after: str | None) -> None:
    """Raise the error a SOAP Fault or an HTTP error status stands for; return if neither."""
    try:
        error = fault_error(parse_xml(data), status)
    except PermanentError:
        error = None
    if error is not None:
        raise error
    if status >= 400:
        raise error_for_status(status, what, "", retry_after)
