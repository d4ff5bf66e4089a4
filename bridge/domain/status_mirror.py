"""How a home system's processing status is mirrored to the senders of a document.

A sender that asked for status (its road wrote the first status message, e.g. edXML's 01
"received") hears what the unit's home system reports: each reported status becomes a status
message with the code of the sender's status vocabulary, naming the document as that first
message did. A road that joins a document late hears every status already reported, in the
order a document moves through at home.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.domain.enums import RecordOutcome
from schemas import RemoteStatus

# Home status → (code, label) in the edXML status vocabulary (the vxp axis's).
EDXML_STATUS_CODES: Mapping[str, tuple[str, str]] = {
    RemoteStatus.RECEIVED: ("03", "đã tiếp nhận / registered"),
    RemoteStatus.ASSIGNED: ("04", "phân công / assigned"),
    RemoteStatus.PROCESSING: ("05", "đang xử lý / being handled"),
    RemoteStatus.DONE: ("06", "hoàn thành / done"),
    RemoteStatus.REJECTED: ("02", "từ chối tiếp nhận / refused"),
}
FINAL_STATUSES = frozenset(
    {RemoteStatus.DONE, RemoteStatus.REJECTED}
)  # nothing more to ask the home system
# Outcomes of a record whose sender takes part in the document, so hears its status.
JOINED = frozenset({RecordOutcome.DOCUMENT, RecordOutcome.DUPLICATE, RecordOutcome.REVISION})


@dataclass(frozen=True)
class StatusReply:
    """A business status message owed to the sender of a record."""

    code: str
    description: str
    from_organ: str
    to_organ: dict[str, Any]
    ref: dict[str, Any]


def is_final(status: str) -> bool:
    """After this status the home system is not asked about the document again."""
    return status in FINAL_STATUSES


def is_mirrored(status: str, codes: Mapping[str, tuple[str, str]] = EDXML_STATUS_CODES) -> bool:
    """Whether senders hear of this home status at all."""
    return status in codes


def hears_status(outcome: str, replies: Iterable[StatusReply]) -> bool:
    """Whether a decision's record joins a document as a road whose sender hears its status."""
    return outcome in JOINED and any(True for _ in replies)


def home_reply(
    unit: str,
    to_organ: dict[str, Any],
    ref: dict[str, Any],
    status: str,
    note: str | None,
    codes: Mapping[str, tuple[str, str]] = EDXML_STATUS_CODES,
) -> StatusReply:
    """The status message mirroring `status`, reported by the home system of `unit`."""
    code, label = codes[status]
    return StatusReply(code, f"{label}{': ' + note if note else ''}", unit, to_organ, ref)


def reported_in_order(
    events: Iterable[tuple[str, str | None, int]],
    codes: Mapping[str, tuple[str, str]] = EDXML_STATUS_CODES,
) -> list[tuple[str, str | None]]:
    """(status, note) of reported events (status, note, id) a late sender is owed: the mirrored
    ones, in the order a document moves through at home, then as they were reported."""
    order = {status: rank for rank, status in enumerate(codes)}
    mirrored = [e for e in events if e[0] in order]
    return [(s, n) for s, n, _ in sorted(mirrored, key=lambda e: (order[e[0]], e[2]))]
