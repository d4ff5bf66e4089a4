"""The vxp source against the simulated axis node: pull, acknowledge, status both ways, errors."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog.testing

from adapters.vxp import VxpSettings, VxpSource, to_document, to_status
from adapters.vxp.edxml import emit_document, parse_message
from adapters.vxp.mapping import STATUS_MEDIA_TYPE
from adapters.vxp.message import EdxmlMessage, StatusMessage
from adapters.vxp.source import INLINE_BYTES, NO_UNIT
from bridge.blobs import BlobStore
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext, Limits
from schemas import Document, DocumentRef, Organ, Priority, RawRecord, Signer
from simulators.vxp import VxpSim
from tests.adapters.test_vxp_mapping import TRUTH, assert_matches_truth
from tests.adapters.thread_hops import count_thread_hops
from tests.corpus_path import CORPUS as CORPUS_ROOT
from tests.e2e.harness import wait_until

SHARED = CORPUS_ROOT
VANDON, BINHDAN = "000.00.33.H49", "000.15.33.H49"
SYSTEM, SECRET = "vxp.saas.03", "s3cret-node-key"


@pytest.fixture
async def sim() -> AsyncIterator[VxpSim]:
    server = VxpSim(seed=7, systems={SYSTEM: SECRET})
    await server.start()
    yield server
    await server.close()


def _source(
    sim: VxpSim, tmp_path: Path, *, secret: str = SECRET, limits: Limits | None = None
) -> VxpSource:
    settings = VxpSettings(
        name="node-vxp", base_url=sim.base_url, system_id=SYSTEM, secret=secret, timeout_s=5
    )
    ctx = AdapterContext(
        units=(VANDON, BINHDAN), blobs=BlobStore(tmp_path / "blobs"), limits=limits or Limits()
    )
    return VxpSource(settings, ctx)


async def _pull(source: VxpSource) -> list[RawRecord]:
    async with asyncio.timeout(30):
        return [r async for page in source.pull(None) for r in page.records]


def _document(**change: Any) -> Document:
    doc = Document(
        issuer=Organ(code="000.00.00.H49", name="Ủy ban nhân dân tỉnh Quảng Ninh"),
        number="1803",
        notation="UBND-KGVX",
        issued_on=dt.date(2024, 9, 10),
        type_name="Công văn",
        subject="V/v góp ý dự thảo Kế hoạch",
        signer=Signer(competence="KT. CHỦ TỊCH", position="Phó Chủ tịch", name="Phan Thị Tuyết"),
        priority=Priority.HOA_TOC_HEN_GIO,
        recipients=(Organ(code=VANDON), Organ(code=BINHDAN)),
    )
    return doc.model_copy(update=change)


async def test_corpus_through_the_axis_matches_truth(sim: VxpSim, tmp_path: Path) -> None:
    """Every corpus message pulled from the node maps to its truth; attachments are in blobs."""
    ids = {sim.add_raw((SHARED / row["file"]).read_bytes(), to=[row["unit"]]): row for row in TRUTH}
    async with _source(sim, tmp_path) as source:
        records = await _pull(source)
    assert isinstance(source._ctx.blobs, BlobStore)
    seen = set()
    for record in records:
        row = ids[record.external_id]
        if row["unit"] != record.unit:
            continue  # the message also names the other unit: its second record
        seen.add(record.external_id)
        if row["kind"] == "bad":
            assert record.error is not None
            with pytest.raises(PermanentError):
                to_document(record)
            continue
        doc = to_document(record)
        assert_matches_truth(doc, row)
        assert all(a.blob == a.sha256 for a in doc.attachments)
        assert all(source._ctx.blobs.path(a.sha256).is_file() for a in doc.attachments)
    assert seen == set(ids)


async def test_pending_until_acknowledged_and_seen_again_after_a_crash(
    sim: VxpSim, tmp_path: Path
) -> None:
    """Without updateStatus a message comes back (also to a restarted node); after it, never."""
    doc_id = sim.add_document(_document(), {"cv.pdf": b"%PDF-1.4 x"}, unit=VANDON)
    async with _source(sim, tmp_path) as source:
        first = await _pull(source)
        assert [r.external_id for r in first] == [doc_id]
        assert sim.calls("POST", "/updateStatus") == []
    async with _source(sim, tmp_path) as restarted:
        again = await _pull(restarted)
        assert [r.external_id for r in again] == [doc_id]
        await restarted.acknowledge(again[0])
        assert await _pull(restarted) == []
    assert sim.acks == [(doc_id, "done")]


async def test_one_message_for_two_units_gives_two_records_and_one_ack(
    sim: VxpSim, tmp_path: Path
) -> None:
    """A message naming both units → one record each, sharing docId; updateStatus(done) once."""
    doc_id = sim.add_document(
        _document(), {"cv.pdf": b"%PDF"}, units=[VANDON, "000.00.99.H49", BINHDAN]
    )
    async with _source(sim, tmp_path) as source:
        records = await _pull(source)
        assert [(r.unit, r.external_id, r.version) for r in records] == [
            (VANDON, doc_id, "1"),
            (BINHDAN, doc_id, "1"),
        ]
        assert records[0].attachments == records[1].attachments
        doc = to_document(records[0])
        assert doc.priority is Priority.HOA_TOC_HEN_GIO and doc.signer is not None
        for record in records:
            await source.acknowledge(record)
        await source.acknowledge(records[0])
    assert sim.acks == [(doc_id, "done")]


async def test_second_ack_after_restart_is_harmless(sim: VxpSim, tmp_path: Path) -> None:
    """Acknowledging a docId the node already closed (after a restart) raises nothing."""
    sim.add_document(_document(), {}, unit=VANDON)
    async with _source(sim, tmp_path) as source:
        (record,) = await _pull(source)
        await source.acknowledge(record)
    sim.items[record.external_id].system_id = "someone-else"  # the node no longer knows it
    async with _source(sim, tmp_path) as restarted:
        await restarted.acknowledge(record)


async def test_message_for_no_unit_is_an_error_record_acknowledged_with_fail(
    sim: VxpSim, tmp_path: Path
) -> None:
    """A message for none of our units → one error record; acknowledging it sends `fail`."""
    doc_id = sim.add_document(_document(), {}, unit="000.00.99.H49")
    async with _source(sim, tmp_path) as source:
        (record,) = await _pull(source)
        assert record.error == NO_UNIT and record.external_id == doc_id
        await source.acknowledge(record)
    assert sim.acks == [(doc_id, "fail")]
    assert sim.pending() == []


async def test_status_messages_in(sim: VxpSim, tmp_path: Path) -> None:
    """A receiver's status about our document is pulled as a status record and maps to_status."""
    ours = _document(issuer=Organ(code=VANDON, name="Ủy ban nhân dân huyện Vân Đồn"))
    doc_id = sim.add_status_for(
        ours, code="03", from_organ="000.00.00.H49", description="Đã vào sổ"
    )
    async with _source(sim, tmp_path) as source:
        (record,) = await _pull(source)
        assert record.media_type == STATUS_MEDIA_TYPE and record.unit == VANDON
        status = to_status(record)
        assert status.status_code == "03" and status.sender.organ_id == "000.00.00.H49"
        assert status.response_for.document_id == "000.00.33.H49,2024/09/10,1803/UBND-KGVX"
        with pytest.raises(PermanentError):
            to_document(record)
        await source.acknowledge(record)
    assert sim.acks == [(doc_id, "done")]


