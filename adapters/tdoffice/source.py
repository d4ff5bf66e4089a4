"""The tdoffice source: pulls the inbox by opaque cursor and accepts signed document webhooks.

The outbox (`TdofficeOutbox`, adapters/tdoffice/outbox.py) reads the outgoing log the same way:
the log's path, the events it takes and the records' media type are class attributes here.

Every attachment is streamed into the blob store, its SHA-256 checked, before the record that
names it is handed over. tdoffice has no receipt call: the stored cursor is the acknowledgement.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from functools import partial
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
import structlog
from pydantic import ValidationError

from adapters._ahead import read_ahead
from adapters._fanout import Fetch, fetch_all
from adapters._http import DEFAULT_RETRY, client_session, download_to_blob, fetch, read_limited
from adapters._records import stored_file
from adapters._session import SessionOwner
from adapters.tdoffice import webhook
from adapters.tdoffice.settings import TdofficeOutboxSettings, TdofficeSourceSettings
from adapters.tdoffice.wire import WireAttachment, load_object
from bridge.errors import AuthError, PermanentError
from bridge.interfaces import AdapterContext
from schemas import Attachment, Page, RawRecord

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/json"
INBOX_PATH = "/api/v2/documents/inbox"
FILES_PATH = "/api/v2/files/"
# the document events of the inbox, each with the `state` it implies (None: as the data says)
DOCUMENT_EVENTS: Mapping[str, str | None] = {
    "document.created": None,
    "document.updated": None,
    "document.revoked": "revoked",
}


def _version(value: Any, payload: bytes) -> str:
    """`version` as a string; without one, the content hash, so that a changed record is new."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return "sha256:" + hashlib.sha256(payload).hexdigest()[:16]


def _document_id(item: Any) -> str | None:
    document_id = item.get("documentId") if isinstance(item, dict) else None
    return document_id if isinstance(document_id, str) and document_id.strip() else None


def _declared_files(item: Any) -> list[Any]:
    """The attachment entries of a record worth fetching (a wrong-typed list is left to the
    mapper to reject)."""
    if _document_id(item) is None:
        return []
    declared = item.get("attachments")
    return declared if isinstance(declared, list) else []


