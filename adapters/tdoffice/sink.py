"""The tdoffice sink: a unit's home system. Uploads files streaming, creates documents under
an idempotency key, patches and revokes them, and reports their processing status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import structlog

from adapters._http import (
    DEFAULT_RETRY,
    client_session,
    error_for_status,
    raise_for_status,
    read_limited,
    request,
    retrying,
)
from adapters._session import SessionOwner
from adapters.tdoffice import webhook
from adapters.tdoffice.payload import (
    correction_payload,
    revoke_payload,
    to_payload,
    to_update_payload,
)
from adapters.tdoffice.settings import TdofficeSinkSettings
from adapters.tdoffice.wire import load_object
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext, JsonObject, Operation
from bridge.jsonutil import dumps
from schemas import Attachment, Document, RemoteStatus, StatusEvent

log = structlog.get_logger(__name__)

MAX_ANSWER_BYTES = 1024 * 1024
WHOLE_UPLOAD_BYTES = 256 * 1024  # smaller files go up as one body, bigger ones streamed
STATUS_EVENT = "document.status_changed"


def status_event(sink: str, remote_id: str, answer: Mapping[str, Any]) -> StatusEvent | None:
    """A StatusEvent from a status answer or a status webhook's `data`; None for a status
    outside the profile's vocabulary (logged, never fatal)."""
    try:
        status = RemoteStatus(str(answer.get("status")))
    except ValueError:
        log.warning("status_unknown", sink=sink, remote_id=remote_id)
        return None
    note = answer.get("note")
    return StatusEvent(
        sink=sink,
        remote_id=remote_id,
        status=status,
        updated_at=_timestamp(answer.get("updatedAt")),
        note=note if isinstance(note, str) and note.strip() else None,
    )


def _timestamp(value: Any) -> dt.datetime:
    if isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            when = None
        if when is not None and when.tzinfo is not None:
            return when
    return dt.datetime.now(dt.UTC)


def _refusal(status: int, answer: bytes) -> PermanentError:
    """PermanentError carrying the sink's own `errors` list (409 and 422 answers)."""
    details: list[str] = []
    try:
        errors = load_object(answer).get("errors")
    except PermanentError:
        errors = None
    for item in errors if isinstance(errors, list) else ():
        if isinstance(item, dict):
            details.append(f"{item.get('field') or '-'}: {item.get('message') or '?'}")
    text = "; ".join(details)[:500] or answer.decode("utf-8", "replace")[:300]
    return PermanentError(
        f"tdoffice từ chối văn bản (HTTP {status}) / tdoffice refused the document: {text}"
    )