async def test_status_messages_out(sim: VxpSim, tmp_path: Path) -> None:
    """send_status emits a status edXML, sendEdoc's it as messagetype=status, returns DocId."""
    target = DocumentRef(
        issuer=Organ(code="000.00.00.H49"),
        number="1803",
        notation="UBND-KGVX",
        issued_on=dt.date(2024, 9, 10),
    )
    async with _source(sim, tmp_path) as source:
        doc_id = await source.send_status(
            from_organ=VANDON,
            to_document=target,
            to_organ=Organ(code="000.00.00.H49"),
            code="01",
            description="Đã đến",
            staff="Văn thư",
        )
        with pytest.raises(ValueError):
            await source.send_status(
                from_organ=VANDON, to_document=target, to_organ=Organ(), code="99", description=""
            )
    assert len(doc_id) == 24
    (sent,) = sim.sent
    assert isinstance(sent, StatusMessage)
    assert (sent.status_code, sent.description, sent.sender.organ_id) == ("01", "Đã đến", VANDON)
    assert sent.response_for.document_id == "000.00.00.H49,2024/09/10,1803/UBND-KGVX"
    (call,) = sim.calls("POST", "/sendEdoc")
    assert call.headers["XroadVnpt-messagetype"] == "status"
    assert call.headers["XroadVnpt-from"] == VANDON


