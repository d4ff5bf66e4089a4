"""Three units on one bridge for the sending tests: the sender's tdoffice (outbox, dispatch log,
home), two receiving units with their homes, one axis node, and a directory given as a table.

The axis's sending side and the mail road are reached through their protocols
(`bridge.interfaces.AxisSender`, `MailSender`): `AxisNode` and `Mailroom` below keep every
message they took, keyed the way duplicates are counted (DocumentId per recipient on the axis,
Message-ID per recipient by mail), and can fail on purpose.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters import registry
from bridge.errors import TransientError
from bridge.interfaces import (
    AmbiguousSendError,
    AxisRefusedError,
    MailRefusedError,
    OutgoingMessage,
    Profiles,
)
from bridge.normalize.directory import Resolution
from schemas.outgoing import SentEdoc

SENDER = "000.00.31.H59"
INTERNAL_A = "000.00.32.H59"
INTERNAL_B = "000.00.34.H59"
AXIS_OK = "000.00.40.H59"
OLD_CODE = "000.00.12.H59"  # re-coded: 000.00.17.H59 from 2025-07-01
NEW_CODE = "000.00.17.H59"
LOCKED = "000.00.23.H59"  # the axis refuses it with 23: falls back to mail
DEAD_MAIL = "000.00.55.H59"  # mail only, and its mailbox refuses (550): falls back to paper
NOWHERE = "000.00.99.H59"  # unknown, no address: paper
CUT = dt.date(2025, 7, 1)


@dataclass
class TableResolver:
    """The organ directory as a table (code → name, mail, node, deleted), one successor."""

    organs: dict[str, tuple[str, str | None, bool, bool]] = field(
        default_factory=lambda: {
            SENDER: ("UBND huyện Tiểu Cần", None, True, False),
            INTERNAL_A: ("UBND xã A", None, True, False),
            INTERNAL_B: ("UBND xã B", None, True, False),
            AXIS_OK: ("Sở Tài chính", "stc@tv.gov.vn", True, False),
            NEW_CODE: ("Sở Nội vụ", None, True, False),
            OLD_CODE: ("Sở Nội vụ (cũ)", None, False, True),
            LOCKED: ("Sở Y tế", "syt@tv.gov.vn", True, False),
            DEAD_MAIL: ("Ban Dân tộc", "bdt@dead.tv.gov.vn", False, False),
        }
    )
    successors: dict[str, tuple[str, dt.date]] = field(
        default_factory=lambda: {OLD_CODE: (NEW_CODE, CUT)}
    )

    def resolve_at(self, code_or_name: str | None, at: dt.date | None = None) -> Resolution:
        code = (code_or_name or "").strip().upper() or None
        why = "bảng / table"
        if code in self.successors and (at is None or at >= self.successors[code][1]):
            code, why = self.successors[code][0], "mã cũ / old code"
        if code is None or code not in self.organs:
            return Resolution(code=code, known=False, reason="không có / unknown")
        name, mail, node, deleted = self.organs[code]
        return Resolution(code, name, mail, node, deleted, True, why)


@dataclass
class AxisNode:
    """The axis's sending side: stores a message for all its recipients or none; `refuse`
    codes answer 23; `fail_before`/`fail_after` are the chances a send fails before storing
    (a 503) or after storing with the answer lost."""

    refuse: set[str] = field(default_factory=lambda: {LOCKED})
    fail_before: float = 0.0
    fail_after: float = 0.0
    seed: int = 1
    name: str = "axis"
    stored: list[dict[str, Any]] = field(default_factory=list)  # one per (message, recipient)
    sends: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def compose(self, message: OutgoingMessage, to: Sequence[str]) -> bytes:
        return json.dumps(
            {
                "key": message.document_key,
                "kind": message.kind,
                "version": message.version,
                "to": list(to),
                "subject": message.document.subject,
            }
        ).encode()

    async def send_edoc(self, *, from_organ: str, file: bytes) -> str:
        self.sends += 1
        body = json.loads(file)
        if self.rng.random() < self.fail_before:
            raise TransientError("503 trước khi lưu / before storing")
        refused = {c: "23" for c in body["to"] if c in self.refuse}
        if refused:
            raise AxisRefusedError(refused, f"23: {', '.join(refused)}")
        doc_id = f"D{len(self.stored) + 1}"
        btype = {"new": 0, "revocation": 1, "update": 2}[body["kind"]]
        for code in body["to"]:
            self.stored.append(
                {
                    "doc_id": doc_id,
                    "key": body["key"],
                    "btype": btype,
                    "to": code,
                    "version": body["version"],
                    "at": dt.datetime.now(dt.UTC),
                }
            )
        if self.rng.random() < self.fail_after:
            raise AmbiguousSendError("câu trả lời bị mất / answer lost")
        return doc_id

    async def sent_edocs(self, *, doc_id: str | None = None, since: Any = None) -> list[SentEdoc]:
        return [
            SentEdoc(
                doc_id=s["doc_id"],
                sender_doc_id=s["key"],
                bussiness_doc_type=s["btype"],
                to_code=s["to"],
                send_status="sent",
                sent_time=s["at"],
            )
            for s in self.stored
            if (doc_id is None or s["doc_id"] == doc_id) and (since is None or s["at"] >= since)
        ]

    def per_recipient(self) -> Counter[tuple[str, int, str]]:
        """(DocumentId, BussinessDocType, recipient) → how many times stored."""
        return Counter((s["key"], s["btype"], s["to"]) for s in self.stored)


@dataclass
class Mailroom:
    """The unit's mailbox over SMTP: `dead` addresses answer 550, `tempfail` is the chance of
    a 451."""

    dead: set[str] = field(default_factory=lambda: {"bdt@dead.tv.gov.vn"})
    tempfail: float = 0.0
    seed: int = 2
    name: str = "mail"
    address: str = "ubndtieucan@tv.gov.vn"
    accepted: list[tuple[str, str, str]] = field(default_factory=list)  # (to, Message-ID, subj)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def compose(
        self, message: OutgoingMessage, *, to: str, message_id: str, in_reply_to: str | None = None
    ) -> bytes:
        prefix = {"update": "Cập nhật: ", "revocation": "Thu hồi: "}.get(message.kind, "")
        return json.dumps(
            {
                "to": to,
                "id": message_id,
                "subject": prefix + message.document.subject,
                "reply": in_reply_to,
            }
        ).encode()

    async def send(self, *, to: str, message: bytes) -> None:
        if to in self.dead:
            raise MailRefusedError("550 hộp thư không tồn tại / no such mailbox")
        if self.rng.random() < self.tempfail:
            raise TransientError("451 thử lại sau / try again later")
        body = json.loads(message)
        self.accepted.append((to, body["id"], body["subject"]))


def registry_with(mail: Mailroom) -> Profiles:
    """The registry, the mail road through `mail`."""
    profiles = dict(registry())
    profiles["mailbox"] = dataclasses.replace(
        profiles["mailbox"], make_mail_sender=lambda settings, ctx: mail
    )
    return profiles


def config_dict(tmp: Path, office: Any, homes: dict[str, Any], node: Any) -> dict[str, Any]:
    """The sender (outbox + home on `office`, node `node`) and two receiving units."""
    system_id, secret = next(iter(node.systems.items()))
    units: list[dict[str, Any]] = [
        {
            "id": SENDER,
            "name": "UBND huyện Tiểu Cần",
            "sources": [
                {
                    "name": "tc-vxp",
                    "profile": "vxp",
                    "base_url": node.base_url,
                    "system_id": system_id,
                    "secret": secret,
                    "poll_interval": 0.3,
                }
            ],
            "sinks": [
                {
                    "name": "tc-home",
                    "profile": "tdoffice",
                    "base_url": office.base_url,
                    "api_key": office.api_key,
                }
            ],
            "outboxes": [
                {
                    "name": "tc-out",
                    "profile": "tdoffice",
                    "base_url": office.base_url,
                    "api_key": office.api_key,
                    "poll_interval": 0.2,
                    "smtp": {
                        "host": "127.0.0.1",
                        "port": 2525,
                        "tls": "none",
                        "from": "ubndtieucan@tv.gov.vn",
                    },
                }
            ],
        }
    ]
    for unit, home in homes.items():
        units.append(
            {
                "id": unit,
                "name": f"xã {unit}",
                "sinks": [
                    {
                        "name": f"home-{unit[7:9]}",
                        "profile": "tdoffice",
                        "base_url": home.base_url,
                        "api_key": home.api_key,
                        "status_poll_interval": 0.3,
                    }
                ],
            }
        )
    return {
        "bridge": {"data_dir": str(tmp / "data"), "shutdown_grace": 5},
        "http": {"listen": "127.0.0.1:0"},
        "units": units,
    }
