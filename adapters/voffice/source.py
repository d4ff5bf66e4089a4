"""The V-Office pull source: OAuth 2.0 client credentials, conditional listing, zip bundles.

Offset paging is not a snapshot either: a document modified while we page moves to the end
and shifts later offsets. So after any page that advances the cursor the next request starts
again from the cursor's `modified` (offset 0); the `Link rel="next"` is followed only while a
whole page shares one `modified`. The `ETag` of the request from the cursor is kept in the
cursor, so an idle poll costs one `304`.

A listing that cannot be parsed becomes one error record and ends the pull; the next polls
read the same page again (a proxy error page served once loses nothing), and only after
`UNREADABLE_RETRIES` failures in a row does the cursor step past it. A page past the first
that comes back empty sends the pull back to offset 0 at the same `modified`, once per pull.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import aiohttp
import orjson
import structlog
from yarl import URL

from adapters._ahead import read_ahead
from adapters._fanout import Fetch, fetch_all, finished_prefix
from adapters._http import DEFAULT_RETRY, client_session, fetch, iter_body, read_limited
from adapters._records import RecordMaker, digest
from adapters._session import SessionOwner
from adapters._tokens import BearerTokens, bearer_fetch, token_answer
from adapters.voffice import bundle
from adapters.voffice.cursor import EPOCH, Cursor
from adapters.voffice.mapping import MEDIA_TYPE
from adapters.voffice.settings import VofficeSettings
from adapters.voffice.spool import Spool
from bridge.errors import PermanentError
from bridge.interfaces import AdapterContext
from schemas import Page, RawRecord
from schemas.document import Attachment

log = structlog.get_logger(__name__)

T = TypeVar("T")

SCOPE = "documents.read documents.ack"
DOWNLOAD_CHUNK_BYTES = 256 * 1024
UNREADABLE_PAGE = "trang danh sách không đọc được / unreadable listing page"


def next_link(header: str | None) -> str | None:
    """The target of `rel="next"` in an RFC 8288 Link header."""
    for part in (header or "").split(","):
        target, _, params = part.strip().partition(";")
        rels = [p.strip() for p in params.split(";")]
        if (
            target.startswith("<")
            and target.endswith(">")
            and ('rel="next"' in rels or "rel=next" in rels)
        ):
            return target[1:-1]
    return None


class VofficeSource(SessionOwner):
    """Pulls one unit's received documents from V-Office. An async context manager."""

    def __init__(self, settings: VofficeSettings, ctx: AdapterContext) -> None:
        self.name = settings.name
        self._settings = settings
        self._ctx = ctx
        self._unit = ctx.units[0]
        self._base = URL(settings.base_url.rstrip("/"))
        self._tokens = BearerTokens(self._renew)  # concurrent downloads share one request
        self._make = RecordMaker(self.name, self._unit, MEDIA_TYPE, "voffice")
        # one bound for every bundle of this source (download and unpacking, temp file
        # included), however many records a page holds
        self._bundles = asyncio.Semaphore(settings.download_concurrency)
        self.retry = DEFAULT_RETRY  # every call of this source goes through it

    def _open_session(self) -> aiohttp.ClientSession:
        return client_session(self._ctx, timeout_s=self._settings.timeout_s)

    def _url(self, path: str) -> URL:
        return URL(str(self._base) + path)

    async def check(self) -> None:
        """Obtain a token and read one listing row. Raises AuthError, TransientError."""
        await self._renew()
        await self._call(
            "GET", self._listing_url(EPOCH, 0, 1), what="voffice danh sách", read=_ignore
        )

    async def _renew(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._settings.client_id,
            "client_secret": self._settings.client_secret.get_secret_value(),
            "scope": SCOPE,
        }
        what = "voffice cấp mã truy cập"
        raw = await fetch(
            self.session,
            "POST",
            str(self._url("/oauth2/token")),
            what=what,
            data=form,
            policy=self.retry,
            read=partial(read_limited, max_bytes=64 * 1024, what=what),
        )
        token, lifetime_s = token_answer(
            raw,
            system="voffice",
            garbled="voffice: trả lời cấp mã hỏng / garbled token answer",
            default_lifetime_s=900,
        )
        # Renew early: a tenth of the lifetime, at most a minute, before it runs out.
        self._tokens.hold(token, time.monotonic() + lifetime_s - min(60.0, lifetime_s / 10))
        log.info("voffice_token_obtained", source=self.name, expires_in_s=lifetime_s)
        return token

    async def _call(
        self,
        method: str,
        url: URL,
        *,
        what: str,
        read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        ok: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> T:
        """One authenticated call under the retry policy; `read` makes its result. An
        `invalid_token` 401 renews the token and sends the call again.

        Statuses in `ok` are handed to `read` instead of raised (304, 409).
        """
        return await bearer_fetch(
            self.session,
            self._tokens,
            method,
            str(url),
            what=what,
            read=read,
            rejected=_is_invalid_token,
            rejected_event="voffice_token_rejected",
            source=self.name,
            ok=ok,
            policy=self.retry,
            **kwargs,
        )

    def _listing_url(self, since: str, offset: int, limit: int) -> URL:
        query = {
            "organ": self._unit,
            "modifiedSince": since,
            "offset": str(offset),
            "limit": str(limit),
        }
        return self._url("/api/documents/received").with_query(query)

    def _same_origin(self, link: str, current: URL) -> URL:
        target = current.join(URL(link))
        if target.origin() != self._base.origin():
            raise PermanentError(
                f"liên kết trang sau trỏ ra ngoài / next link leaves the server: {target.host}"
            )
        return target

    def pull(self, cursor: str | None) -> AsyncIterator[Page]:
        """Yield pages from `cursor` until caught up. Raises TransientError, AuthError.

        A `304` for the cursor's own query means nothing changed: nothing is yielded.
        """
        return read_ahead(self._pages(cursor))

    async def _pages(self, cursor: str | None) -> AsyncGenerator[Page, None]:
        """The pages of `pull`, read one after the other (`read_ahead` runs them a page
        ahead of the pipeline)."""
        state = Cursor.load(cursor)
        limit = self._settings.page_size
        url = self._listing_url(state.since, state.offset, limit)
        may_restart = state.offset > 0
        while True:
            from_mark = url == self._listing_url(state.since, 0, limit)
            answer = await self._list(url, state.etag if from_mark else None)
            if answer is None:
                return
            body, etag, link = answer
            items = _parse_listing(body)
            if items is None:
                offset = int(url.query.get("offset", "0"))
                state.after_unreadable(offset, limit)
                if state.offset != offset:
                    log.warning("voffice_page_stepped_over", source=self.name, offset=offset)
                yield Page(
                    records=(self._make.page_error(body, UNREADABLE_PAGE),), cursor=state.dump()
                )
                return
            if not items and may_restart:
                # Nothing past the start: the list shrank, or an unreadable page was stepped
                # over with nothing behind it. Read again from the mark (once per pull).
                may_restart, state.offset = False, 0
                url = self._listing_url(state.since, 0, limit)
                continue
            may_restart, state.failures = False, 0
            since_before = state.since
            records, failure = await self._records(items, state)
            if failure is not None:
                # a call spent its retry budget: hand over what is complete, then give up
                state.etag = None if state.since == since_before else state.etag
                if records:
                    yield Page(records=tuple(records), cursor=state.dump())
                raise failure
            if from_mark and state.since == since_before:
                state.etag = etag
            nxt = next_link(link)
            (log.info if records else log.debug)(
                "voffice_page_read", source=self.name, items=len(items), new=len(records)
            )
            yield Page(records=tuple(records), cursor=state.dump())
            if nxt is None:
                return
            if state.since != since_before:
                url = self._listing_url(state.since, 0, limit)
            else:
                url = self._same_origin(nxt, url)

    async def _list(
        self, url: URL, etag: str | None
    ) -> tuple[bytes, str | None, str | None] | None:
        """One listing page: (body, ETag, Link), or None for a `304` to `If-None-Match`."""
        headers = {"If-None-Match": etag} if etag else {}
        what = "voffice danh sách"

        async def read(resp: aiohttp.ClientResponse) -> tuple[bytes, str | None, str | None] | None:
            if resp.status == 304:
                return None
            body = await read_limited(resp, self._ctx.limits.max_page_bytes, what)
            return body, resp.headers.get("ETag"), resp.headers.get("Link")

        answer = await self._call("GET", url, what=what, read=read, ok=(304,), headers=headers)
        if answer is None:
            log.debug("voffice_not_modified", source=self.name)
        return answer

    async def _records(
        self, items: list[Any], state: Cursor
    ) -> tuple[list[RawRecord], Exception | None]:
        """The new records of a page, in order, each with its bundle stored.

        Documents are admitted into the cursor one by one in listing order; then their
        bundles are fetched together, bounded by `download_concurrency` (see
        adapters._fanout), each call retried by the policy. When one spends its budget the
        answer is the records before the first unfinished one with the error, and `state`
        is set back to cover exactly those, so the next try fetches only the rest.
        """
        admitted: list[tuple[RawRecord, Any]] = []
        marks = [(state.since, set(state.seen), state.offset)]
        for item in items:
            if (taken := self._admit(item, state)) is not None:
                admitted.append(taken)
                marks.append((state.since, set(state.seen), state.offset))
        fetches = [
            Fetch(position, partial(self._fetch_bundle, files, record.external_id))
            for position, (record, files) in enumerate(admitted)
            if record.error is None
        ]
        done: dict[int, list[tuple[Attachment, ...]] | PermanentError] = {}
        failure: Exception | None = None
        try:
            stored = await fetch_all(fetches, self._bundles, done=done)
        except Exception as exc:
            stored, failure = done, exc
            admitted = admitted[: finished_prefix(fetches, done, len(admitted))]
            state.since, state.seen, state.offset = marks[len(admitted)]
        records = [
            self._with_bundle(record, stored.get(position, []))
            for position, (record, _) in enumerate(admitted)
        ]
        return records, failure

    def _admit(self, item: Any, state: Cursor) -> tuple[RawRecord, Any] | None:
        """The record of one listed document (bundle not fetched yet) and its `files`, or
        None when the cursor already holds it. An unreadable one is an error record."""
        payload = orjson.dumps(item)
        if not isinstance(item, dict):
            item = {}
        doc_id, modified = item.get("id"), item.get("modified")
        if not isinstance(doc_id, str) or not doc_id:
            reason = "thiếu trường bắt buộc 'id' / missing mandatory field 'id'"
            return self._make.raw(f"item:{digest(payload)}", "", payload, error=reason), None
        try:
            if not isinstance(modified, str):
                raise ValueError(modified)
            if not state.admit(modified, doc_id):
                return None
        except ValueError:
            reason = "thời điểm 'modified' không đọc được / unreadable 'modified'"
            return self._make.raw(doc_id, str(modified), payload, ack=doc_id, error=reason), None
        return self._make.raw(doc_id, modified, payload, ack=doc_id), item.get("files")

    def _with_bundle(
        self, record: RawRecord, stored: list[tuple[Attachment, ...]] | PermanentError
    ) -> RawRecord:
        """`record` with its bundle's files, or an error record when the bundle was refused."""
        if isinstance(stored, PermanentError):
            return self._make.failed(record, stored.reason)
        return record.model_copy(update={"attachments": stored[0] if stored else ()})

    async def _fetch_bundle(self, files: Any, doc_id: str) -> tuple[Attachment, ...]:
        """Download the bundle (into memory when small, else a temporary file), then unpack it
        into blobs."""
        if not files:
            return ()
        if not isinstance(files, dict):
            raise PermanentError("trường 'files' sai kiểu / field 'files' has the wrong type")
        path, hashes = files.get("bundle"), files.get("sha256") or []
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise PermanentError("'files.sha256' sai kiểu / 'files.sha256' has the wrong type")
        if not hashes and not path:
            return ()
        if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
            raise PermanentError(f"đường dẫn gói tệp không hợp lệ: {path!r} / invalid bundle path")
        spool = Spool()
        try:
            size = await self._call(
                "GET", self._url(path), what="voffice tải gói tệp", read=partial(self._spool, spool)
            )
            attachments = await bundle.extract(spool.contents(), self._ctx, hashes)
        finally:
            await spool.close()
        log.debug(
            "voffice_bundle_stored",
            source=self.name,
            record=doc_id,
            bytes=size,
            files=len(attachments),
        )
        return attachments

    async def _spool(self, out: Spool, resp: aiohttp.ClientResponse) -> int:
        """Stream one response body to `out` (emptied first: a retried download starts over);
        bounded by the attachment size limit."""
        limit, size = self._ctx.limits.max_attachment_bytes, 0
        await out.reset()
        async for chunk in iter_body(resp):
            size += len(chunk)
            if size > limit:
                raise PermanentError(
                    f"gói tệp quá lớn (> {limit} byte) / bundle larger than {limit} bytes"
                )
            await out.write(chunk)
        return size

    async def acknowledge(self, record: RawRecord) -> None:
        """Acknowledge a stored record: 201, or 409 when already acknowledged. Idempotent."""
        if record.ack is None:
            return
        body = {"organ": self._unit, "receivedAt": dt.datetime.now(dt.UTC).isoformat()}
        path = f"/api/documents/{urllib.parse.quote(record.ack, safe='')}/acknowledgements"
        what = "voffice xác nhận đã nhận"
        status = await self._call(
            "POST", self._url(path), what=what, read=_status, ok=(409,), json=body
        )
        log.debug(
            "voffice_acknowledged", source=self.name, record=record.external_id, status=status
        )


def _parse_listing(body: bytes) -> list[Any] | None:
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return items if isinstance(items, list) else None


async def _ignore(resp: aiohttp.ClientResponse) -> None:
    """An answer whose status says all (the call raised for any other)."""


async def _status(resp: aiohttp.ClientResponse) -> int:
    return resp.status


async def _is_invalid_token(resp: aiohttp.ClientResponse) -> bool:
    return "invalid_token" in resp.headers.get("WWW-Authenticate", "")
