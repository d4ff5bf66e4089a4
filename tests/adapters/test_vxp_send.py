"""Sending on the axis: the edXML a unit sends (round-trip through the parser, property-based),
`sendEdoc` and `getSentEdocList` against the simulated axis, refusals, lost answers, and the
recipients' status replies read back through the node's status messages."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.vxp import PROFILE, VxpSettings, VxpSource, read_status
from adapters.vxp.edxml import parse_message
from adapters.vxp.mapping import STATUS_MEDIA_TYPE, document_from_edxml
from adapters.vxp.message import EdxmlMessage
from adapters.vxp.send import VxpSender, refused_codes
from bridge.blobs import BlobStore
from bridge.errors import PermanentError, TransientError
from bridge.interfaces import (
    AdapterContext,
    AmbiguousSendError,
    AxisRefusedError,
    AxisSender,
    OutgoingMessage,
)
from bridge.normalize import VN_TZ
from schemas import Document, DocumentRef, Organ, Priority, Signer
from simulators.demo_data import pdf_attachments
from simulators.vxp import VxpSim

UNIT = "000.00.31.H59"
SYSTEM, SECRET = "vxp.tieucan", "s-tieucan"
OTHER, OTHER_SECRET = "vxp.sonv", "s-sonv"
SONV, SOTC, SOYT = "000.00.12.H59", "000.00.13.H59", "000.00.14.H59"
BUILT = dt.datetime(2026, 11, 22, 8, 15, 0, tzinfo=VN_TZ)


@pytest.fixture
async def sim() -> AsyncIterator[VxpSim]:
    server = VxpSim(seed=3, systems={SYSTEM: SECRET, OTHER: OTHER_SECRET})
    server.sending.nodes.update({SONV: OTHER, SOTC: OTHER, SOYT: OTHER})
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def ctx(tmp_path: Path) -> AdapterContext:
    return AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))


def _settings(sim: VxpSim, system: str = SYSTEM, secret: str = SECRET) -> VxpSettings:
    return VxpSettings(
        name=f"{system}-src", base_url=sim.base_url, system_id=system, secret=secret, timeout_s=5
    )


def _message(
    files: dict[str, bytes], *, kind: str = "new", number: str = "335", **change: object
) -> OutgoingMessage:
    fields: dict[str, object] = {
        "issuer": Organ(code=UNIT, name="Ủy ban nhân dân huyện Tiểu Cần"),
        "number": number,
        "notation": "UBND-VP",
        "issued_on": dt.date(2026, 11, 20),
        "place": "Tiểu Cần",
        "type_name": "Công văn",
        "subject": "V/v triển khai gửi, nhận văn bản điện tử",
        "signer": Signer(competence="KT. CHỦ TỊCH", position="Phó Chủ tịch", name="Trần Văn B"),
        "priority": Priority.KHAN,
        "due_on": dt.date(2026, 12, 1),
        "recipients": (Organ(code=SONV, name="Sở Nội vụ"), Organ(code=SOTC, name="Sở Tài chính")),
        "attachments": pdf_attachments(files),
    }
    doc = Document.model_validate({**fields, **change})
    return OutgoingMessage(
        document=doc,
        version=1,
        kind=kind,
        document_key=f"{UNIT},2026/11/20,{number}/UBND-VP",
        to_places=("Sở Nội vụ", "Sở Tài chính", "Báo Trà Vinh"),
        main_attachment=0 if files else None,
        reason="Sửa trích yếu" if kind != "new" else None,
        built_at=BUILT,
        files=tuple(files.values()),
    )


# ---- compose ---------------------------------------------------------------------------

_text = (
    st.text(
        alphabet=st.characters(
            codec="utf-8", categories=("L", "N", "Zs", "P"), exclude_characters="\r\x85\u2028\u2029"
        ),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
_codes = st.lists(
    st.from_regex(r"\A000\.00\.[0-9]{2}\.H[0-9]{2}\Z"), min_size=1, max_size=4, unique=True
)
_files = st.dictionaries(
    st.from_regex(r"\A[a-z0-9_-]{1,12}\.(pdf|docx)\Z"), st.binary(max_size=300), max_size=3
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    number=st.integers(1, 99999).map(str),
    subject=_text,
    place=_text,
    signer=_text,
    files=_files,
    kind=st.sampled_from(["new", "update", "revocation"]),
    to=_codes,
    priority=st.sampled_from(list(Priority)),
    built=st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2030, 1, 1)),
)
def test_compose_round_trips_through_the_edxml_parser(
    number: str,
    subject: str,
    place: str,
    signer: str,
    files: dict[str, bytes],
    kind: str,
    to: list[str],
    priority: Priority,
    built: dt.datetime,
) -> None:
    message = _message(
        files, kind=kind, number=number, subject=subject, place=place, priority=priority
    )
    message = OutgoingMessage(
        **{**message.__dict__, "built_at": built.replace(tzinfo=VN_TZ)},
    )
    doc = message.document.model_copy(update={"signer": Signer(name=signer)})
    message = OutgoingMessage(**{**message.__dict__, "document": doc})
    sender = VxpSender.compose.__get__(object.__new__(VxpSender))
    data = sender(message, to)
    assert data == sender(message, to)  # deterministic: the stored bytes are the sent bytes
    parsed = parse_message(data)
    assert isinstance(parsed, EdxmlMessage)
    assert parsed.sender.organ_id == UNIT
    assert [r.organ_id for r in parsed.recipients] == to
    assert parsed.document_id == message.document_key
    assert parsed.to_places == message.to_places
    assert parsed.traces[0].organ_id == UNIT
    assert parsed.traces[0].timestamp == built.strftime("%Y/%m/%d %H:%M:%S")
    assert parsed.business is not None
    assert parsed.business.doc_type == {"new": "0", "update": "2", "revocation": "1"}[kind]
    assert parsed.business.document_id == (None if kind == "new" else message.document_key)
    assert parsed.other_info is not None and parsed.other_info.priority == str(int(priority))
    assert [m.attachment_name for m in parsed.manifest] == list(files)
    assert [base64.b64decode(a.encoded) for a in parsed.attachments] == list(files.values())
    read = document_from_edxml(data)
    assert (read.number, read.notation, read.issued_on) == (
        number,
        "UBND-VP",
        dt.date(2026, 11, 20),
    )
    # free text travels exactly (the mapper then normalizes it as for any sender)
    assert (parsed.subject, parsed.promulgation and parsed.promulgation.place) == (subject, place)
    assert parsed.signer is not None and parsed.signer.full_name == signer
    assert read.due_on == dt.date(2026, 12, 1)
    assert [a.sha256 for a in read.attachments] == [
        hashlib.sha256(d).hexdigest() for d in files.values()
    ]
    if kind != "new":
        assert read.target == DocumentRef(
            issuer=Organ(code=UNIT),
            number=number,
            notation="UBND-VP",
            issued_on=dt.date(2026, 11, 20),
        )


def test_compose_refuses_a_message_it_cannot_build() -> None:
    sender = VxpSender.compose.__get__(object.__new__(VxpSender))
    message = _message({"a.pdf": b"%PDF"})
    with pytest.raises(PermanentError, match="with_files"):
        sender(OutgoingMessage(**{**message.__dict__, "files": ()}), [SONV])
    with pytest.raises(PermanentError, match="SHA-256"):
        sender(OutgoingMessage(**{**message.__dict__, "files": (b"other",)}), [SONV])
    with pytest.raises(PermanentError, match="kind"):
        sender(OutgoingMessage(**{**message.__dict__, "kind": "replace"}), [SONV])
    with pytest.raises(PermanentError, match="recipient"):
        sender(message, [])


async def test_with_files_reads_the_blob_store(ctx: AdapterContext) -> None:
    stored = await ctx.blobs.put_bytes(b"%PDF-1.7 main", max_bytes=1 << 20)
    message = _message({"a.pdf": b"%PDF-1.7 main"})
    doc = message.document.model_copy(
        update={
            "attachments": (
                message.document.attachments[0].model_copy(update={"blob": stored.sha256}),
            )
        }
    )
    bare = OutgoingMessage(**{**message.__dict__, "document": doc, "files": ()})
    assert (await bare.with_files(ctx.blobs)).files == (b"%PDF-1.7 main",)
    missing = doc.attachments[0].model_copy(update={"blob": "0" * 64})
    lost = OutgoingMessage(
        **{**bare.__dict__, "document": doc.model_copy(update={"attachments": (missing,)})}
    )
    with pytest.raises(PermanentError, match="not stored"):
        await lost.with_files(ctx.blobs)


# ---- sendEdoc against the axis ----------------------------------------------------------


async def test_send_reaches_each_recipient_node_and_is_listed(
    sim: VxpSim, ctx: AdapterContext, tmp_path: Path
) -> None:
    assert PROFILE.make_axis_sender is not None
    sender = PROFILE.make_axis_sender(_settings(sim), ctx)
    assert isinstance(sender, AxisSender) and isinstance(sender, VxpSender)
    message = _message({"335.pdf": b"%PDF main", "phu-luc.pdf": b"%PDF annex"})
    file = sender.compose(message, [SONV, SOTC])
    before = dt.datetime.now(VN_TZ) - dt.timedelta(seconds=1)
    async with sender:
        doc_id = await sender.send_edoc(from_organ=UNIT, file=file)
        by_id = await sender.sent_edocs(doc_id=doc_id)
        since = await sender.sent_edocs(since=before)
    assert [(e.doc_id, e.to_code, e.bussiness_doc_type) for e in by_id] == [
        (doc_id, SONV, 0),
        (doc_id, SOTC, 0),
    ]
    assert {e.sender_doc_id for e in since} == {message.document_key}
    assert all(e.send_status == "sent" and e.receive_status == "pending" for e in by_id)
    assert sim.sending.count(message.document_key, SONV) == 1
    # the receiving node (a second bridge node) pulls it like any document
    receiver = VxpSource(
        _settings(sim, OTHER, OTHER_SECRET),
        AdapterContext(units=(SONV, SOTC), blobs=BlobStore(tmp_path / "other")),
    )
    async with receiver:
        records = [r async for page in receiver.pull(None) for r in page.records]
        for record in records:
            await receiver.acknowledge(record)
    assert sorted(r.unit for r in records) == [SONV, SOTC]
    async with sender:
        after = await sender.sent_edocs(doc_id=doc_id)
    assert {e.receive_status for e in after} == {"received"}


@pytest.mark.parametrize(("code", "what"), [("18", "không nhận"), ("23", "khóa")])
async def test_refused_recipients_refuse_the_whole_message(
    sim: VxpSim, ctx: AdapterContext, code: str, what: str
) -> None:
    sim.sending.refuse[SOTC] = code
    sender = VxpSender(_settings(sim), ctx)
    file = sender.compose(_message({}), [SONV, SOTC])
    async with sender:
        with pytest.raises(AxisRefusedError) as refused:
            await sender.send_edoc(from_organ=UNIT, file=file)
    assert refused.value.refused == {SOTC: code}
    assert what in refused.value.description
    assert sim.sending.sent_log == [] and sim.pending() == []


async def test_an_organ_without_a_node_is_refused_18_when_the_axis_is_strict(
    sim: VxpSim, ctx: AdapterContext
) -> None:
    sim.sending.strict = True
    sender = VxpSender(_settings(sim), ctx)
    async with sender:
        with pytest.raises(AxisRefusedError) as refused:
            await sender.send_edoc(
                from_organ=UNIT, file=sender.compose(_message({}), ["000.00.99.H59"])
            )
    assert refused.value.refused == {"000.00.99.H59": "18"}


def test_refused_codes_fall_back_to_every_recipient_when_none_is_named() -> None:
    file = VxpSender.compose(object.__new__(VxpSender), _message({}), [SONV, SOTC])
    assert refused_codes("Đơn vị nhận không hợp lệ", file, "18") == {SONV: "18", SOTC: "18"}
    assert refused_codes(f"khóa: {SOTC.lower()}", file, "23") == {SOTC: "23"}


async def test_lost_answers_are_ambiguous_and_the_list_tells_whether_it_was_stored(
    sim: VxpSim, ctx: AdapterContext
) -> None:
    sender = VxpSender(_settings(sim), ctx)
    before = dt.datetime.now(VN_TZ) - dt.timedelta(seconds=1)
    async with sender:
        sim.sending.fail_before_rate = 1.0
        with pytest.raises(AmbiguousSendError, match="HTTP 500"):
            await sender.send_edoc(
                from_organ=UNIT, file=sender.compose(_message({}, number="1"), [SONV])
            )
        assert await sender.sent_edocs(since=before) == []
        sim.sending.fail_before_rate, sim.sending.fail_after_rate = 0.0, 1.0
        outcomes = set()
        for n in range(2, 8):
            with pytest.raises(AmbiguousSendError) as lost:
                await sender.send_edoc(
                    from_organ=UNIT, file=sender.compose(_message({}, number=str(n)), [SONV])
                )
            outcomes.add("HTTP 5" in str(lost.value))
        listed = await sender.sent_edocs(since=before)
    assert outcomes == {True, False}  # both a cut connection and a 5xx after storing
    assert [e.sender_doc_id for e in listed] == [
        f"{UNIT},2026/11/20,{n}/UBND-VP" for n in range(2, 8)
    ]
    assert sim.sending.fault_counts == {"before": 1, "after": 6}


async def test_nothing_listening_is_transient_and_a_bad_file_permanent(
    sim: VxpSim, ctx: AdapterContext
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = VxpSettings(
        name="x", base_url=f"http://127.0.0.1:{port}", system_id=SYSTEM, secret=SECRET, timeout_s=2
    )
    async with VxpSender(closed, ctx) as nowhere:
        with pytest.raises(TransientError, match="connect"):
            await nowhere.send_edoc(from_organ=UNIT, file=b"<edXML/>")
    async with VxpSender(_settings(sim), ctx) as sender:
        with pytest.raises(PermanentError, match="2003"):
            await sender.send_edoc(from_organ=UNIT, file=b"<not-edxml/>")
        sim.fail["sendEdoc"] = ("-1", "Lỗi hệ thống")  # any other FAIL: not acceptable
        with pytest.raises(PermanentError, match="-1"):
            await sender.send_edoc(from_organ=UNIT, file=b"<edXML/>")
        del sim.fail["sendEdoc"]
        sim.faults.throttle_rate = 1.0
        with pytest.raises(TransientError, match="429"):
            await sender.send_edoc(from_organ=UNIT, file=b"<edXML/>")


async def test_recipients_status_replies_come_back_with_their_sender_and_description(
    sim: VxpSim, ctx: AdapterContext, tmp_path: Path
) -> None:
    sim.sending.replies.update({SONV: ("01", "03", "04", "05", "06"), SOTC: ("02",)})
    sim.sending.update_replies.update({SONV: "15", SOTC: "16"})
    sender = VxpSender(_settings(sim), ctx)
    source = VxpSource(
        _settings(sim), AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "s"))
    )
    message = _message({})
    async with sender, source:
        await sender.send_edoc(from_organ=UNIT, file=sender.compose(message, [SONV, SOTC]))
        update = OutgoingMessage(**{**message.__dict__, "kind": "update", "version": 2})
        await sender.send_edoc(from_organ=UNIT, file=sender.compose(update, [SONV]))
        ref = DocumentRef(
            issuer=Organ(code=UNIT),
            number="335",
            notation="UBND-VP",
            issued_on=dt.date(2026, 11, 20),
        )
        await source.send_status(
            from_organ=UNIT,
            to_document=ref,
            to_organ=Organ(code=UNIT),
            code="13",
            description="Gửi nhầm",
        )
        async with asyncio.timeout(30):
            records = [r async for page in source.pull(None) for r in page.records]
    statuses = [read_status(r) for r in records if r.media_type == STATUS_MEDIA_TYPE]
    assert [(s.from_organ, s.code) for s in statuses] == [
        (SONV, "01"),
        (SONV, "03"),
        (SONV, "04"),
        (SONV, "05"),
        (SONV, "06"),
        (SOTC, "02"),
        (SONV, "15"),
        (SONV, "15"),
        (SOTC, "16"),
    ]
    assert {s.document_id for s in statuses} == {message.document_key}
    assert statuses[5].description == "Từ chối tiếp nhận"


async def test_an_answer_that_never_comes_is_ambiguous(sim: VxpSim, ctx: AdapterContext) -> None:
    settings = VxpSettings(
        name="n", base_url=sim.base_url, system_id=SYSTEM, secret=SECRET, timeout_s=0.2
    )
    sim.sending.answer_delay_s = 1.0
    async with VxpSender(settings, ctx) as sender:
        with pytest.raises(AmbiguousSendError, match="TimeoutError"):
            await sender.send_edoc(from_organ=UNIT, file=sender.compose(_message({}), [SONV]))
    assert sim.sending.count(f"{UNIT},2026/11/20,335/UBND-VP", SONV) == 1


async def test_looking_after_each_ambiguous_failure_sends_each_document_once(
    sim: VxpSim, ctx: AdapterContext
) -> None:
    """The contract's rule, as the outbound flow applies it: after an ambiguous failure, look
    with getSentEdocList (by the DocumentId the message carried) before sending again."""
    sim.sending.fail_before_rate = sim.sending.fail_after_rate = 0.08
    start = dt.datetime.now(VN_TZ) - dt.timedelta(seconds=1)
    keys = []
    async with VxpSender(_settings(sim), ctx) as sender:
        for n in range(1, 61):
            message = _message({}, number=str(n))
            file = sender.compose(message, [SONV, SOTC])  # built once, sent unchanged
            keys.append(message.document_key)
            while True:
                try:
                    await sender.send_edoc(from_organ=UNIT, file=file)
                    break
                except AmbiguousSendError:
                    listed = await sender.sent_edocs(since=start)
                    if any(e.sender_doc_id == message.document_key for e in listed):
                        break
                except TransientError:
                    continue
    assert sim.sending.fault_counts["before"] > 0 and sim.sending.fault_counts["after"] > 0
    for key in keys:
        assert (sim.sending.count(key, SONV), sim.sending.count(key, SOTC)) == (1, 1)
