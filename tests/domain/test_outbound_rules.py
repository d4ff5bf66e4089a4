"""The rules of sending, generated: which documents are never sent (and why), who the recipients
are once successors are resolved, which road reaches each, and that states only move forward;
and what taking a later version changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain import outbound as rules
from bridge.domain.outbound_plan import Routing, plan
from bridge.domain.outgoing import OutDoc, OutRecipient
from bridge.normalize.directory import Resolution
from schemas import Attachment, Confidentiality, Document, Organ, Signature, SignatureStatus
from schemas.outgoing import DispatchState, OutgoingItem, OutgoingRecipient, OutgoingState, Road

CUT = dt.date(2025, 7, 1)


@dataclass
class TableResolver:
    """A directory as a table: code → (name, mail, node, deleted), one successor with a date."""

    organs: dict[str, tuple[str, str | None, bool, bool]]
    successors: dict[str, tuple[str, dt.date]]

    def resolve_at(self, code_or_name: str | None, at: dt.date | None = None) -> Resolution:
        code = (code_or_name or "").strip().upper() or None
        if code in self.successors and (at is None or at >= self.successors[code][1]):
            code = self.successors[code][0]
        if code is None or code not in self.organs:
            return Resolution(code=code, known=False)
        name, mail, node, deleted = self.organs[code]
        return Resolution(code, name, mail, node, deleted, True, "bảng / table")


DIRECTORY = TableResolver(
    organs={
        "A.01": ("Sở A", "a@x.vn", True, False),
        "B.02": ("Sở B", "b@x.vn", False, False),
        "C.03": ("Sở C", None, True, True),
        "N.17": ("Sở mới", None, True, False),
        "O.12": ("Sở cũ", None, False, True),
        "U.31": ("Huyện", None, True, False),
    },
    successors={"O.12": ("N.17", CUT)},
)
CODES = [*DIRECTORY.organs, "Z.99"]


def _doc(
    number: str | None = "12",
    notation: str | None = "UBND-VP",
    on: dt.date | None = dt.date(2026, 1, 5),
    secret: Confidentiality = Confidentiality.THUONG,
    signature: SignatureStatus | None = SignatureStatus.VALID,
) -> Document:
    files = (
        Attachment(
            name="vb.pdf",
            size=1,
            sha256="0" * 64,
            signature=Signature(status=signature) if signature else None,
        ),
    )
    return Document(
        issuer=Organ(code="U.31", name="Huyện"),
        number=number,
        notation=notation,
        issued_on=on,
        subject="Về việc",
        confidentiality=secret,
        attachments=files,
    )


def _item(doc: Document, codes: list[str], version: int = 1, **kw: object) -> OutgoingItem:
    return OutgoingItem(
        send_id=f"s{version}",
        document_id="D1",
        version=version,
        document=doc,
        main_attachment=0,
        recipients=tuple(OutgoingRecipient(organ_id=c, email=f"{c}@home.vn") for c in codes),
        **kw,
    )


@given(
    number=st.sampled_from([None, "", " ", "12"]),
    notation=st.sampled_from([None, "", "UBND-VP"]),
    on=st.sampled_from([None, dt.date(2026, 1, 5)]),
    secret=st.sampled_from(list(Confidentiality)),
    signature=st.sampled_from([None, *SignatureStatus]),
    require=st.booleans(),
)
def test_refusal_reasons(
    number: str | None,
    notation: str | None,
    on: dt.date | None,
    secret: Confidentiality,
    signature: SignatureStatus | None,
    require: bool,
) -> None:
    item = _item(_doc(number, notation, on, secret, signature), ["A.01"])
    reason = rules.refusal(item, require_signature=require)
    if secret is not Confidentiality.THUONG:
        assert reason == "Văn bản mật: không gửi qua mạng"
    elif not (number or "").strip() or not notation or on is None:
        assert reason == "Thiếu số, ký hiệu hoặc ngày ban hành"
    elif require and signature is not SignatureStatus.VALID:
        assert reason == "Tệp chính chưa được ký số hợp lệ"
    else:
        assert reason is None


@given(codes=st.lists(st.sampled_from(CODES), min_size=1, max_size=8), late=st.booleans())
def test_recipients_resolve_once_each(codes: list[str], late: bool) -> None:
    on = CUT if late else CUT - dt.timedelta(days=1)
    found = rules.targets(_item(_doc(on=on), codes), DIRECTORY)
    keys = [t.key for t in found]
    assert len(keys) == len(set(keys))  # one organ, one recipient
    listed = [c for t in found for c in t.listed]
    assert sorted(set(codes)) == sorted(listed)  # every listed code kept, once
    if "O.12" in codes:
        old = next(t for t in found if "O.12" in t.listed)
        assert old.key == ("N.17" if late else "O.12")


@given(
    code=st.sampled_from(CODES),
    roads=st.permutations(list(Road)).flatmap(lambda p: st.integers(1, 4).map(lambda n: p[:n])),
    internal=st.booleans(),
    skip=st.sets(st.sampled_from(list(Road))),
)
def test_road_is_the_first_that_reaches(
    code: str, roads: list[Road], internal: bool, skip: set[Road]
) -> None:
    (target,) = rules.targets(_item(_doc(), [code]), DIRECTORY)
    units = {"U.31"} if internal else set()
    route = rules.choose_road(target, roads, units, skip=skip)
    res = target.resolution
    reaches = {
        Road.INTERNAL: res.code in units,
        Road.AXIS: res.known and res.has_node and not res.deleted,
        Road.MAIL: bool(res.mail or target.email),
        Road.PAPER: True,
    }
    open_roads = [r for r in roads if r not in skip]
    expected = next((r for r in open_roads if reaches[r]), Road.PAPER)
    if Road.PAPER in open_roads and open_roads.index(Road.PAPER) < open_roads.index(expected):
        expected = Road.PAPER
    assert route.road is expected
    assert route.why
    if route.road is Road.MAIL:
        assert route.to == (res.mail or target.email)


@given(st.lists(st.sampled_from(list(DispatchState)), min_size=1, max_size=12))
def test_states_only_move_forward(moves: list[DispatchState]) -> None:
    state = DispatchState.QUEUED
    order = list(DispatchState)
    for new in moves:
        if rules.advances(state, new):
            assert state not in rules.FINAL_STATES or (
                state is DispatchState.FAILED and new is DispatchState.QUEUED
            )
            if new is not DispatchState.QUEUED:
                assert order.index(new) > order.index(state) or state is DispatchState.FAILED
            state = new
    assert not rules.advances(DispatchState.DONE, DispatchState.ARRIVED)


def _stored(rid: int, code: str, state: str, road: str | None) -> OutRecipient:
    return OutRecipient(
        rid,
        1,
        code,
        (code,),
        None,
        None,
        road,
        code,
        "",
        state,
        None,
        1,
        (),
        0,
        None,
        None,
        None,
        "",
    )


ROUTING = Routing(list(Road), False, {"U.31"}, DIRECTORY)
EXISTING = OutDoc(1, "U.31", "out", "D1", "k", 1, "active", None, {}, "")


@given(
    states=st.lists(st.sampled_from(list(DispatchState)), min_size=1, max_size=6),
    kind=st.sampled_from(["update", "revoked", "recalled"]),
)
def test_a_later_version_follows_the_roads_taken(states: list[DispatchState], kind: str) -> None:
    stored = [
        _stored(100 + i, f"R.{i}", s, None if s is DispatchState.REFUSED else "axis")
        for i, s in enumerate(states)
    ]
    state = OutgoingState.ACTIVE if kind == "update" else OutgoingState(kind)
    item = _item(_doc(), [r.code for r in stored], version=2, state=state)
    intake = plan(7, "out", "U.31", item, EXISTING, stored, ROUTING)
    moved = {m.recipient_id: m for m in intake.moves}
    for r in stored:
        m = moved.get(r.id)
        if r.state == "queued" and kind != "update":
            assert m is not None and m.state == "refused" and m.detail == rules.REVOKED
        elif r.state in rules.HOLDS or r.state == "queued":
            assert m is not None and (m.state, m.version) == ("queued", 2)
        else:
            assert m is None  # it never had the document
    assert intake.new_recipients == ()
    repeat = plan(8, "out", "U.31", _item(_doc(), ["A.01"]), EXISTING, stored, ROUTING)
    assert repeat.skip