def _hostile(name: str) -> bytes:
    base = parse_message((SHARED / "vxp" / "016.edxml").read_bytes())
    assert isinstance(base, EdxmlMessage)
    item = base.attachments[0]
    if name == "broken-base64":
        return emit_document(
            dataclasses.replace(base, attachments=(dataclasses.replace(item, encoded="%%%not"),))
        )
    if name == "oversized":
        big = base64.b64encode(b"x" * 5000).decode("ascii")
        return emit_document(
            dataclasses.replace(base, attachments=(dataclasses.replace(item, encoded=big),))
        )
    if name == "xxe":
        return (
            b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&x;</edXML>'
        )
    if name == "billion-laughs":
        return (
            b'<!DOCTYPE edXML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<edXML>&b;&b;&b;</edXML>"
        )
    return (SHARED / "vxp" / "024.edxml").read_bytes()


@pytest.mark.parametrize(
    "name", ["xxe", "billion-laughs", "xxe-parameter", "broken-base64", "oversized"]
)
async def test_hostile_edxml_becomes_an_error_record(
    sim: VxpSim, tmp_path: Path, name: str
) -> None:
    """Entities, DOCTYPEs, broken base64 and an inline file over the cap → error records, acked."""
    doc_id = sim.add_raw(_hostile(name), to=[VANDON])
    limits = Limits(max_inline_attachment_bytes=4096)
    async with _source(sim, tmp_path, limits=limits) as source:
        (record,) = await _pull(source)
        assert record.error and " / " in record.error
        assert record.unit == VANDON and record.external_id == doc_id
        with pytest.raises(PermanentError):
            to_document(record)
        await source.acknowledge(record)
    assert sim.acks == [(doc_id, "done")]
    assert not any((tmp_path / "blobs").glob("??/??/*"))


async def test_unreadable_pending_list_is_one_page_error_record(
    sim: VxpSim, tmp_path: Path
) -> None:
    """A pending list that is not a list → one `page:` error record, no exception."""
    sim.list_garbage = True
    async with _source(sim, tmp_path) as source:
        records = await _pull(source)
    assert len(records) == 2  # one per list: documents and status messages
    assert all(r.external_id.startswith("page:") and r.error for r in records)


async def test_signature_headers_are_sent_and_checked(sim: VxpSim, tmp_path: Path) -> None:
    """Every call carries the XroadVnpt signature the node accepts; a wrong secret → AuthError."""
    async with _source(sim, tmp_path) as source:
        await source.check()
    call = sim.calls("POST", "/getReceivedEdocList")[-1]
    signed = json.loads(call.headers["XroadVnpt-sign-header"])
    assert set(call.headers["XroadVnpt-sign-header-key"].split(";")) == set(signed)
    assert signed["systemid"] == SYSTEM and signed["messagetype"] == "status"
    async with _source(sim, tmp_path, secret="wrong") as source:
        with pytest.raises(AuthError, match="1001"):
            await source.check()


async def test_node_clock_off_by_more_than_fifteen_minutes_is_auth_error(
    sim: VxpSim, tmp_path: Path
) -> None:
    """The node refuses a stale timestamp (its clock 16 minutes ahead): AuthError."""
    sim.clock_skew_s = 16 * 60
    async with _source(sim, tmp_path) as source:
        with pytest.raises(AuthError, match="1002"):
            await source.check()
    sim.clock_skew_s = 14 * 60
    async with _source(sim, tmp_path) as source:
        await source.check()