class TdofficeSink(SessionOwner):
    """Delivers to one unit's tdoffice and mirrors its status. An async context manager."""

    def __init__(self, settings: TdofficeSinkSettings, ctx: AdapterContext) -> None:
        self.name = settings.name
        self._settings = settings
        self._ctx = ctx
        self.retry = DEFAULT_RETRY  # for status reads; sends are retried by the delivery

    def _open_session(self) -> aiohttp.ClientSession:
        return client_session(
            self._ctx,
            timeout_s=self._settings.timeout_s,
            headers={"X-API-Key": self._settings.api_key.get_secret_value()},
        )

    def _url(self, *parts: str) -> str:
        return self._settings.base_url + "/api/v2/" + "/".join(parts)

    async def check(self) -> None:
        """Prove the key works with a read that changes nothing (the inbox, one item)."""
        url = self._url("documents", "inbox")
        async with request(self.session, "GET", url, what="tdoffice check", params={"limit": "1"}):
            pass

    async def prepare(
        self,
        op: Operation,
        document: Document,
        *,
        document_id: str,
        remote_id: str | None,
        note: str | None = None,
    ) -> JsonObject:
        """Upload the attachments (CREATE and UPDATE) and return the request body for `op`.

        CORRECT uploads nothing: its PATCH carries the corrected fields and `note`.
        Raises PermanentError for an attachment whose bytes are not in the blob store,
        TransientError and AuthError from the uploads.
        """
        if op is Operation.REVOKE:
            return revoke_payload(document)
        if op is Operation.CORRECT:
            return correction_payload(document, note)
        file_ids = [await self._upload(att) for att in document.attachments]
        log.debug("attachments_uploaded", sink=self.name, document=document_id, files=len(file_ids))
        if op is Operation.CREATE:
            return to_payload(document, file_ids)
        return to_update_payload(document, file_ids)

    async def send(self, op: Operation, body: JsonObject, key: str, remote_id: str | None) -> str:
        """Perform `op` with the stored `body`; return tdoffice's documentId.

        CREATE is idempotent by `key` (a repeat answers 200 with the same id). A 409 (key reused
        with another body) or 422 (body refused) raises PermanentError with the sink's errors.
        """
        headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
        if op is Operation.CREATE:
            return await self._create(dumps(body), headers)
        if remote_id is None:
            raise PermanentError(
                f"thiếu mã văn bản ở tdoffice cho thao tác {op.value} / "
                f"no tdoffice documentId to {op.value}"
            )
        doc = quote(remote_id, safe="")
        method, url = (
            ("PATCH", self._url("documents", doc))
            if op in (Operation.UPDATE, Operation.CORRECT)
            else ("POST", self._url("documents", doc, "revoke"))
        )
        what = f"tdoffice {op.value}"
        async with request(self.session, method, url, what=what, data=dumps(body), headers=headers):
            pass
        log.debug("document_sent", sink=self.name, op=op.value, remote_id=remote_id)
        return remote_id

    async def status(self, remote_id: str) -> StatusEvent | None:
        """The document's status now; None when tdoffice does not know the document."""
        url = self._url("documents", quote(remote_id, safe=""), "status")
        what = "tdoffice status"

        async def once() -> JsonObject | None:
            async with request(self.session, "GET", url, what=what, check=False) as resp:
                if resp.status == 404:
                    return None
                await raise_for_status(resp, what)
                return load_object(await read_limited(resp, MAX_ANSWER_BYTES, what))

        # a read: tried again in place; creates and updates are retried by the delivery
        answer = await retrying(once, what=what, policy=self.retry)
        return None if answer is None else status_event(self.name, remote_id, answer)

    async def accept_push(self, headers: Mapping[str, str], body: bytes) -> list[StatusEvent]:
        """Verify one webhook and read `document.status_changed` events; others yield nothing.

        Raises AuthError (bad signature, stale timestamp, no webhook_secret configured),
        PermanentError (unreadable body).
        """
        secret = self._settings.webhook_secret
        if secret is None:
            raise AuthError("đích này chưa bật webhook / push is not enabled for this sink")
        webhook.verify(secret.get_secret_value(), headers, body)
        event = load_object(body, "sự kiện webhook / webhook event")
        if event.get("event") != STATUS_EVENT:
            return []
        data = event.get("data")
        remote_id = data.get("documentId") if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(remote_id, str) or not remote_id:
            raise PermanentError("sự kiện trạng thái thiếu documentId / status event without id")
        found = status_event(self.name, remote_id, data)
        return [found] if found is not None else []

    async def _create(self, body: bytes, headers: dict[str, str]) -> str:
        url = self._url("documents", "incoming")
        what = "tdoffice create"
        kwargs: dict[str, Any] = {"data": body, "headers": headers}
        async with request(self.session, "POST", url, what=what, check=False, **kwargs) as resp:
            answer = await read_limited(resp, MAX_ANSWER_BYTES, what)
            if resp.status in (409, 422):
                raise _refusal(resp.status, answer)
            if resp.status >= 400:
                detail = answer.decode("utf-8", "replace")
                raise error_for_status(resp.status, what, detail, resp.headers.get("Retry-After"))
        remote_id = load_object(answer, what).get("documentId")
        if not isinstance(remote_id, str) or not remote_id:
            raise TransientError(f"{what}: trả lời thiếu documentId / answer without documentId")
        log.debug("document_sent", sink=self.name, op="create", remote_id=remote_id)
        return remote_id

    async def _upload(self, att: Attachment) -> str:
        """Stream one stored attachment to `POST /api/v2/files`; return its fileId."""
        if att.blob is None or not await self._ctx.blobs.exists(att.blob):
            raise PermanentError(
                f"tệp '{att.name[:80]}' chưa có trong kho / attachment bytes are not stored"
            )
        stream = self._ctx.blobs.read(att.blob)
        content: bytes | AsyncIterator[bytes] = stream
        if att.size <= WHOLE_UPLOAD_BYTES:  # small: one body with its length, not chunked
            content = b"".join([chunk async for chunk in stream])
        form = aiohttp.FormData()
        form.add_field("file", content, filename=att.name, content_type=att.content_type)
        what = "tdoffice upload"
        async with request(self.session, "POST", self._url("files"), what=what, data=form) as resp:
            answer = load_object(await read_limited(resp, MAX_ANSWER_BYTES, what), what)
        file_id, sha = answer.get("fileId"), answer.get("sha256")
        if not isinstance(file_id, str) or not file_id:
            raise TransientError(f"{what}: trả lời thiếu fileId / answer without fileId")
        if isinstance(sha, str) and sha.lower() != att.sha256:
            raise TransientError(
                f"{what}: SHA-256 sai sau khi tải lên / SHA-256 differs after upload"
            )
        return file_id
