"""An M-Office simulator: token login, page-number listing that shifts, files, receipts.

Faithful to the profile's awkward parts: tokens expire at any time (`expire_tokens()`), the
listing is not a snapshot (`touch(id)` moves a record to the end with a new `ngay_cap_nhat`),
`page_size` is clamped to 100, and timestamps are local strings without offsets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.parse
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from schemas import Document
from simulators.demo_documents import add_demo_documents
from simulators.index import ListingIndex, SimTokens, stream_bytes
from simulators.server import SimServer

WIRE_TIME = "%d/%m/%Y %H:%M:%S"
WIRE_DATE = "%d/%m/%Y"
_GARBAGE = b'{"page": 1, "items": [{"id": 1,'


@dataclass
class SimFile:
    name: str
    data: bytes
    content_type: str = "application/pdf"


@dataclass
class Receipt:
    item_id: int
    received_at: str
    receiver: str


class MofficeSim(SimServer):
    """Knobs: `token_lifetime_s`, `expire_tokens()`, `touch(id)`, `garbage_pages` (the next N
    listings answer broken JSON), `faults` (429/503), and `receipts` / `requests` to assert on.

    Items change through `add_raw`, `add_document` and `touch`, which keep the listing order
    (`ngay_cap_nhat`, then id) as a sorted index, so a listing costs no date parsing.
    """

    profile = "moffice"

    def __init__(
        self,
        *,
        seed: int = 0,
        username: str = "vanthu",
        password: str = "matkhau",  # noqa: S107 (simulator)
        token_lifetime_s: float = 3600.0,
    ) -> None:
        super().__init__(seed=seed, record_bodies=True)
        self.username, self.password = username, password
        self.token_lifetime_s = token_lifetime_s
        self.garbage_pages = 0
        self.items: dict[int, dict[str, Any]] = {}
        self.units: dict[int, str | None] = {}
        self.files: dict[int, SimFile] = {}
        self.receipts: list[Receipt] = []
        self.logins = 0
        self._tokens = SimTokens()
        self._order: ListingIndex[int] = ListingIndex()  # listing order
        self._clock = dt.datetime(2024, 1, 1, 8, 0, 0)
        self._next_id = 90000
        self._next_file_id = 800000
        r = self.app.router
        r.add_post("/api/auth/token", self._login)
        r.add_get("/api/v1/incoming", self._list)
        r.add_get("/api/v1/files/{file_id}", self._file)
        r.add_post("/api/v1/incoming/{item_id}/received", self._receipt)

    # -- knobs ---------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Revoke every token: the next call with one gets `401 token_expired`."""
        self._tokens.clear()

    def tick(self) -> str:
        """Advance the simulated clock by one second; return it in wire form."""
        self._clock += dt.timedelta(seconds=1)
        return self._clock.strftime(WIRE_TIME)

    def touch(self, item_id: int | str) -> str:
        """Update a record now: it moves to the end of the listing. Returns its new time."""
        item = self.items[int(item_id)]
        item["ngay_cap_nhat"] = self.tick()
        self._index(int(item_id))
        return str(item["ngay_cap_nhat"])

    def add_file(
        self, name: str, data: bytes, content_type: str = "application/pdf"
    ) -> dict[str, Any]:
        """Store a file; return its `tep_dinh_kem` entry."""
        self._next_file_id += 1
        file_id = self._next_file_id
        self.files[file_id] = SimFile(name, data, content_type)
        return {
            "id": file_id,
            "ten_tep": name,
            "kich_thuoc": len(data),
            "duong_dan": f"/api/v1/files/{file_id}",
        }

    def add_raw(
        self,
        item: dict[str, Any],
        files: dict[str, bytes] | None = None,
        *,
        unit: str | None = None,
    ) -> str:
        """Serve a wire item as given (a corpus line). Its files are served from `files` by
        `ten_tep`, or as placeholder bytes of `kich_thuoc` length when absent. `unit` None
        lists it to every unit."""
        item = dict(item)
        files = files or {}
        for entry in item.get("tep_dinh_kem") or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), int):
                name = str(entry.get("ten_tep"))
                data = files.get(name) or _placeholder(name, int(entry.get("kich_thuoc") or 0))
                self.files[int(entry["id"])] = SimFile(name, data)
        self.items[int(item["id"])] = item
        self.units[int(item["id"])] = unit
        self._index(int(item["id"]))
        return str(item["id"])

    def add_document(self, doc: Document, files: dict[str, bytes], *, unit: str | None) -> str:
        """Render a common-schema Document as an M-Office item; return its id."""
        self._next_id += 1
        item = {
            "id": self._next_id,
            "so_ky_hieu": doc.symbol,
            "ngay_ban_hanh": doc.issued_on.strftime(WIRE_DATE) if doc.issued_on else None,
            "co_quan_ban_hanh": doc.issuer.name,
            "ma_co_quan": doc.issuer.code,
            "loai_van_ban": doc.type_name,
            "trich_yeu": doc.subject,
            "nguoi_ky": doc.signer.name if doc.signer else None,
            "chuc_vu_nguoi_ky": doc.signer.position if doc.signer else None,
            "do_khan": doc.priority.label if doc.priority < 4 else "Hỏa tốc",
            "do_mat": doc.confidentiality.label,
            "han_xu_ly": doc.due_on.strftime(WIRE_DATE) if doc.due_on else None,
            "noi_nhan": [r.name or r.code for r in doc.recipients],
            "ngay_cap_nhat": self.tick(),
            "tep_dinh_kem": [self.add_file(name, data) for name, data in files.items()],
        }
        self.items[self._next_id] = item
        self.units[self._next_id] = unit
        self._index(self._next_id)
        return str(self._next_id)

    def _index(self, item_id: int) -> None:
        """Put an added or updated item at its place in the listing order."""
        self._order.put(item_id, _when(self.items[item_id]))

    def _listing(self, since: dt.datetime, unit: str | None) -> list[dict[str, Any]]:
        """Items listed to `unit` updated at or after `since`, in listing order."""
        ids = self._order.ids_since(since, self.items, lambda item_id: _when(self.items[item_id]))
        return [self.items[item_id] for item_id in ids if self.units.get(item_id) in (None, unit)]

    # -- handlers ------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return self._tokens.authorized(request)

    @staticmethod
    def _expired() -> web.Response:
        return web.json_response({"error": "token_expired"}, status=401)

    async def _login(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "invalid_request"}, status=400)
        if body.get("username") != self.username or body.get("password") != self.password:
            return web.json_response({"error": "invalid_credentials"}, status=401)
        token = self._tokens.issue(self.token_lifetime_s)
        self.logins += 1
        return web.json_response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": int(self.token_lifetime_s),
            }
        )

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._expired()
        if self.garbage_pages > 0:
            self.garbage_pages -= 1
            return web.Response(
                body=b'{"page": 1, "items": [{"id": 1,', content_type="application/json"
            )
        q = request.query
        try:
            since = dt.datetime.strptime(q["updated_from"], WIRE_TIME)
            page, size = (
                max(1, int(q.get("page", "1"))),
                min(100, max(1, int(q.get("page_size", "20")))),
            )
        except (KeyError, ValueError):
            return web.json_response({"error": "bad_request"}, status=400)
        rows = self._listing(since, q.get("unit"))
        total_pages = max(1, -(-len(rows) // size))
        chunk = rows[(page - 1) * size : page * size]
        return web.json_response(
            {
                "page": page,
                "page_size": size,
                "total_pages": total_pages,
                "total": len(rows),
                "items": chunk,
            },
            dumps=lambda v: orjson.dumps(v).decode(),
        )

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._expired()
        sim_file = self.files.get(int(request.match_info["file_id"]))
        if sim_file is None:
            return web.json_response({"error": "not_found"}, status=404)
        quoted = urllib.parse.quote(sim_file.name, safe="")
        resp = web.StreamResponse(
            headers={
                "Content-Type": sim_file.content_type,
                "Content-Disposition": f"attachment; filename*=UTF-8''{quoted}",
            }
        )
        resp.content_length = len(sim_file.data)
        return await stream_bytes(request, resp, sim_file.data)

    async def _receipt(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._expired()
        item_id = int(request.match_info["item_id"])
        if item_id not in self.items:
            return web.json_response({"error": "not_found"}, status=404)
        body = await request.json()
        self.receipts.append(
            Receipt(item_id, str(body.get("received_at")), str(body.get("receiver")))
        )
        return web.Response(status=204)


def _when(item: dict[str, Any]) -> dt.datetime:
    return dt.datetime.strptime(str(item["ngay_cap_nhat"]), WIRE_TIME)


def _placeholder(name: str, size: int) -> bytes:
    seed = hashlib.sha256(name.encode()).digest()
    return (b"%PDF-1.4\n" + seed * (size // len(seed) + 1))[: max(size, 9)]


def make_simulator(seed: int) -> MofficeSim:
    """A simulator holding a few seeded documents, listed to every unit (demos, `simulate`)."""
    sim = MofficeSim(seed=seed)
    add_demo_documents(sim)
    return sim
