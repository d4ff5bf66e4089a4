"""Rules of sending (văn bản đi), pure: which documents are never sent, who the recipients are
once successors are resolved, which road reaches each, and how a recipient's state moves.

contract.md "Sending (văn bản đi)" and tdoffice.md "Dispatch reports" are the source of every
rule here; the runner (`bridge.outbound`) applies them and the store keeps what they decide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bridge.normalize.directory import Resolution, Resolver, normalize_code
from schemas import Document, SignatureStatus
from schemas.outgoing import DispatchState, OutgoingItem, OutgoingState, Road

CLASSIFIED = "Văn bản mật: không gửi qua mạng"
UNNUMBERED = "Thiếu số, ký hiệu hoặc ngày ban hành"
UNSIGNED = "Tệp chính chưa được ký số hợp lệ"
REVOKED = "Văn bản đã bị thu hồi"
CANCELLED = "Người vận hành hủy"
PAPER_TASK = "Gửi bản giấy"
ALL_ROADS: tuple[Road, ...] = (Road.INTERNAL, Road.AXIS, Road.MAIL, Road.PAPER)
TAKE_BACK_CODE = "13"

S = DispatchState
# The order of the states on one road: a report never goes back along it.
_RANK: Mapping[DispatchState, int] = {
    S.QUEUED: 0,
    S.SENT: 1,
    S.ARRIVED: 2,
    S.REGISTERED: 3,
    S.ASSIGNED: 4,
    S.PROCESSING: 5,
    S.DONE: 6,
    S.REFUSED: 7,
    S.FAILED: 7,
    S.UNDELIVERABLE: 7,
}
FINAL_STATES = frozenset({S.DONE, S.REFUSED, S.FAILED, S.UNDELIVERABLE})
# States in which the road has the document (later versions go to it by that road).
HOLDS = frozenset({S.SENT, S.ARRIVED, S.REGISTERED, S.ASSIGNED, S.PROCESSING, S.DONE})

# edXML status codes from a recipient on the axis → its state (15/16 answer an update,
# a revocation or a take-back: the state stays, the code is relayed).
AXIS_CODES: Mapping[str, DispatchState | None] = {
    "01": S.ARRIVED,
    "02": S.REFUSED,
    "03": S.REGISTERED,
    "04": S.ASSIGNED,
    "05": S.PROCESSING,
    "06": S.DONE,
    "15": None,
    "16": None,
}
# A receiving unit's home status on the internal road → the recipient's state.
HOME_STATES: Mapping[str, DispatchState] = {
    "received": S.REGISTERED,
    "assigned": S.ASSIGNED,
    "processing": S.PROCESSING,
    "done": S.DONE,
    "rejected": S.REFUSED,
}


def refusal(item: OutgoingItem, *, require_signature: bool) -> str | None:
    """Why this document is never sent (the contract's words), or None."""
    doc = item.document
    if doc.confidentiality.is_secret:
        return CLASSIFIED
    if not (doc.number or "").strip() or not (doc.notation or "").strip() or not doc.issued_on:
        return UNNUMBERED
    if require_signature and not main_file_signed(item):
        return UNSIGNED
    return None


def main_file_signed(item: OutgoingItem) -> bool:
    """Whether the main file (the one marked main, else the first) has a `valid` signature."""
    files = item.document.attachments
    if not files:
        return False
    index = item.main_attachment if item.main_attachment is not None else 0
    if not 0 <= index < len(files):
        return False
    signature = files[index].signature
    return signature is not None and signature.status is SignatureStatus.VALID


def document_key(doc: Document) -> str:
    """The edXML DocumentId `OrganId,yyyy/MM/dd,Number/Notation`: the same in every message."""
    day = doc.issued_on.strftime("%Y/%m/%d") if doc.issued_on else ""
    return f"{doc.issuer.code or ''},{day},{doc.number or ''}/{doc.notation or ''}"


def message_kind(item: OutgoingItem, first_version: bool) -> str:
    """What a version says to recipients that have the document: new, update, revocation,
    take-back."""
    if item.state is OutgoingState.REVOKED:
        return "revocation"
    if item.state is OutgoingState.RECALLED:
        return "take-back"
    return "new" if first_version else "update"


@dataclass(frozen=True)
class Target:
    """One recipient once resolved: the organ `key` stands for, with every listed entry that
    named it (`listed`: organIds as the clerk chose them, or addresses when no code)."""

    key: str
    listed: tuple[str, ...]
    name: str | None
    email: str | None
    resolution: Resolution


def targets(item: OutgoingItem, resolver: Resolver) -> list[Target]:
    """The recipients of a document, each resolved as of its issue date; recipients that
    resolve to one organ are one (their listed codes kept together), in the clerk's order."""
    at = item.document.issued_on
    found: dict[str, Target] = {}
    for r in item.recipients:
        listed = normalize_code(r.organ_id) or (r.email or "").strip().lower() or r.organ_name
        if not listed:
            continue
        res = resolver.resolve_at(r.organ_id, at) if r.organ_id else Resolution(code=None)
        key = res.code or listed
        prior = found.get(key)
        if prior is None:
            found[key] = Target(key, (listed,), r.organ_name or res.name, r.email, res)
        elif listed not in prior.listed:
            found[key] = Target(
                key, (*prior.listed, listed), prior.name, prior.email or r.email, prior.resolution
            )
    return list(found.values())


@dataclass(frozen=True)
class Route:
    road: Road
    to: str | None
    why: str


def choose_road(
    target: Target,
    roads: Sequence[Road],
    internal_units: Collection[str],
    *,
    skip: Collection[Road] = (),
) -> Route:
    """The first of `roads` (less those that failed for good, `skip`) that reaches `target`;
    paper when none does (paper is always possible, listed or not)."""
    res = target.resolution
    code = res.code
    for road in roads:
        if road in skip:
            continue
        if road is Road.INTERNAL and code is not None and code in internal_units:
            return Route(road, code, "đơn vị cùng cầu nối / a unit of this bridge")
        if road is Road.AXIS and code is not None and reaches_axis(res):
            return Route(road, code, "có trong danh bạ, có nút trục / directory organ, node")
        if road is Road.MAIL:
            if res.mail:
                return Route(road, res.mail, "hộp thư công vụ trong danh bạ / directory mail")
            if target.email:
                return Route(road, target.email, "địa chỉ thư của hệ thống / home address book")
        if road is Road.PAPER:
            break
    return Route(Road.PAPER, None, "không có đường điện tử / no electronic road")


def reaches_axis(res: Resolution) -> bool:
    """An organ of the directory, not deleted, with a node: the axis can deliver to it."""
    return res.known and res.has_node and not res.deleted


def rank(state: str) -> int:
    """A state's place on its road (the three ends share the last)."""
    return _RANK[DispatchState(state)]


def advances(current: DispatchState, new: DispatchState) -> bool:
    """Whether `new` moves a recipient forward on its road (a final state is not left, except
    `failed`, after which a new road starts at queued)."""
    if current in FINAL_STATES:
        return current is S.FAILED and new is S.QUEUED
    return _RANK[new] > _RANK[current]


def accepts(current: str, new: str, code: str | None, *, fresh: bool = False) -> bool:
    """Whether a recipient in `current` takes the move to `new`: forward on its road, a code
    relayed in its current state (15, 16 answering an update, a revocation or a take-back),
    or anything on a fresh line (another version, or another road once the last failed)."""
    if fresh or code in ("15", "16"):
        return True
    return advances(DispatchState(current), DispatchState(new))


def state_of_code(code: str) -> DispatchState | None:
    """The state an axis status code moves a recipient to (None: relayed, state unchanged)."""
    return AXIS_CODES.get(code)


def is_code_known(code: str) -> bool:
    return code in AXIS_CODES


def local_iso(at: dt.datetime) -> str:
    """A dispatch report's `at`: Vietnam time (UTC+7)."""
    return at.astimezone(dt.timezone(dt.timedelta(hours=7))).isoformat(timespec="seconds")


def listed_first(listed: Iterable[str]) -> str:
    """The recipient as the dispatch log names it: the first organId the clerk listed."""
    return next(iter(listed))
