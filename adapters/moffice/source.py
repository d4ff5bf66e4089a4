"""The M-Office pull source: token login, listing from a durable timestamp, files, receipts.

M-Office pages by page number over a list that is not a snapshot: a record updated while we
page moves to the end and shifts every later page. So each request starts again from the
cursor's `ngay_cap_nhat` (inclusive, dropping ids already seen at exactly that time) rather
than trusting page N+1; page numbers only advance while a whole page shares one timestamp.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import unicodedata
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import aiohttp
import orjson
import structlog

from adapters._ahead import read_ahead
from adapters._cursor import admit_at
from adapters._fanout import Fetch, fetch_all, finished_prefix
from adapters._http import DEFAULT_RETRY, client_session, fetch, iter_body, read_limited
from adapters._records import RecordMaker, digest, stored_file
from adapters._session import SessionOwner
from adapters._tokens import BearerTokens, bearer_fetch, token_answer
from adapters.moffice.mapping import MEDIA_TYPE
from adapters.moffice.settings import MofficeSettings
from bridge.blobs import StoredBlob
from bridge.errors import PermanentError
from bridge.interfaces import AdapterContext
from bridge.normalize import VN_TZ, parse_local_datetime
from schemas import Page, RawRecord
from schemas.document import Attachment

log = structlog.get_logger(__name__)

T = TypeVar("T")

WIRE_TIME = "%d/%m/%Y %H:%M:%S"
EPOCH = "01/01/1970 00:00:00"
_TOKEN_MARGIN_S = 30.0
_DISPOSITION_STAR = re.compile(r"filename\*\s*=\s*([\w-]+)'[^']*'([^;\s]+)", re.IGNORECASE)
_DISPOSITION_PLAIN = re.compile(r'filename\s*=\s*"([^"]+)"', re.IGNORECASE)


@dataclass
class Cursor:
    """Last durable `ngay_cap_nhat` (wire text), ids seen at exactly it, and the page to read."""

    ts: str = EPOCH
    seen: set[str] = field(default_factory=set)
    page: int = 1

    @classmethod
    def load(cls, raw: str | None) -> Cursor:
        if not raw:
            return cls()
        data = orjson.loads(raw)
        return cls(ts=data["ts"], seen=set(data["seen"]), page=int(data.get("page", 1)))

    def dump(self) -> str:
        return orjson.dumps({"ts": self.ts, "seen": sorted(self.seen), "page": self.page}).decode()

    def admit(self, ts: str, external_id: str) -> bool:
        """Take a record into the cursor; False if it is at or before what is already durable."""
        admitted = admit_at(self.ts, self.seen, ts, external_id, _wire_time)
        if admitted is None:
            return False
        self.ts, self.seen = admitted
        return True


def _wire_time(text: str) -> dt.datetime:
    return parse_local_datetime(text, WIRE_TIME)


@dataclass(frozen=True)
class Listing:
    page: int
    total_pages: int
    items: list[Any]


def parse_listing(body: bytes) -> Listing:
    """The listing envelope. Raises PermanentError for a page that cannot be read at all."""
    try:
        data = orjson.loads(body)
        return Listing(int(data["page"]), int(data["total_pages"]), list(data["items"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise PermanentError(
            f"trang danh sách không đọc được / unreadable listing page ({type(exc).__name__})"
        ) from exc


def disposition_name(header: str | None) -> str | None:
    """The file name of a Content-Disposition header, preferring RFC 5987 `filename*`."""
    if not header:
        return None
    if star := _DISPOSITION_STAR.search(header):
        return urllib.parse.unquote(star.group(2), encoding=star.group(1) or "utf-8") or None
    if plain := _DISPOSITION_PLAIN.search(header):
        return plain.group(1)
    return None


class MofficeSource(SessionOwner):
    """Pulls one unit's incoming documents from M-Office. An async context manager."""

    def __init__(self, settings: MofficeSettings, ctx: AdapterContext) -> None:
        self.name = settings.name
        self._settings = settings
        self._ctx = ctx
        self._unit = ctx.units[0]
        self._base = settings.base_url.rstrip("/")
        self._tokens = BearerTokens(self._login)  # concurrent downloads share one login
        self._make = RecordMaker(self.name, self._unit, MEDIA_TYPE, "moffice")
        # one bound for every download of this source, however many records a page holds
        self._downloads = asyncio.Semaphore(settings.download_concurrency)
        self.retry = DEFAULT_RETRY  # every call of this source goes through it

    def _open_session(self) -> aiohttp.ClientSession:
        return client_session(self._ctx, timeout_s=self._settings.timeout_s)

    async def check(self) -> None:
        """Log in and read one listing row. Raises AuthError, TransientError."""
        await self._login()
        await self._list(EPOCH, 1, page_size=1)

    async def _login(self) -> str:
        body = {
            "username": self._settings.username,
            "password": self._settings.password.get_secret_value(),
        }
        url = f"{self._base}/api/auth/token"
        what = "moffice đăng nhập"
        raw = await fetch(
            self.session,
            "POST",
            url,
            what=what,
            json=body,
            policy=self.retry,
            read=partial(read_limited, max_bytes=64 * 1024, what=what),
        )
        token, lifetime_s = token_answer(
            raw,
            system="moffice",
            garbled="moffice: trả lời đăng nhập hỏng / garbled login answer",
            default_lifetime_s=3600,
        )
        self._tokens.hold(token, time.monotonic() + max(0.0, lifetime_s - _TOKEN_MARGIN_S))
        log.info("moffice_logged_in", source=self.name, expires_in_s=lifetime_s)
        return token

    async def _call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        **kwargs: Any,
    ) -> T:
        """One authenticated call under the retry policy; `read` makes its result. A
        `token_expired` 401 logs in again and sends the call again."""
        return await bearer_fetch(
            self.session,
            self._tokens,
            method,
            url,
            what=what,
            read=read,
            rejected=_is_token_expired,
            rejected_event="moffice_token_expired",
            source=self.name,
            policy=self.retry,
            **kwargs,
        )

    async def _list(self, ts: str, page: int, *, page_size: int | None = None) -> bytes:
        query = {
            "unit": self._unit,
            "updated_from": ts,
            "page": str(page),
            "page_size": str(page_size or self._settings.page_size),
        }
        url = f"{self._base}/api/v1/incoming?{urllib.parse.urlencode(query)}"
        what = "moffice danh sách"
        limit = self._ctx.limits.max_page_bytes
        return await self._call(
            "GET", url, what=what, read=partial(read_limited, max_bytes=limit, what=what)
        )

    def pull(self, cursor: str | None) -> AsyncIterator[Page]:
        """Yield pages from `cursor` until caught up. Raises TransientError, AuthError.

        Each page's cursor covers exactly the records before it, so a restart resumes
        without loss or repeats.
        """
        return read_ahead(self._pages(cursor))

    async def _pages(self, cursor: str | None) -> AsyncGenerator[Page, None]:
        """The pages of `pull`, read one after the other (`read_ahead` runs them a page
        ahead of the pipeline)."""
        state = Cursor.load(cursor)
        while True:
            body = await self._list(state.ts, state.page)
            try:
                listing = parse_listing(body)
            except PermanentError as exc:
                # Step over the unreadable page so a restart does not read it forever.
                state.page += 1
                yield Page(records=(self._make.page_error(body, exc.reason),), cursor=state.dump())
                return
            if not listing.items and state.page > 1:
                state.page = 1  # the list shrank under us: read again from the mark
                continue
            ts_before = state.ts
            records, failure = await self._records(listing.items, state)
            if failure is not None:
                # a call spent its retry budget: hand over what is complete, then give up
                if state.ts != ts_before:
                    state.page = 1
                if records:
                    yield Page(records=tuple(records), cursor=state.dump())
                raise failure
            is_last = listing.page >= listing.total_pages or not listing.items
            if state.ts != ts_before:
                state.page = 1
            elif not is_last:
                state.page += 1
            (log.info if records else log.debug)(
                "moffice_page_read",
                source=self.name,
                items=len(listing.items),
                new=len(records),
                page=listing.page,
                total_pages=listing.total_pages,
            )
            yield Page(records=tuple(records), cursor=state.dump())
            if is_last:
                return

    async def _records(
        self, items: list[Any], state: Cursor
    ) -> tuple[list[RawRecord], Exception | None]:
        """The new records of a page, in order, each with its files stored.

        Items are admitted into the cursor one by one in listing order; then the files of
        all of them download together, bounded by `download_concurrency` (see
        adapters._fanout), each call retried by the policy. When one spends its budget the
        answer is the records before the first unfinished one with the error, and `state`
        is set back to cover exactly those, so the next try fetches only the rest.
        """
        admitted: list[tuple[RawRecord, list[Any]]] = []
        marks: list[tuple[str, set[str]]] = [(state.ts, set(state.seen))]
        for item in items:
            if (taken := self._admit(item, state)) is not None:
                admitted.append(taken)
                marks.append((state.ts, set(state.seen)))
        fetches = [
            Fetch(position, partial(self._download, entry))
            for position, (_, files) in enumerate(admitted)
            for entry in files
        ]
        done: dict[int, list[Attachment] | PermanentError] = {}
        failure: Exception | None = None
        try:
            stored = await fetch_all(fetches, self._downloads, done=done)
        except Exception as exc:
            stored, failure = done, exc
            admitted = admitted[: finished_prefix(fetches, done, len(admitted))]
            state.ts, state.seen = marks[len(admitted)]
        records = [
            self._with_files(record, stored.get(position, []))
            for position, (record, _) in enumerate(admitted)
        ]
        return records, failure

    def _admit(self, item: Any, state: Cursor) -> tuple[RawRecord, list[Any]] | None:
        """The record of one listed item (files not fetched yet) and its file entries, or
        None when the cursor already holds it. An unreadable item is an error record."""
        payload = orjson.dumps(item)
        if not isinstance(item, dict):
            item = {}
        item_id, version = item.get("id"), item.get("ngay_cap_nhat")
        if not isinstance(item_id, int | str) or isinstance(item_id, bool):
            reason = "thiếu trường bắt buộc 'id' / missing mandatory field 'id'"
            return self._make.raw(f"item:{digest(payload)}", "", payload, error=reason), []
        external_id = str(item_id)
        try:
            if not isinstance(version, str):
                raise ValueError(version)
            if not state.admit(version, external_id):
                return None
        except ValueError:
            reason = "thời điểm cập nhật không đọc được / unreadable 'ngay_cap_nhat'"
            error = self._make.raw(
                external_id, str(version), payload, ack=external_id, error=reason
            )
            return error, []
        files = item.get("tep_dinh_kem") or []
        if not isinstance(files, list):
            reason = "'tep_dinh_kem' sai kiểu / 'tep_dinh_kem' has the wrong type"
            return self._make.raw(external_id, version, payload, ack=external_id, error=reason), []
        return self._make.raw(external_id, version, payload, ack=external_id), files

    def _with_files(
        self, record: RawRecord, stored: list[Attachment] | PermanentError
    ) -> RawRecord:
        """`record` with its stored files, or an error record when one failed permanently."""
        if isinstance(stored, PermanentError):
            return self._make.failed(record, stored.reason)
        return record.model_copy(update={"attachments": tuple(stored)})

    async def _download(self, entry: Any) -> Attachment:
        """Stream one file into the blob store; never holds it whole."""
        path = entry.get("duong_dan") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
            raise PermanentError(f"đường dẫn tệp không hợp lệ: {path!r} / invalid file path")

        async def read(resp: aiohttp.ClientResponse) -> tuple[StoredBlob, str | None, str]:
            blob = await self._ctx.blobs.put_stream(
                iter_body(resp), max_bytes=self._ctx.limits.max_attachment_bytes
            )
            name = disposition_name(resp.headers.get("Content-Disposition"))
            return blob, name, resp.content_type or "application/octet-stream"

        what = "moffice tải tệp"
        blob, name, content_type = await self._call(
            "GET", f"{self._base}{path}", what=what, read=read
        )
        listed = entry.get("ten_tep")
        name = unicodedata.normalize("NFC", name or (listed if isinstance(listed, str) else ""))
        log.debug("moffice_file_stored", source=self.name, bytes=blob.size, sha256=blob.sha256)
        return stored_file(name or blob.sha256, content_type, blob)

    async def acknowledge(self, record: RawRecord) -> None:
        """Send the receipt for a stored record. Idempotent (M-Office ignores repeats)."""
        if record.ack is None:
            return
        body = {"received_at": dt.datetime.now(VN_TZ).strftime(WIRE_TIME), "receiver": self._unit}
        url = f"{self._base}/api/v1/incoming/{urllib.parse.quote(record.ack, safe='')}/received"
        await self._call("POST", url, what="moffice xác nhận đã nhận", read=_ignore, json=body)
        log.debug("moffice_receipt_sent", source=self.name, record=record.external_id)


async def _ignore(resp: aiohttp.ClientResponse) -> None:
    """A receipt's answer says nothing beyond its status."""


async def _is_token_expired(resp: aiohttp.ClientResponse) -> bool:
    try:
        data = orjson.loads(await read_limited(resp, 4096, "moffice 401"))
    except (orjson.JSONDecodeError, PermanentError):
        return False
    return isinstance(data, dict) and data.get("error") == "token_expired"
