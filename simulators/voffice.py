"""A V-Office simulator: OAuth 2.0 client credentials, offset listing with Link and ETag,
zip bundles (UTF-8 flag on or off, hostile variants on demand), acknowledgements.

Knobs: `token_lifetime_s`, `expire_tokens()`, `touch(id)`, `zip_utf8_flag`, `hostile[id]`
(`"dotdot"`, `"absolute"`, `"symlink"`, `"bomb"`, `"many"`), `garbage_pages`, `faults`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import stat
import zipfile
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from schemas import Document
from simulators.demo_documents import add_demo_documents
from simulators.index import ListingIndex, SimTokens, stream_bytes
from simulators.server import SimServer

URGENCY = {0: "NORMAL", 1: "URGENT", 2: "VERY_URGENT", 3: "FLASH", 4: "FLASH"}
SECURITY = {0: "NONE", 1: "CONFIDENTIAL", 2: "SECRET", 3: "TOP_SECRET"}
HOSTILE_KINDS = ("dotdot", "absolute", "symlink", "bomb", "many")


class _RawNameInfo(zipfile.ZipInfo):
    """A ZipInfo that writes its name as UTF-8 bytes without setting the UTF-8 flag."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("utf-8"), self.flag_bits & ~0x800


@dataclass
class SimDocument:
    item: dict[str, Any]
    unit: str | None
    files: dict[str, bytes] = field(default_factory=dict)
    bundle: bytes | None = None  # served as-is when set (a corpus zip)


@dataclass
class Ack:
    doc_id: str
    organ: str
    received_at: str


