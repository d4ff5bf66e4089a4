"""The tdoffice outbox on the simulator: an append-only outgoing log, signed webhooks of each
entry, and the dispatch endpoint with the exact rules of tdoffice.md ("Dispatch reports").

A test (or the demo) issues, updates, revokes and recalls documents through `Outbox`; each
change appends one entry (a new `version`, a new `sendId`) to the log and, when `webhook_url`
is set, is pushed signed as `document.issued`/`updated`/`revoked`/`recalled`, retried until a
2xx. The dispatch endpoint keeps every report in `dispatch[documentId]`, oldest first.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from adapters.tdoffice.payload import from_document
from schemas import Document

if TYPE_CHECKING:
    from simulators.tdoffice import TdofficeSim

JsonObject = dict[str, Any]
VN = dt.timezone(dt.timedelta(hours=7))
ROADS = ("internal", "axis", "mail", "paper")
# states in the order they run on one road; the three ends share the last rank
RANK = {
    "queued": 0,
    "sent": 1,
    "arrived": 2,
    "registered": 3,
    "assigned": 4,
    "processing": 5,
    "done": 6,
    "refused": 7,
    "failed": 7,
    "undeliverable": 7,
}
STATUS_CODES = ("01", "02", "03", "04", "05", "06", "15", "16")
EVENTS = {
    "active": "document.updated",
    "revoked": "document.revoked",
    "recalled": "document.recalled",
}


def _now() -> str:
    return dt.datetime.now(VN).isoformat(timespec="seconds")


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(obj), status=status, content_type="application/json")


def _invalid(errors: list[JsonObject]) -> web.Response:
    return _json({"errors": errors}, 422)


def _is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return dt.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


class Outbox:
    """The outgoing side of one TdofficeSim. Knobs: `webhook_url`, `webhook_secret`.
    Observations: `entries` (the log), `dispatch` (documentId → reports, oldest first),
    `dispatch_answers` (every answer status, in order)."""

    def __init__(self, sim: TdofficeSim) -> None:
        self._sim = sim
        self.entries: list[tuple[str | None, bytes]] = []  # append-only: (unit, item)
        self.current: dict[str, JsonObject] = {}  # documentId → its latest item
        self.webhook_url: str | None = None
        self.webhook_secret = "td-outbox-secret"  # noqa: S105 - a loopback simulator's secret
        self.dispatch: dict[str, list[JsonObject]] = {}
        self.dispatch_answers: list[int] = []
        self._keys: dict[str, bytes] = {}
        self._pushes: set[asyncio.Task[int]] = set()
        r = sim.app.router
        r.add_get("/api/v2/documents/outgoing", self._get_log)
        r.add_post("/api/v2/documents/{doc_id}/dispatch", self._post_dispatch)
        r.add_get("/api/v2/documents/{doc_id}/dispatch", self._get_dispatch)

    # -- the test API ---------------------------------------------------------------------

    def issue(
        self,
        doc: Document,
        files: Mapping[str, bytes],
        recipients: Sequence[Mapping[str, str | None]],
        *,
        main: str | None = None,
        unit: str | None = None,
    ) -> str:
        """Issue `doc` (its issuer is the unit) to `recipients` (`organId`, `organName`,
        `email`); `files` maps attachment names to bytes; `main` names the main file (the
        first attachment by default). Returns the new documentId (version 1)."""
        sim = self._sim
        file_ids = [
            sim.store_file(files[att.name], att.content_type, att.name) for att in doc.attachments
        ]
        document_id = sim.new_id()
        item = from_document(doc, file_ids, document_id=document_id, version=1, updated_at=_now())
        main = main if main is not None else (doc.attachments[0].name if doc.attachments else None)
        for att in item["attachments"]:
            att["main"] = att["name"] == main
        item["recipients"] = [
            {"organId": r.get("organId"), "organName": r.get("organName"), "email": r.get("email")}
            for r in recipients
        ]
        item.update(state="active", reason=None)
        self._append(item, unit, "document.issued")
        return document_id

    def update(self, document_id: str, **changes: Any) -> int:
        """Change wire fields (camelCase) of an issued document; a new entry with version + 1."""
        item = copy.deepcopy(self.current[document_id])
        item.update(changes)
        item["version"] = int(item["version"]) + 1
        item["updatedAt"] = _now()
        self._append(item, self._unit_of(document_id), EVENTS[item["state"]])
        return int(item["version"])

    def revoke(self, document_id: str, reason: str = "Thu hồi văn bản") -> int:
        """Thu hồi: the organ cancels the document."""
        return self.update(document_id, state="revoked", reason=reason)

    def recall(self, document_id: str, reason: str = "Gửi nhầm") -> int:
        """Lấy lại: the organ takes back a document sent by mistake."""
        return self.update(document_id, state="recalled", reason=reason)

    def add_raw(self, item: Any, *, unit: str | None = None) -> None:
        """Append any JSON value to the log as given (hostile input)."""
        self.entries.append((unit, orjson.dumps(item)))

    def log_of(self, document_id: str) -> list[JsonObject]:
        """The dispatch reports recorded for a document, oldest first."""
        return [entry["report"] for entry in self.dispatch.get(document_id, [])]

    async def settle(self) -> None:
        """Wait for the webhook pushes under way."""
        while self._pushes:
            await asyncio.gather(*list(self._pushes), return_exceptions=True)

    def _append(self, item: JsonObject, unit: str | None, event: str) -> None:
        item["sendId"] = self._sim.new_id()
        self.current[item["documentId"]] = item
        self.entries.append((unit, orjson.dumps(item)))
        if self.webhook_url is not None:
            push = self._sim.push(self.webhook_url, event, copy.deepcopy(item), self.webhook_secret)
            task = asyncio.get_running_loop().create_task(push)
            self._pushes.add(task)
            task.add_done_callback(self._pushes.discard)

    def _unit_of(self, document_id: str) -> str | None:
        for unit, data in reversed(self.entries):
            if orjson.loads(data).get("documentId") == document_id:
                return unit
        return None

    # -- the API --------------------------------------------------------------------------

    async def _get_log(self, request: web.Request) -> web.Response:
        return self._sim.page(request, self.entries)

    def _recipients(self, document_id: str) -> set[str]:
        """Every organId any version of the document listed."""
        found: set[str] = set()
        for _, data in self.entries:
            item = orjson.loads(data)
            if isinstance(item, dict) and item.get("documentId") == document_id:
                found.update(str(r.get("organId")) for r in item.get("recipients") or ())
        return found

    async def _post_dispatch(self, request: web.Request) -> web.Response:
        self._sim.unit_for_key(request)
        document_id = request.match_info["doc_id"]
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return _json({"errors": [{"field": "Idempotency-Key", "message": "required"}]}, 400)
        if document_id not in self.current:
            return self._answer(_json({"error": "not_found"}, 404))
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            return self._answer(_invalid([{"field": None, "message": "a JSON object expected"}]))
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        if key in self._keys:
            same = self._keys[key] == canonical
            return self._answer(
                _json({"recorded": True}, 200)
                if same
                else _json({"error": "idempotency_key_reused"}, 409)
            )
        errors = self._check(document_id, body)
        if errors:
            return self._answer(_invalid(errors))
        conflict = self._conflict(document_id, body)
        if conflict is not None:
            return self._answer(_json(conflict, 409))
        self._keys[key] = canonical
        entry = {"idempotencyKey": key, "recordedAt": _now(), "report": body}
        self.dispatch.setdefault(document_id, []).append(entry)
        return self._answer(_json({"recorded": True}, 201))

    def _answer(self, response: web.Response) -> web.Response:
        self.dispatch_answers.append(response.status)
        return response

    def _check(self, document_id: str, body: JsonObject) -> list[JsonObject]:
        """422 errors: a recipient not in the document, or a bad value."""
        errors: list[JsonObject] = []

        def bad(field: str, message: str) -> None:
            errors.append({"field": field, "message": message})

        if body.get("recipient") not in self._recipients(document_id):
            bad("recipient", "not a recipient of the document")
        if body.get("to") is not None and not isinstance(body.get("to"), str):
            bad("to", "a string or null")
        version = body.get("version")
        latest = int(self.current[document_id]["version"])
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= latest:
            bad("version", f"an integer from 1 to {latest}")
        if body.get("road") is not None and body.get("road") not in ROADS:
            bad("road", "one of " + ", ".join(ROADS) + " or null")
        if body.get("state") not in RANK:
            bad("state", "unknown state")
        if body.get("statusCode") is not None and body.get("statusCode") not in STATUS_CODES:
            bad("statusCode", "unknown status code")
        if not _is_time(body.get("at")):
            bad("at", "an RFC 3339 time with an offset")
        if body.get("detail") is not None and not isinstance(body.get("detail"), str):
            bad("detail", "a string or null")
        unknown = set(body) - {
            "recipient",
            "to",
            "version",
            "road",
            "state",
            "statusCode",
            "at",
            "detail",
        }
        errors.extend({"field": name, "message": "unknown field"} for name in sorted(unknown))
        return errors

    def _conflict(self, document_id: str, body: JsonObject) -> JsonObject | None:
        """409 for a state regression on (recipient, road, version) or a road in use."""
        recipient, road, version = body["recipient"], body.get("road"), body["version"]
        reports = [
            e["report"]
            for e in self.dispatch.get(document_id, [])
            if e["report"]["recipient"] == recipient
        ]
        same = [r for r in reports if r.get("road") == road and r["version"] == version]
        if same:
            last = same[-1]["state"]
            if last != "failed" and RANK[body["state"]] < RANK[last]:
                return {"error": "state_regression", "state": last}
        on_roads = [r for r in reports if r.get("road") is not None]
        if road is not None and on_roads and on_roads[-1]["road"] != road:
            previous = on_roads[-1]["road"]
            states = [r["state"] for r in on_roads if r["road"] == previous]
            if states[-1] != "failed":
                return {"error": "road_in_use"}
        return None

    async def _get_dispatch(self, request: web.Request) -> web.Response:
        self._sim.unit_for_key(request)
        document_id = request.match_info["doc_id"]
        if document_id not in self.current:
            return _json({"error": "not_found"}, 404)
        return _json({"data": self.log_of(document_id)})
