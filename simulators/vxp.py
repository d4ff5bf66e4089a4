"""A vxp axis node on loopback: signed operations, pending-until-acknowledged lists, edXML files.

Faithful to the profile's awkward parts: failures are HTTP 200 `{"status": "FAIL"}` with an
ErrorCode, the signature and its 15-minute freshness are checked as received, an item comes
back in every list until `updateStatus` says `done` or `fail`, and getEdoc answers the whole
edXML file in base64. Sending (`sendEdoc` of documents, `getSentEdocList`, the recipients'
status replies, refusals 18/23 and ambiguous failures) is `sim.sending` (simulators/vxp_send.py).
Knobs: `fail` (operation → ErrorCode, ErrorDesc), `clock_skew_s` (the
node's clock error), `list_garbage` (an unreadable pending list), and the base class's faults
(5xx, 429). `directory` is the organ directory it serves (simulators/vxp_directory.py).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.vxp.edxml import EdxmlError, emit_document, emit_status, parse_message
from adapters.vxp.mapping import format_document_id
from adapters.vxp.message import EdxmlMessage, OrganInfo, ResponseFor, StaffInfo, StatusMessage
from adapters.vxp.render import message_for
from adapters.vxp.signing import SignatureRejected, verify
from bridge.normalize import VN_TZ
from schemas import Document, DocumentRef
from simulators.server import SimServer
from simulators.vxp_directory import SimDirectory
from simulators.vxp_send import Sending, cut

DEFAULT_SYSTEM = "vxp.sim.01"
DEFAULT_SECRET = "vxp-sim-secret"  # noqa: S105 - a loopback simulator's demo credential
_STAMP = "%Y/%m/%d %H:%M:%S"


@dataclass
class Item:
    """One message on the axis, pending for `system_id` until acknowledged."""

    doc_id: str
    message_type: str  # "edoc" or "status"
    sender: str
    to: tuple[str, ...]
    data: bytes
    system_id: str
    created: dt.datetime
    status: str = "pending"  # pending, processing, done, fail

    def summary(self) -> dict[str, Any]:
        stamp = self.created.strftime(_STAMP)
        return {
            "docId": self.doc_id,
            "serviceType": "eDoc",
            "messageType": self.message_type,
            "from": self.sender,
            "to": list(self.to),
            "created_time": stamp,
            "updated_time": stamp,
            "status": self.status,
        }


def _answer(**extra: Any) -> web.Response:
    return web.json_response({"status": "OK", "ErrorCode": "0", "ErrorDesc": "", **extra})


def _fail(code: str, description: str) -> web.Response:
    return web.json_response({"status": "FAIL", "ErrorCode": code, "ErrorDesc": description})


class VxpSim(SimServer):
    """The axis node for a set of system ids and their secrets."""

    profile = "vxp"

    def __init__(self, *, seed: int = 0, systems: Mapping[str, str] | None = None) -> None:
        super().__init__(seed=seed)
        self.systems = dict(systems or {DEFAULT_SYSTEM: DEFAULT_SECRET})
        self.items: dict[str, Item] = {}
        self.sent: list[EdxmlMessage | StatusMessage] = []
        self.acks: list[tuple[str, str]] = []
        self.fail: dict[str, tuple[str, str]] = {}
        self.clock_skew_s = 0.0
        self.list_garbage = False
        self.directory = SimDirectory()  # the organ directory, changed by tests between syncs
        self.sending = Sending(self)
        operations = (
            "getReceivedEdocList",
            "getEdoc",
            "updateStatus",
            "sendEdoc",
            "getSentEdocList",
            "getAgenciesList",
            "getSynchronizeUnit",
        )
        for operation in operations:
            self.app.router.add_post(f"/{operation}", self._dispatch)

    # ---- loading the node -------------------------------------------------------------

    def add_document(
        self,
        doc: Document,
        files: Mapping[str, bytes] | None = None,
        *,
        unit: str | None = None,
        units: Sequence[str] = (),
        system_id: str | None = None,
    ) -> str:
        """Put `doc` on the axis for `unit` (or every one of `units`); return its docId."""
        to = [*([unit] if unit else []), *units]
        message = message_for(doc, files or {}, to, sent_at=self.now().strftime(_STAMP))
        return self.add_raw(
            emit_document(message), to=to, sender=doc.issuer.code or "", system_id=system_id
        )

    def add_raw(
        self,
        data: bytes,
        *,
        to: Sequence[str] | str = (),
        message_type: str = "edoc",
        sender: str = "",
        system_id: str | None = None,
    ) -> str:
        """Put raw edXML bytes (a corpus file, hostile input) on the axis; return the docId."""
        doc_id = self.new_doc_id()
        self.items[doc_id] = Item(
            doc_id=doc_id,
            message_type=message_type,
            sender=sender,
            to=(to,) if isinstance(to, str) else tuple(to),
            data=data,
            system_id=system_id or next(iter(self.systems)),
            created=self.now(),
        )
        return doc_id

    def new_doc_id(self) -> str:
        """A fresh docId: 24 hex digits from the seeded RNG."""
        return f"{self.rng.getrandbits(96):024x}"

    def add_status_for(
        self,
        doc: Document,
        *,
        code: str,
        from_organ: str,
        description: str = "",
        staff: str | None = None,
        system_id: str | None = None,
    ) -> str:
        """A receiver's status message about `doc` (which our unit sent); return the docId."""
        ref = DocumentRef(
            issuer=doc.issuer, number=doc.number, notation=doc.notation, issued_on=doc.issued_on
        )
        message = StatusMessage(
            sender=OrganInfo(organ_id=from_organ),
            response_for=ResponseFor(
                organ_id=doc.issuer.code,
                code=doc.symbol,
                promulgation_date=doc.issued_on.strftime("%Y/%m/%d") if doc.issued_on else None,
                document_id=format_document_id(ref),
            ),
            status_code=code,
            description=description,
            timestamp=self.now().strftime(_STAMP),
            staff=StaffInfo(staff=staff) if staff else None,
        )
        return self.add_raw(
            emit_status(message),
            to=[doc.issuer.code or ""],
            message_type="status",
            sender=from_organ,
            system_id=system_id,
        )

    def pending(self, message_type: str | None = None) -> list[Item]:
        """Items not yet acknowledged, oldest first."""
        return [
            i
            for i in self.items.values()
            if i.status in ("pending", "processing")
            and (message_type is None or i.message_type == message_type)
        ]

    def now(self) -> dt.datetime:
        """The node's clock (local time, skewed by `clock_skew_s`)."""
        return dt.datetime.now(VN_TZ) + dt.timedelta(seconds=self.clock_skew_s)

    # ---- the wire ---------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        operation = request.path.strip("/")
        try:
            params = verify(request.headers, self.systems, now=self.now())
        except SignatureRejected as exc:
            return _fail(exc.code, exc.description)
        if operation in self.fail:
            return _fail(*self.fail[operation])
        system_id = params["systemid"]
        if operation == "getReceivedEdocList":
            return self._list(params, system_id)
        if operation == "getEdoc":
            return self._get(params, system_id)
        if operation == "updateStatus":
            return self._update(params, system_id)
        if operation == "getAgenciesList":
            return _answer(**self.directory.agencies())
        if operation == "getSynchronizeUnit":
            changes = self.directory.synchronize(params)
            if changes is None:
                return _fail("2002", "Phiên bản không hợp lệ / bad version")
            return _answer(**changes)
        if operation == "getSentEdocList":
            found = self.sending.listing(params, system_id)
            if found is None:
                return _fail("2002", "Tham số không hợp lệ / bad parameter")
            return _answer(data=found)
        return await self._send(request, params, system_id)

    def _list(self, params: Mapping[str, str], system_id: str) -> web.Response:
        message_type = params.get("messagetype")
        if params.get("servicetype") != "eDoc" or message_type not in ("edoc", "status"):
            return _fail("2002", "Tham số không hợp lệ / bad parameter")
        if self.list_garbage:
            return _answer(data="<html>Hệ thống đang bảo trì</html>")
        items = [i for i in self.pending(message_type) if i.system_id == system_id]
        return _answer(data=[i.summary() for i in items])

    def _item(self, params: Mapping[str, str], system_id: str) -> Item | None:
        item = self.items.get(params.get("docId", ""))
        return item if item is not None and item.system_id == system_id else None

    def _get(self, params: Mapping[str, str], system_id: str) -> web.Response:
        item = self._item(params, system_id)
        if item is None:
            return _fail("2001", "Không tìm thấy văn bản / document not found")
        return _answer(data=base64.b64encode(item.data).decode("ascii"))

    def _update(self, params: Mapping[str, str], system_id: str) -> web.Response:
        status = params.get("status", "")
        item = self._item(params, system_id)
        if status not in ("processing", "done", "fail"):
            return _fail("2002", "Trạng thái không hợp lệ / bad status")
        if item is None:
            return _fail("2001", "Không tìm thấy văn bản / document not found")
        self.acks.append((item.doc_id, status))
        if item.status not in ("done", "fail"):
            item.status = status
            if status in ("done", "fail"):
                self.sending.acknowledged(item.doc_id, status)
        return _answer()

    async def _send(
        self, request: web.Request, params: Mapping[str, str], system_id: str
    ) -> web.Response:
        if params.get("servicetype") != "eDoc" or not params.get("from"):
            return _fail("2002", "Tham số không hợp lệ / bad parameter")
        form = await request.post()
        part = form.get("file_doc")
        if not isinstance(part, web.FileField):
            return _fail("2002", "Thiếu tệp file_doc / file_doc missing")
        data = part.file.read()
        try:
            message = parse_message(data)
        except EdxmlError as exc:
            return _fail("2003", f"Tệp edXML không hợp lệ / bad edXML: {exc}")
        if isinstance(message, StatusMessage):
            self.sent.append(message)
            if (message.status_code or "").strip() == "13":
                self.sending.take_back(message, system_id)
            return _answer(DocId=self.new_doc_id())
        fault = self.sending.fault()
        if fault == "before":
            return web.json_response({"error": "unavailable"}, status=500)
        refusal = self.sending.refusal(message)
        if refusal is not None:
            return _fail(*refusal)
        self.sent.append(message)
        doc_id = self.sending.store(message, data, system_id, params["from"])
        if fault == "after":
            return cut(request) if self.rng.random() < 0.5 else web.Response(status=502)
        if self.sending.answer_delay_s:
            await asyncio.sleep(self.sending.answer_delay_s)
        return _answer(DocId=doc_id)


def make_simulator(seed: int) -> VxpSim:
    """A fresh node with the default system id and secret (see DEFAULT_SYSTEM)."""
    return VxpSim(seed=seed)
