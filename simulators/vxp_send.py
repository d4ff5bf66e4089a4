"""The sending side of the simulated axis: `sendEdoc` of documents, `getSentEdocList`, the
recipients' status replies, and the faults that make sending ambiguous.

A document message is checked against the recipients' state (`refuse`: organ → 18 unknown,
deleted or without a node, 23 locked; with `strict`, an organ without a node in `nodes` is
refused 18), then stored all or none: one entry per (message, recipient) in `sent_log`, and
one pending item per receiving node, so a second bridge node (or a test) receives it. Each
recipient may answer (`replies`: organ → codes such as ("01", "03", "04", "05", "06") or
("02",)) and answer updates, revocations and take-backs (13) with `update_replies` (15 or 16):
those come back as status messages pending for the sending node.

Faults: `fail_before_rate` answers 500 before anything is stored; `fail_after_rate` stores
the message and then loses the answer (the connection cut, or a 500); `answer_delay_s` holds
the answer of a stored message (past a client's timeout). `deliveries` counts the
stored document messages by (edXML DocumentId, recipient) for tests that prove "no duplicate".
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.vxp.edxml import emit_status
from adapters.vxp.message import EdxmlMessage, OrganInfo, ResponseFor, StatusMessage
from bridge.normalize import VN_TZ

if TYPE_CHECKING:
    from simulators.vxp import VxpSim

_STAMP = "%Y/%m/%d %H:%M:%S"
_LIST = "%Y-%m-%d %H:%M:%S"
DESCRIPTIONS = {
    "01": "Đã đến",
    "02": "Từ chối tiếp nhận",
    "03": "Đã tiếp nhận",
    "04": "Đã phân công",
    "05": "Đang xử lý",
    "06": "Đã hoàn thành",
    "15": "Đồng ý",
    "16": "Không đồng ý",
}


@dataclass
class SentEntry:
    """One (message, recipient) of `getSentEdocList`."""

    doc_id: str
    sender_doc_id: str | None
    business: int
    receiver_doc_id: str | None
    from_code: str
    to_code: str
    system_id: str
    sent: dt.datetime
    receive_status: str = "pending"
    received: dt.datetime | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "docId": self.doc_id,
            "senderDocId": self.sender_doc_id,
            "bussinessDocType": self.business,
            "receiverDocId": self.receiver_doc_id,
            "fromCode": self.from_code,
            "toCode": self.to_code,
            "sendStatus": "sent",
            "sendStatusDesc": "Đã gửi",
            "receiveStatus": self.receive_status,
            "receiveStatusDesc": "",
            "sentTime": self.sent.strftime(_LIST),
            "receivedTime": self.received.strftime(_LIST) if self.received else None,
        }


class Sending:
    """The sending side of one VxpSim (`sim.sending`)."""

    def __init__(self, sim: VxpSim) -> None:
        self._sim = sim
        self.nodes: dict[str, str] = {}  # organ code → the system id of its node
        self.refuse: dict[str, str] = {}  # organ code → "18" or "23"
        self.strict = False  # an organ without a node is refused 18
        self.replies: dict[str, tuple[str, ...]] = {}
        self.update_replies: dict[str, str] = {}
        self.fail_before_rate = 0.0
        self.fail_after_rate = 0.0
        self.answer_delay_s = 0.0  # the answer to a stored sendEdoc comes this much later
        self.sent_log: list[SentEntry] = []
        self.deliveries: Counter[tuple[str, str]] = Counter()
        self.fault_counts: Counter[str] = Counter()

    def count(self, document_id: str, organ: str, business: int | None = None) -> int:
        """How many stored document messages about `document_id` reached `organ`."""
        return sum(
            1
            for e in self.sent_log
            if e.sender_doc_id == document_id
            and e.to_code == organ
            and (business is None or e.business == business)
        )

    # ---- sendEdoc ---------------------------------------------------------------------

    def fault(self) -> str | None:
        """ "before", "after" or None for one sendEdoc (one roll of the seeded RNG)."""
        roll = self._sim.rng.random()
        if roll < self.fail_before_rate:
            self.fault_counts["before"] += 1
            return "before"
        if roll < self.fail_before_rate + self.fail_after_rate:
            self.fault_counts["after"] += 1
            return "after"
        return None

    def refusal(self, message: EdxmlMessage) -> tuple[str, str] | None:
        """The FAIL (code, description) refusing the whole message, or None."""
        refused: dict[str, str] = {}
        for recipient in message.recipients:
            code = (recipient.organ_id or "").strip()
            if code in self.refuse:
                refused[code] = self.refuse[code]
            elif self.strict and code not in self.nodes:
                refused[code] = "18"
        if not refused:
            return None
        error = "18" if "18" in refused.values() else "23"
        words = "không nhận được văn bản" if error == "18" else "đang bị khóa"
        return error, f"Đơn vị nhận {words}: {', '.join(refused)}"

    def store(self, message: EdxmlMessage, data: bytes, system_id: str, sender: str) -> str:
        """Store a document message for every recipient; return the sender's DocId."""
        sim = self._sim
        doc_id = sim.new_doc_id()
        business = int((message.business.doc_type if message.business else None) or 0)
        key = message.document_id or ""
        codes = [(r.organ_id or "").strip() for r in message.recipients]
        by_node: dict[str, list[str]] = {}
        for code in codes:
            if code in self.nodes:
                by_node.setdefault(self.nodes[code], []).append(code)
        receiver: dict[str, str] = {}
        for node, served in by_node.items():
            item = sim.add_raw(data, to=served, sender=sender, system_id=node)
            receiver.update(dict.fromkeys(served, item))
        for code in codes:
            entry = SentEntry(
                doc_id, key, business, receiver.get(code), sender, code, system_id, sim.now()
            )
            self.sent_log.append(entry)
            self.deliveries[(key, code)] += 1
            answers = self.replies.get(code, ()) if business == 0 else ()
            if business in (1, 2) and code in self.update_replies:
                answers = (self.update_replies[code],)
            for status in answers:
                self._reply(message, code, status, system_id)
        return doc_id

    def take_back(self, message: StatusMessage, system_id: str) -> None:
        """A status 13 from the sender: the recipients that have the document answer."""
        key = message.response_for.document_id
        for entry in self.sent_log:
            mine = entry.sender_doc_id == key and entry.system_id == system_id
            if mine and entry.business == 0 and entry.to_code in self.update_replies:
                answer = self.update_replies[entry.to_code]
                self._reply_to(message.response_for, entry.to_code, answer, system_id)

    def _reply(self, message: EdxmlMessage, organ: str, code: str, system_id: str) -> None:
        response_for = ResponseFor(
            organ_id=message.sender.organ_id,
            code="/".join(p for p in (message.code.number, message.code.notation) if p)
            if message.code
            else None,
            promulgation_date=message.promulgation.date if message.promulgation else None,
            document_id=message.document_id,
        )
        self._reply_to(response_for, organ, code, system_id)

    def _reply_to(self, response_for: ResponseFor, organ: str, code: str, system_id: str) -> None:
        sim = self._sim
        status = StatusMessage(
            sender=OrganInfo(organ_id=organ),
            response_for=response_for,
            status_code=code,
            description=DESCRIPTIONS.get(code, ""),
            timestamp=sim.now().strftime(_STAMP),
        )
        sim.add_raw(
            emit_status(status),
            to=[response_for.organ_id or ""],
            message_type="status",
            sender=organ,
            system_id=system_id,
        )

    def acknowledged(self, receiver_doc_id: str, status: str) -> None:
        """A receiving node acknowledged its item: the sent entries say so."""
        for entry in self.sent_log:
            if entry.receiver_doc_id == receiver_doc_id and entry.receive_status == "pending":
                entry.receive_status = "received" if status == "done" else "fail"
                entry.received = self._sim.now() if status == "done" else None

    # ---- getSentEdocList --------------------------------------------------------------

    def listing(self, params: Mapping[str, str], system_id: str) -> list[dict[str, Any]] | None:
        """The entries a getSentEdocList asks for; None for bad parameters."""
        mine = [e for e in self.sent_log if e.system_id == system_id]
        if params.get("docId"):
            return [e.summary() for e in mine if e.doc_id == params["docId"]]
        try:
            since = dt.datetime.strptime(params.get("fromDate", ""), _LIST).replace(tzinfo=VN_TZ)
        except ValueError:
            return None
        return [e.summary() for e in mine if e.sent >= since]


def cut(request: web.Request) -> web.Response:
    """Lose the answer: close the connection under the request."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)