@pytest.mark.parametrize(
    "answer, error",
    [
        (("1003", "Hệ thống chưa đăng ký"), AuthError),
        (("-1", "Lỗi hệ thống, vui lòng thử lại"), TransientError),
        (("99", "Sai chữ ký số"), AuthError),
        (("2002", "Tham số không hợp lệ"), PermanentError),
    ],
)
async def test_fail_answers_map_through_the_table(
    sim: VxpSim, tmp_path: Path, answer: tuple[str, str], error: type[Exception]
) -> None:
    """HTTP 200 FAIL answers: 1xxx or signature words → Auth, 2xxx → Permanent, else Transient."""
    sim.fail["getReceivedEdocList"] = answer
    async with _source(sim, tmp_path) as source:
        with pytest.raises(error):
            await _pull(source)


async def test_http_errors_are_transient_with_retry_after(sim: VxpSim, tmp_path: Path) -> None:
    """5xx → TransientError; 429 → TransientError carrying Retry-After."""
    sim.faults.down = True
    async with _source(sim, tmp_path) as source:
        with pytest.raises(TransientError):
            await _pull(source)
        sim.faults.down = False
        sim.faults.throttle_rate = 1.0
        sim.faults.retry_after_s = 7
        with pytest.raises(TransientError) as caught:
            await _pull(source)
    assert caught.value.retry_after_s == 7


async def test_get_edoc_refused_becomes_error_record(sim: VxpSim, tmp_path: Path) -> None:
    """getEdoc answering FAIL 2001 for one item → that item is an error record, pull goes on."""
    doc_id = sim.add_document(_document(), {}, unit=BINHDAN)
    sim.fail["getEdoc"] = ("2001", "Không tìm thấy văn bản")
    async with _source(sim, tmp_path) as source:
        (record,) = await _pull(source)
    assert record.external_id == doc_id and record.unit == BINHDAN and record.error


async def test_small_messages_are_read_on_the_loop_large_ones_in_a_thread(
    sim: VxpSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message and attachment up to INLINE_BYTES are parsed and decoded without a thread
    hand-over; a larger attachment (and its message) go through threads. Same bytes either way."""
    hops = count_thread_hops(monkeypatch)
    small, large = b"%PDF-1.4 small", b"%PDF-1.4 " + bytes(INLINE_BYTES)
    for data, threaded in ((small, set()), (large, {"parse_message", "decode_inline"})):
        hops.clear()
        sim.add_document(_document(), {"cv.pdf": data}, units=[VANDON])
        async with _source(sim, tmp_path) as source:
            (record,) = await _pull(source)
            await source.acknowledge(record)
        assert record.error is None
        (attachment,) = record.attachments
        assert attachment.size == len(data)
        blobs = BlobStore(tmp_path / "blobs")  # where the source stored them
        assert b"".join([c async for c in blobs.read(attachment.sha256)]) == data
        assert set(hops) == threaded, hops


async def test_a_receipt_that_fails_unawaited_is_logged_and_sent_again_later(
    sim: VxpSim, tmp_path: Path
) -> None:
    """The node is down while a receipt goes out and the record's waiter is cancelled (a stop
    mid-page): the failed call is logged, not left as an unretrieved task error, and the same
    record is acknowledged once the node answers again."""
    doc_id = sim.add_document(_document(), {"cv.pdf": b"%PDF-1.4 x"}, unit=VANDON)
    async with _source(sim, tmp_path) as source:
        (record,) = await _pull(source)
        sim.faults.down = True
        with structlog.testing.capture_logs() as logs:
            waiter = asyncio.create_task(source.acknowledge(record))
            await asyncio.sleep(0.05)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            await wait_until(
                lambda: any(e["event"] == "vxp_ack_failed" for e in logs),
                timeout_s=60,
                what="the failed receipt logged",
            )
        failed = next(e for e in logs if e["event"] == "vxp_ack_failed")
        assert failed["doc_id"] == doc_id and "TransientError" in failed["error"]
        sim.faults.down = False
        await source.acknowledge(record)
    assert sim.acks == [(doc_id, "done")]
