"""A tdoffice simulator: the inbox with opaque cursors, files, uploads, idempotent incoming
documents, PATCH and revoke, per-document status, and a signed webhook emitter; the outbox and
its dispatch log are in `simulators.tdoffice_outbox` (`sim.outbox`).

Faithful to the profile, awkward parts included: cursors stay valid forever, a changed document
reappears later with a higher `version`, the same Idempotency-Key with another body is a 409.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import hdrs, web
from aiohttp.multipart import content_disposition_filename, parse_content_disposition

from adapters.tdoffice import webhook
from adapters.tdoffice.payload import from_document
from schemas import Document
from simulators.server import SimServer
from simulators.tdoffice_outbox import Outbox

JsonObject = dict[str, Any]
Validator = Callable[[JsonObject], list[JsonObject]]
VN = dt.timezone(dt.timedelta(hours=7))
FILE_CHUNK_BYTES = 64 * 1024
STATUSES = ("received", "assigned", "processing", "done", "rejected")


def require_number_and_subject(body: JsonObject) -> list[JsonObject]:
    """The default validator of incoming documents: codeNumber and subject must be present."""
    return [
        {"field": field, "message": "is required"}
        for field in ("codeNumber", "subject")
        if not isinstance(body.get(field), str) or not body[field].strip()
    ]


@dataclass
class StoredFile:
    data: bytes
    content_type: str
    name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class PushAttempt:
    url: str
    event_id: str
    status: int


def _now() -> str:
    return dt.datetime.now(VN).isoformat(timespec="seconds")


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(obj), status=status, content_type="application/json")


def _media_type(request: web.Request) -> str:
    """The Content-Type's media type, lower-cased, without parameters. Cheaper than
    `request.content_type`, whose full parse a fresh multipart boundary makes uncacheable."""
    return request.headers.get(hdrs.CONTENT_TYPE, "").partition(";")[0].strip().lower()


def _errors(status: int, field: str | None, message: str) -> web.Response:
    return _json({"errors": [{"field": field, "message": message}]}, status)


class TdofficeSim(SimServer):
    """Knobs: `api_keys` (key → unit it sees, None for all), `corrupt_files` (fileIds served
    with a wrong byte), `inbox_answers` (raw inbox bodies served first, once each),
    `validator` (returns 422 errors), `faults` (5xx, 429 + Retry-After).
    Observations: `requests`, `received` (documents created at the sink), `revisions`,
    `revocations`, `uploads`, `pushes`. The outbox: `outbox` (simulators/tdoffice_outbox.py)."""

    profile = "tdoffice"

    def __init__(self, *, seed: int = 0, api_key: str = "td-sim-key") -> None:
        super().__init__(seed=seed)
        self.api_key = api_key
        self.api_keys: dict[str, str | None] = {api_key: None}
        self.inbox_answers: list[bytes] = []  # raw bodies served (once each) before the inbox
        self.documents: dict[str, JsonObject] = {}
        self._inbox: list[tuple[str | None, bytes]] = []  # append-only: (unit, document)
        self.files: dict[str, StoredFile] = {}
        self.corrupt_files: set[str] = set()
        self.uploads: list[str] = []
        self.received: dict[str, JsonObject] = {}
        self.revisions: dict[str, list[JsonObject]] = {}
        self.revocations: dict[str, str] = {}
        self.statuses: dict[str, JsonObject] = {}
        self.validator: Validator = require_number_and_subject
        self.pushes: list[PushAttempt] = []
        self._keys: dict[str, tuple[bytes, str]] = {}
        r = self.app.router
        r.add_get("/api/v2/documents/inbox", self._get_inbox)
        r.add_get("/api/v2/files/{file_id}", self._get_file)
        r.add_post("/api/v2/files", self._post_file)
        r.add_post("/api/v2/documents/incoming", self._post_incoming)
        r.add_patch("/api/v2/documents/{doc_id}", self._patch)
        r.add_post("/api/v2/documents/{doc_id}/revoke", self._post_revoke)
        r.add_get("/api/v2/documents/{doc_id}/status", self._get_status)
        self.outbox = Outbox(self)

    # -- feeding the inbox -------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh id (documentId, fileId, sendId, event id) from the seeded RNG."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def store_file(self, data: bytes, content_type: str, name: str) -> str:
        """Keep a file the files endpoint serves; return its fileId."""
        file_id = self.new_id()
        self.files[file_id] = StoredFile(data, content_type, name)
        return file_id

    def _publish(self, obj: JsonObject, unit: str | None) -> None:
        self.documents[obj["documentId"]] = obj
        self._inbox.append((unit, orjson.dumps(obj)))

    def add_document(self, doc: Document, files: dict[str, bytes], *, unit: str | None) -> str:
        """Render `doc` as a tdoffice inbox document for `unit` (None: every unit); `files` maps
        attachment names to their bytes. Returns the new documentId."""
        file_ids = [
            self.store_file(files[att.name], att.content_type, att.name) for att in doc.attachments
        ]
        document_id = self.new_id()
        obj = from_document(
            doc, file_ids, document_id=document_id, version=doc.revision, updated_at=_now()
        )
        self._publish(obj, unit)
        return document_id

    def add_raw(
        self, obj: JsonObject, files: dict[str, bytes] | None = None, *, unit: str | None = None
    ) -> str:
        """Publish a wire object as given (corpus lines, broken ones included); `files` maps a
        fileId or an attachment name to the bytes the files endpoint serves."""
        files = files or {}
        for att in obj.get("attachments") or ():
            if isinstance(att, dict) and isinstance(att.get("fileId"), str):
                data = files.get(att["fileId"], files.get(str(att.get("name"))))
                if data is not None:
                    kind = str(att.get("contentType") or "application/octet-stream")
                    self.files[att["fileId"]] = StoredFile(data, kind, str(att.get("name")))
        document_id = obj.get("documentId")
        if not isinstance(document_id, str):
            document_id = self.new_id()  # a broken record still takes its place in the inbox
            self._inbox.append((unit, orjson.dumps(obj)))
            return document_id
        self._publish(copy.deepcopy(obj), unit)
        return document_id

    def add_junk(self, item: Any, *, unit: str | None = None) -> None:
        """Put an arbitrary JSON value in the inbox (a record no reader can use)."""
        self._inbox.append((unit, orjson.dumps(item)))

    def update_document(self, document_id: str, **changes: Any) -> int:
        """Change wire fields (camelCase) of a document; it reappears with version + 1."""
        obj = copy.deepcopy(self.documents[document_id])
        obj.update(changes)
        obj["version"] = int(obj.get("version", 1)) + 1
        obj["updatedAt"] = _now()
        self._publish(obj, self._unit_of(document_id))
        return int(obj["version"])

    def revoke(self, document_id: str) -> int:
        """Revoke a document at the source; it reappears with `state: "revoked"`."""
        return self.update_document(document_id, state="revoked")

    def _unit_of(self, document_id: str) -> str | None:
        for unit, data in reversed(self._inbox):
            if orjson.loads(data).get("documentId") == document_id:
                return unit
        return None

    def set_status(self, document_id: str, status: str, note: str | None = None) -> JsonObject:
        """Move a document created at the sink to `status`; returns the status answer."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        self.statuses[document_id] = {"status": status, "updatedAt": _now(), "note": note}
        return self.statuses[document_id]

    # -- webhooks ----------------------------------------------------------------------------

    async def push(
        self,
        url: str,
        event: str,
        data: JsonObject,
        secret: str,
        event_id: str | None = None,
        *,
        timestamp: int | None = None,
        max_attempts: int = 5,
        backoff_s: float = 0.05,
    ) -> int:
        """Sign and POST one event like tdoffice, retrying with backoff until a 2xx (bounded).

        Returns the last HTTP status (0 when the receiver could not be reached)."""
        body = orjson.dumps({"event": event, "data": data})
        event_id = event_id or self.new_id()
        headers = webhook.signed_headers(secret, body, event_id=event_id, timestamp=timestamp)
        status = 0
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for attempt in range(max_attempts):
                try:
                    async with session.post(url, data=body, headers=headers) as resp:
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                self.pushes.append(PushAttempt(url, event_id, status))
                if 200 <= status < 300:
                    return status
                await asyncio.sleep(backoff_s * 2**attempt)
        return status

    # -- the API -----------------------------------------------------------------------------

    def unit_for_key(self, request: web.Request) -> str | None:
        """The unit the request's X-API-Key sees (None: every unit); 401 for a bad key."""
        key = request.headers.get("X-API-Key", "")
        if key not in self.api_keys:
            raise web.HTTPUnauthorized(
                text='{"error": "invalid_api_key"}', content_type="application/json"
            )
        return self.api_keys[key]

    @staticmethod
    def _cursor(position: int) -> str:
        return base64.urlsafe_b64encode(f"td1:{position}".encode()).decode().rstrip("=")

    @staticmethod
    def _position(cursor: str) -> int | None:
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            tag, position = text.split(":", 1)
            return int(position) if tag == "td1" else None
        except ValueError:
            return None

    async def _get_inbox(self, request: web.Request) -> web.Response:
        if self.inbox_answers:
            self.unit_for_key(request)
            return web.Response(body=self.inbox_answers.pop(0), content_type="application/json")
        return self.page(request, self._inbox)

    def page(self, request: web.Request, entries: list[tuple[str | None, bytes]]) -> web.Response:
        """One page of an append-only log (`limit`, opaque `cursor`) as the key's unit sees it."""
        unit = self.unit_for_key(request)
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 200:
            return _errors(400, "limit", "must be between 1 and 200")
        start = 0
        if "cursor" in request.query:
            position = self._position(request.query["cursor"])
            if position is None:
                return _errors(400, "cursor", "invalid cursor")
            start = position + 1
        data, last = [], None
        for index in range(start, len(entries)):
            owner, raw = entries[index]
            if unit is None or owner in (None, unit):
                data.append(orjson.Fragment(raw))
                last = index
                if len(data) == limit:
                    break
        next_cursor = None if last is None else self._cursor(last)
        return _json({"data": data, "nextCursor": next_cursor})

    async def _get_file(self, request: web.Request) -> web.StreamResponse:
        self.unit_for_key(request)
        file_id = request.match_info["file_id"]
        stored = self.files.get(file_id)
        if stored is None:
            return _errors(404, "fileId", "not found")
        data = memoryview(stored.data)
        if file_id in self.corrupt_files:
            data = memoryview(bytes([data[0] ^ 0xFF]) + data[1:] if data else b"\x00")
        resp = web.StreamResponse(headers={"Content-Type": stored.content_type})
        resp.content_length = len(data)
        await resp.prepare(request)
        for start in range(0, len(data), FILE_CHUNK_BYTES):
            await resp.write(data[start : start + FILE_CHUNK_BYTES])
        await resp.write_eof()
        return resp

    async def _post_file(self, request: web.Request) -> web.Response:
        self.unit_for_key(request)
        if _media_type(request) != "multipart/form-data":
            return _errors(400, "file", "multipart/form-data expected")
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader):
                continue
            _, params = parse_content_disposition(part.headers.get(hdrs.CONTENT_DISPOSITION))
            if content_disposition_filename(params, "name") == "file":
                data = bytearray()
                while chunk := await part.read_chunk(256 * 1024):
                    data += chunk
                kind = part.headers.get("Content-Type", "application/octet-stream")
                filename = content_disposition_filename(params, "filename")
                stored = StoredFile(bytes(data), kind, filename or "file")
                file_id = self.new_id()
                self.files[file_id] = stored
                self.uploads.append(file_id)
                return _json({"fileId": file_id, "sha256": stored.sha256}, 201)
        return _errors(400, "file", "no part named 'file'")

    async def _body(self, request: web.Request) -> JsonObject | None:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return None
        return body if isinstance(body, dict) else None

    async def _post_incoming(self, request: web.Request) -> web.Response:
        self.unit_for_key(request)
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return _errors(400, "Idempotency-Key", "header is required")
        body = await self._body(request)
        if body is None:
            return _errors(400, None, "body must be a JSON object")
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        if key in self._keys:
            seen, document_id = self._keys[key]
            if seen != canonical:
                return _errors(409, None, "Idempotency-Key reused with a different body")
            return _json({"documentId": document_id}, 200)
        errors = self.validator(body) + self._unknown_files(body)
        if errors:
            return _json({"errors": errors}, 422)
        document_id = self.new_id()
        self._keys[key] = (canonical, document_id)
        self.received[document_id] = body
        self.set_status(document_id, "received")
        return _json({"documentId": document_id}, 201)

    def _unknown_files(self, body: JsonObject) -> list[JsonObject]:
        attachments = body.get("attachments") or []
        if not isinstance(attachments, list):
            return [{"field": "attachments", "message": "must be a list"}]
        return [
            {"field": f"attachments[{i}].fileId", "message": "unknown file"}
            for i, att in enumerate(attachments)
            if not isinstance(att, dict) or att.get("fileId") not in self.files
        ]

    async def _patch(self, request: web.Request) -> web.Response:
        self.unit_for_key(request)
        document_id = request.match_info["doc_id"]
        current = self.received.get(document_id)
        if current is None:
            return _errors(404, "documentId", "not found")
        body = await self._body(request)
        if body is None or not isinstance(body.get("version"), int):
            return _errors(422, "version", "an integer version is required")
        if body["version"] < int(current.get("version") or 1):
            return _errors(409, "version", "older than the stored version")
        current.update(body)
        self.revisions.setdefault(document_id, []).append(body)
        return _json({"documentId": document_id, "version": body["version"]})

    async def _post_revoke(self, request: web.Request) -> web.Response:
        self.unit_for_key(request)
        document_id = request.match_info["doc_id"]
        if document_id not in self.received:
            return _errors(404, "documentId", "not found")
        body = await self._body(request) or {}
        self.revocations[document_id] = str(body.get("reason") or "")
        self.received[document_id]["state"] = "revoked"
        return _json({"documentId": document_id, "state": "revoked"})

    async def _get_status(self, request: web.Request) -> web.Response:
        self.unit_for_key(request)
        status = self.statuses.get(request.match_info["doc_id"])
        if status is None:
            return _errors(404, "documentId", "not found")
        return _json(status)