class VofficeSim(SimServer):
    """The V-Office API. `acks` lists accepted acknowledgements; `requests` every call.

    Documents change through `add_raw`, `add_document` and `touch`, which keep the listing
    order (`modified`, then id) as a sorted index, so a listing costs no date parsing.
    """

    profile = "voffice"

    def __init__(
        self,
        *,
        seed: int = 0,
        client_id: str = "lienthong",
        client_secret: str = "bimat",  # noqa: S107 (simulator)
        token_lifetime_s: float = 900.0,
    ) -> None:
        super().__init__(seed=seed)
        self.client_id, self.client_secret = client_id, client_secret
        self.token_lifetime_s = token_lifetime_s
        self.zip_utf8_flag = True
        self.hostile: dict[str, str] = {}
        self.garbage_pages = 0
        self.docs: dict[str, SimDocument] = {}
        self.acks: list[Ack] = []
        self._acked: set[str] = set()  # ids in `acks`, for the 409 on a repeat
        self._order: ListingIndex[str] = ListingIndex()  # listing order
        self.tokens_issued = 0
        self._tokens = SimTokens()
        self._clock = dt.datetime(2024, 1, 1, 8, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
        self._next_id = 700000
        r = self.app.router
        r.add_post("/oauth2/token", self._token)
        r.add_get("/api/documents/received", self._list)
        r.add_get("/api/documents/{doc_id}/files.zip", self._bundle)
        r.add_post("/api/documents/{doc_id}/acknowledgements", self._ack)

    # -- knobs ---------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Revoke every token: the next call gets `401` with `error="invalid_token"`."""
        self._tokens.clear()

    def tick(self) -> str:
        self._clock += dt.timedelta(seconds=1)
        return self._clock.isoformat()

    def touch(self, doc_id: str) -> str:
        """Modify a document now: it moves to the end of the listing."""
        self.docs[doc_id].item["modified"] = self.tick()
        self._index(doc_id)
        return str(self.docs[doc_id].item["modified"])

    def add_raw(
        self,
        item: dict[str, Any],
        files: dict[str, bytes] | bytes | None = None,
        *,
        unit: str | None = None,
    ) -> str:
        """Serve a wire document as given. `files` is either the bundle's bytes (a corpus zip,
        served as-is) or files to zip; `unit` None lists it to every organ."""
        doc = SimDocument(dict(item), unit)
        if isinstance(files, bytes):
            doc.bundle = files
        else:
            doc.files = dict(files or {})
        self.docs[str(item["id"])] = doc
        self._index(str(item["id"]))
        return str(item["id"])

    def add_document(self, doc: Document, files: dict[str, bytes], *, unit: str | None) -> str:
        """Render a common-schema Document as a V-Office document; return its id."""
        self._next_id += 1
        year = doc.issued_on.year if doc.issued_on else 2024
        doc_id = f"VO-{year}-{self._next_id}"
        signer = doc.signer
        item = {
            "id": doc_id,
            "registration": {
                "number": int(doc.number) if doc.number and doc.number.isdigit() else None,
                "symbol": doc.notation,
                "display": doc.symbol,
            },
            "issuedOn": doc.issued_on.isoformat() if doc.issued_on else None,
            "issuer": {"code": doc.issuer.code, "name": doc.issuer.name},
            "kind": {"name": doc.type_name},
            "summary": doc.subject,
            "signedBy": {
                "name": signer.name,
                "title": signer.position,
                "authority": signer.competence,
            }
            if signer
            else None,
            "urgency": URGENCY[int(doc.priority)],
            "security": SECURITY[int(doc.confidentiality)],
            "deadline": doc.due_on.isoformat() if doc.due_on else None,
            "files": {
                "bundle": f"/api/documents/{doc_id}/files.zip",
                "count": len(files),
                "sha256": [hashlib.sha256(b).hexdigest() for b in files.values()],
            },
            "modified": self.tick(),
        }
        self.docs[doc_id] = SimDocument(item, unit, dict(files))
        self._index(doc_id)
        return doc_id

    def _index(self, doc_id: str) -> None:
        """Put an added or modified document at its place in the listing order."""
        self._order.put(doc_id, _when(self.docs[doc_id].item))

    def _listing(self, since: dt.datetime, organ: str | None) -> list[dict[str, Any]]:
        """Documents listed to `organ` modified at or after `since`, in listing order."""
        ids = self._order.ids_since(since, self.docs, lambda doc_id: _when(self.docs[doc_id].item))
        return [doc.item for doc_id in ids if (doc := self.docs[doc_id]).unit in (None, organ)]

    # -- zips ----------------------------------------------------------------------------

    def build_bundle(self, doc_id: str) -> bytes:
        """The zip for a document: its files, plus the hostile entry asked for, if any."""
        doc = self.docs[doc_id]
        if doc.bundle is not None and doc_id not in self.hostile:
            return doc.bundle
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in doc.files.items():
                info = zipfile.ZipInfo(name) if self.zip_utf8_flag else _RawNameInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, data)
            _add_hostile(archive, self.hostile.get(doc_id))
        return out.getvalue()

    # -- handlers ------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return self._tokens.authorized(request)

    @staticmethod
    def _challenge() -> web.Response:
        return web.json_response(
            {"error": "invalid_token"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = self._tokens.issue(self.token_lifetime_s)
        self.tokens_issued += 1
        return web.json_response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime_s,
                "scope": form.get("scope"),
            }
        )

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._challenge()
        if self.garbage_pages > 0:
            self.garbage_pages -= 1
            return web.Response(body=b'[{"id": "VO-', content_type="application/json")
        q = request.query
        try:
            since = dt.datetime.fromisoformat(q.get("modifiedSince", "1970-01-01T00:00:00Z"))
            offset = max(0, int(q.get("offset", "0")))
            limit = min(100, max(1, int(q.get("limit", "20"))))
        except ValueError:
            return web.json_response({"error": "bad_request"}, status=400)
        rows = self._listing(since, q.get("organ"))
        body = orjson.dumps(rows[offset : offset + limit])
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag}
        if offset + limit < len(rows):
            nxt = request.rel_url.update_query({"offset": str(offset + limit)})
            headers["Link"] = f'<{nxt}>; rel="next"'
        return web.Response(body=body, content_type="application/json", headers=headers)

    async def _bundle(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._challenge()
        doc_id = request.match_info["doc_id"]
        if doc_id not in self.docs:
            return web.json_response({"error": "not_found"}, status=404)
        data = self.build_bundle(doc_id)
        resp = web.StreamResponse(headers={"Content-Type": "application/zip"})
        return await stream_bytes(request, resp, data)

    async def _ack(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._challenge()
        doc_id = request.match_info["doc_id"]
        if doc_id not in self.docs:
            return web.json_response({"error": "not_found"}, status=404)
        if doc_id in self._acked:
            return web.json_response({"error": "already_acknowledged"}, status=409)
        body = await request.json()
        self.acks.append(Ack(doc_id, str(body.get("organ")), str(body.get("receivedAt"))))
        self._acked.add(doc_id)
        return web.json_response({"id": doc_id, "status": "acknowledged"}, status=201)


def _add_hostile(archive: zipfile.ZipFile, kind: str | None) -> None:
    if kind == "dotdot":
        archive.writestr("../../etc/cron.d/evil", b"* * * * * root true\n")
    elif kind == "absolute":
        archive.writestr("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
    elif kind == "symlink":
        info = zipfile.ZipInfo("link.pdf")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, b"/etc/shadow")
    elif kind == "bomb":
        archive.writestr(
            zipfile.ZipInfo("bomb.pdf"),
            b"\0" * (8 * 1024 * 1024),
            compress_type=zipfile.ZIP_DEFLATED,
        )
    elif kind == "many":
        for n in range(1100):
            archive.writestr(f"many/{n}.txt", b"")


def _when(item: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(item["modified"]))


def make_simulator(seed: int) -> VofficeSim:
    """A simulator holding a few seeded documents, listed to every unit (demos, `simulate`)."""
    sim = VofficeSim(seed=seed)
    add_demo_documents(sim)
    return sim