class TdofficeSource(SessionOwner):
    """Pull and push source for one unit's tdoffice inbox. An async context manager."""

    log_path = INBOX_PATH
    log_what = "tdoffice inbox"
    page_what = "trang hộp thư đến / inbox page"
    media_type = MEDIA_TYPE
    events = DOCUMENT_EVENTS

    def __init__(
        self, settings: TdofficeSourceSettings | TdofficeOutboxSettings, ctx: AdapterContext
    ) -> None:
        self.name = settings.name
        self._settings = settings
        self._ctx = ctx
        self._unit = ctx.units[0]
        # one bound for every download of this source, however many records a page holds
        self._downloads = asyncio.Semaphore(settings.download_concurrency)
        # A webhook's files have slots of their own: never queued behind a page of the pull.
        self._push_downloads = asyncio.Semaphore(settings.download_concurrency)
        self.retry = DEFAULT_RETRY  # every call of this source goes through it

    def _open_session(self) -> aiohttp.ClientSession:
        return client_session(
            self._ctx,
            timeout_s=self._settings.timeout_s,
            headers={"X-API-Key": self._settings.api_key.get_secret_value()},
        )

    async def check(self) -> None:
        """Read one log item (the cursor lives with us, so this moves nothing)."""
        await self._get_log(None, limit=1)

    def pull(self, cursor: str | None) -> AsyncIterator[Page]:
        """Yield log pages after `cursor` (the last non-null `nextCursor`) until caught up.

        A page whose body is not JSON at all cannot be skipped (only the server knows the
        next cursor): it is yielded once as an error record with the cursor unmoved, and the
        pull ends so the next poll tries again. Raises TransientError, AuthError.
        """
        return read_ahead(self._pages(cursor))

    async def _pages(self, cursor: str | None) -> AsyncGenerator[Page, None]:
        """The pages of `pull`, read one after the other (`read_ahead` runs them a page
        ahead of the pipeline)."""
        position = cursor
        while True:
            raw = await self._get_log(position, limit=self._settings.page_size)
            try:
                body = load_object(raw, self.page_what)
            except PermanentError as exc:
                yield Page(records=(self._error_record("page", raw, exc.reason),))
                return
            next_cursor = body.get("nextCursor")
            if not isinstance(next_cursor, str) or not next_cursor:
                next_cursor = None
            records = await self._page_records(body.get("data"), raw)
            if not records and next_cursor in (None, position):
                return  # caught up: call again later with the stored cursor
            (log.info if records else log.debug)(
                "log_page_read", source=self.name, records=len(records), log=self.log_what
            )
            yield Page(records=records, cursor=next_cursor)
            if next_cursor is None or next_cursor == position:
                return  # a full page without a cursor breaks the profile; never spin on it
            position = next_cursor

    async def acknowledge(self, record: RawRecord) -> None:
        """Nothing to do: tdoffice has no receipt call; the stored cursor acknowledges."""

    async def accept_push(self, headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
        """Verify and read one webhook; document events become one record each.

        The event id goes in `ack` so the pipeline can drop repeats; a repeat also has the same
        (source, documentId, version). Attachments are stored first, as for pull. Raises
        AuthError (bad signature, stale timestamp, push not enabled), PermanentError (body
        unreadable), TransientError (a file could not be fetched now).
        """
        secret = self._settings.webhook_secret
        if secret is None:
            raise AuthError("nguồn này chưa bật webhook / push is not enabled for this source")
        webhook.verify(secret.get_secret_value(), headers, body)
        event = load_object(body, "sự kiện webhook / webhook event")
        kind = event.get("event")
        if not isinstance(kind, str) or kind not in self.events:
            log.info("push_event_ignored", source=self.name, kind=str(kind)[:40])
            return []
        data = event.get("data")
        if not isinstance(data, dict):
            raise PermanentError("sự kiện không có 'data' / event without a 'data' object")
        state = self.events[kind]
        if state is not None and data.get("state") != state:
            # the event says what happened even when a sender forgets to flip `state`
            data = {**data, "state": state}
        ack = webhook.header(headers, webhook.EVENT_ID_HEADER)
        return list(await self._records([data], ack=ack, slots=self._push_downloads))

    async def _get_log(self, cursor: str | None, *, limit: int) -> bytes:
        params = {"limit": str(limit)}
        if cursor is not None:
            params["cursor"] = cursor
        url = self._settings.base_url + self.log_path
        what = self.log_what

        async def read(resp: aiohttp.ClientResponse) -> bytes:
            try:
                return await read_limited(resp, self._ctx.limits.max_page_bytes, what)
            except PermanentError:
                # a marker stands in for an oversized body: it fails to parse and is reported
                # like any unreadable page
                return b"<oversized page>"

        return await fetch(
            self.session, "GET", url, what=what, read=read, params=params, policy=self.retry
        )

    async def _page_records(self, data: Any, raw: bytes) -> tuple[RawRecord, ...]:
        if not isinstance(data, list):
            reason = "trang không có danh sách 'data' / page without a 'data' list"
            return (self._error_record("page", raw, reason),)
        return await self._records(data)

    async def _records(
        self,
        items: list[Any],
        *,
        ack: str | None = None,
        slots: asyncio.Semaphore | None = None,
    ) -> tuple[RawRecord, ...]:
        """The records of `items`, every declared file streamed into the blob store first.

        The files of all the items download together, bounded by `download_concurrency`
        (see adapters._fanout): a missing id, bad hash or oversized file makes its record an
        error record; a TransientError fails the whole call.
        """
        fetches = [
            Fetch(position, partial(self._store_attachment, entry))
            for position, item in enumerate(items)
            for entry in _declared_files(item)
        ]
        stored = await fetch_all(fetches, slots or self._downloads)
        return tuple(
            self._record(item, stored.get(position, []), ack=ack)
            for position, item in enumerate(items)
        )

    def _record(
        self, item: Any, stored: list[Attachment] | PermanentError, *, ack: str | None
    ) -> RawRecord:
        payload = orjson.dumps(item)
        document_id = _document_id(item)
        if document_id is None:
            reason = "bản ghi không có 'documentId' / record without a 'documentId'"
            return self._error_record("item", payload, reason)
        attachments: tuple[Attachment, ...] = ()
        error = None
        if isinstance(stored, PermanentError):
            error = stored.reason
            log.warning("record_unreadable", source=self.name, record=document_id, reason=error)
        else:
            attachments = tuple(stored)
        return RawRecord(
            source=self.name,
            unit=self._unit,
            external_id=document_id,
            version=_version(item.get("version"), payload),
            media_type=self.media_type,
            payload=payload,
            attachments=attachments,
            ack=ack,
            error=error,
            received_at=dt.datetime.now(dt.UTC),
        )

    async def _store_attachment(self, entry: Any) -> Attachment:
        """Stream one declared file into the blob store, its SHA-256 checked. Raises
        PermanentError (entry malformed, bad hash, too large), TransientError."""
        try:
            att = WireAttachment.model_validate(entry)
        except ValidationError:
            raise PermanentError("tệp đính kèm mô tả sai / malformed attachment entry") from None
        if not att.file_id or not att.sha256:
            raise PermanentError(
                f"tệp '{att.name[:80]}' thiếu fileId hoặc sha256 / "
                "attachment without fileId or sha256"
            )
        url = self._settings.base_url + FILES_PATH + quote(att.file_id, safe="")
        blob, resp = await download_to_blob(
            self.session,
            url,
            self._ctx,
            what="tdoffice file",
            expected_sha256=att.sha256,
            policy=self.retry,
        )
        return stored_file(
            att.name, att.content_type or resp.content_type or "application/octet-stream", blob
        )

    def _error_record(self, kind: str, payload: bytes, reason: str) -> RawRecord:
        digest = hashlib.sha256(payload).hexdigest()[:16]
        log.warning("record_unreadable", source=self.name, record=f"{kind}:{digest}", reason=reason)
        return RawRecord(
            source=self.name,
            unit=self._unit,
            external_id=f"{kind}:{digest}",
            version=digest,
            media_type=self.media_type,
            payload=payload,
            error=reason,
            received_at=dt.datetime.now(dt.UTC),
        )
