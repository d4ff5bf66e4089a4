"""The idesk source against its simulator on loopback: paging, resume, acks, faults, hostile pages."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import cast

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from adapters._http import RetryPolicy
from adapters.idesk import IdeskSettings, IdeskSource, to_document
from adapters.idesk.cursor import UNREADABLE_RETRIES
from adapters.idesk.soap import soap_action
from bridge.blobs import BlobStore
from bridge.errors import AuthError, TransientError
from bridge.interfaces import AdapterContext, Limits
from schemas import Document, Organ, Page, Priority, RawRecord, Signer
from simulators.idesk import IdeskSim
from tests.adapters.test_idesk_mapping import ANSWER, CORPUS, DOCUMENT_RE, truth_rows

UNIT = "000.15.33.H49"


@pytest.fixture
async def sim() -> AsyncIterator[IdeskSim]:
    server = IdeskSim(seed=7)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def make_source(
    sim: IdeskSim, tmp_path: Path, *, page_size: int = 5, limits: Limits | None = None, **kw: str
) -> IdeskSource:
    settings = IdeskSettings(
        name="test-idesk",
        profile="idesk",
        base_url=sim.base_url,
        username=kw.get("username", "vanthu"),
        password=SecretStr(kw.get("password", "idesk-secret")),
        page_size=page_size,
        timeout_s=5,
    )
    ctx = AdapterContext(
        units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"), limits=limits or Limits()
    )
    return IdeskSource(settings, ctx)


async def pull_all(
    source: IdeskSource, cursor: str | None = None
) -> tuple[list[RawRecord], str | None]:
    records: list[RawRecord] = []
    async with asyncio.timeout(20):
        async for page in source.pull(cursor):
            records.extend(page.records)
            if page.cursor is not None:  # None leaves the stored cursor where it is
                cursor = page.cursor
    return records, cursor


def sample(n: int) -> Document:
    return Document(
        issuer=Organ(code="000.00.33.H49", name="Ủy ban nhân dân huyện Vân Đồn"),
        number=str(n),
        notation="UBND-VP",
        issued_on=dt.date(2024, 3, 1 + n % 28),
        type_name="Công văn",
        subject=f"V/v hòa giải cơ sở đợt {n}",
        signer=Signer(name="Đỗ Hoàng Lũy", position="Chủ tịch"),
        priority=Priority.KHAN,
    )


def corpus_documents() -> list[bytes]:
    return list(DOCUMENT_RE.findall(ANSWER.read_bytes()))


async def test_corpus_flows_with_attachments_in_blob_store(sim: IdeskSim, tmp_path: Path) -> None:
    """Every corpus Document is pulled once, in order, its files stored under their truth sha256."""
    for xml in corpus_documents():
        sim.add_raw_document_xml(xml)
    rows = sorted((r for r in truth_rows() if r["file"] == "idesk.xml"), key=lambda r: r["index"])
    async with make_source(sim, tmp_path) as source:
        records, _ = await pull_all(source)
    assert [r.external_id for r in records] == [row["external_id"] for row in rows]
    assert isinstance(source.ctx.blobs, BlobStore)
    for record, row in zip(records, rows, strict=True):
        assert record.error is None and record.unit == UNIT and record.ack == record.external_id
        assert record.version == row["modified"][:19]
        assert [a.sha256 for a in record.attachments] == [a["sha256"] for a in row["attachments"]]
        assert all(source.ctx.blobs.path(a.sha256).is_file() for a in record.attachments)
        assert record.payload.startswith(b"<Document") and record.payload.endswith(b"</Document>")
        assert to_document(record).attachments == record.attachments
    calls = sim.calls("POST", "/services/DocumentService.asmx")
    assert calls and all(
        c.headers["SOAPAction"] == soap_action("GetIncomingDocuments") for c in calls
    )
    first = calls[0].body
    assert re.search(
        rb"<GetIncomingDocuments[^>]*>\s*<Username>vanthu</Username>\s*<Password>", first
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [("001.xml", "billion laughs"), ("002.xml", "malformed XML"), ("003.xml", "XXE")],
)
async def test_hostile_document_in_a_page_is_one_error_record(
    sim: IdeskSim, tmp_path: Path, name: str, reason: str
) -> None:
    """A hostile or broken Document among good ones: good ones flow, it becomes an error record."""
    marker = "LIENTHONG-SECRET-MARKER-7f3a"
    secret = tmp_path / "secret.txt"
    secret.write_text(marker)
    raw = (CORPUS / "idesk" / name).read_bytes()
    raw = raw.replace(b"file:///etc/passwd", secret.as_uri().encode())
    for xml in corpus_documents()[:6]:
        sim.add_raw_document_xml(xml)
    bad_id = sim.add_raw_document_xml(raw)
    truth = next(r for r in truth_rows() if r["file"] == f"idesk/{name}")
    assert bad_id == truth["external_id"]
    async with make_source(sim, tmp_path) as source:
        records, _ = await pull_all(source)
    bad = [r for r in records if r.error is not None]
    assert [r.external_id for r in bad] == [bad_id]
    assert reason in (bad[0].error or "") and bad[0].ack == bad_id
    good = [r for r in records if r.error is None]
    assert len(good) == 6
    mapped = [to_document(r).model_dump_json() for r in good]
    everything = b"".join(r.model_dump_json().encode() for r in records) + "".join(mapped).encode()
    assert marker.encode() not in everything


async def test_page_level_entity_doctype_refuses_only_the_referencing_document(
    sim: IdeskSim, tmp_path: Path
) -> None:
    """A DOCTYPE before the envelope: documents using its entities are refused, others flow."""
    docs = corpus_documents()[:3]
    poisoned = docs[1].replace(b"<TrichYeu>", b"<TrichYeu>&xxe;", 1)
    page = (
        b'<?xml version="1.0"?><!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        b'<GetIncomingDocumentsResponse xmlns="http://idesk.vn/services/"><GetIncomingDocumentsResult>'
        b"<TotalRecord>3</TotalRecord><Documents>"
        + docs[0]
        + poisoned
        + docs[2]
        + b"</Documents></GetIncomingDocumentsResult></GetIncomingDocumentsResponse></soap:Body></soap:Envelope>"
    )
    sim.raw_pages.append(page)
    async with make_source(sim, tmp_path) as source:
        records, _ = await pull_all(source)
    assert [r.error is None for r in records] == [True, False, True]
    assert "XXE" in (records[1].error or "")
    assert b"root:" not in b"".join(r.payload for r in records)


async def test_unparseable_page_is_one_error_record_and_the_cursor_keeps_its_place(
    sim: IdeskSim, tmp_path: Path
) -> None:
    """A page with no readable Document yields one page error record and the pages behind it
    are read at once; the cursor stays on the page, and the next pull reads it."""
    ids = [
        sim.add_document(sample(n), {f"{n}.pdf": b"%PDF " + bytes([n])}, unit=UNIT)
        for n in range(1, 13)
    ]
    sim.raw_pages.append(b"<html><body>Service Unavailable</body></html>")
    async with make_source(sim, tmp_path) as source:
        records, cursor = await pull_all(source)
        assert records[0].external_id.startswith("page:")
        assert records[0].error and "GetIncomingDocumentsResult" in records[0].error
        assert records[0].ack is None
        assert [r.external_id for r in records[1:]] == ids[5:], "the pages behind it"
        state = orjson.loads(cursor or "")
        assert (state["from"], state["page"], state["failures"]) == ("2000-01-01T00:00:00", 0, 1)
        records, cursor = await pull_all(source, cursor)
    assert [r.external_id for r in records] == ids
    assert orjson.loads(cursor or "")["failures"] == 0


async def test_documents_behind_a_garbage_page_arrive(sim: IdeskSim, tmp_path: Path) -> None:
    """Garbage served once before two documents: pulls from the stored cursor bring both."""
    sim.raw_pages.append(b"<html><body>Service Unavailable</body>")
    ids = [sim.add_document(sample(n), {}, unit=UNIT) for n in (1, 2)]
    got: list[RawRecord] = []
    cursor = None
    async with make_source(sim, tmp_path) as source:
        for _ in range(3):
            records, cursor = await pull_all(source, cursor)
            got.extend(records)
        later = [sim.add_document(sample(3), {}, unit=UNIT)]
        records, cursor = await pull_all(source, cursor)
        got.extend(records)
    good = [r.external_id for r in got if r.error is None]
    assert good == ids + later
    assert len([r for r in got if r.error is not None]) == 1


async def test_page_index_past_the_end_goes_back_to_page_zero(
    sim: IdeskSim, tmp_path: Path
) -> None:
    """A cursor whose PageIndex lies past the list (an older step-over) reads from PageIndex 0."""
    ids = [sim.add_document(sample(n), {}, unit=UNIT) for n in (1, 2)]
    stale = orjson.dumps({"from": "2000-01-01T00:00:00", "seen": [], "page": 1}).decode()
    async with make_source(sim, tmp_path) as source:
        records, cursor = await pull_all(source, stale)
    assert [r.external_id for r in records] == ids
    assert re.findall(rb"<PageIndex>(\d+)<", b"".join(r.body for r in sim.requests)) == [b"1", b"0"]
    assert orjson.loads(cursor or "")["page"] == 0


async def test_persistently_broken_page_is_bounded_then_stepped_over(
    sim: IdeskSim, tmp_path: Path
) -> None:
    """A lasting broken page: one call to it and one same error per pull (the pages behind
    it flow meanwhile), then the cursor steps past it."""
    ids = [sim.add_document(sample(n), {}, unit=UNIT) for n in range(1, 8)]
    broken = ("2000-01-01T00:00:00", 0)
    sim.broken_pages[broken] = UNREADABLE_RETRIES
    errors: set[str] = set()
    cursor = None
    async with make_source(sim, tmp_path) as source:
        for n in range(1, UNREADABLE_RETRIES + 1):
            left = sim.broken_pages[broken]
            records, cursor = await pull_all(source, cursor)
            assert sim.broken_pages[broken] == left - 1, "the broken page is asked once a pull"
            bad, *behind = records
            assert bad.error
            assert [r.external_id for r in behind] == ids[5:]
            errors.add(bad.external_id)
            state = orjson.loads(cursor or "")
            if n < UNREADABLE_RETRIES:
                assert (state["from"], state["page"], state["failures"]) == (*broken, n)
        assert len(errors) == 1
        assert state["from"] > broken[0], "stepped past, the cursor moves on behind the page"
        rest, _ = await pull_all(source, cursor)
    assert rest == []


async def test_paging_and_resume_after_restart(sim: IdeskSim, tmp_path: Path) -> None:
    """A restarted source resumes from the stored cursor: no document lost or read twice."""
    ids = [sim.add_document(sample(n), {}, unit=UNIT) for n in range(1, 13)]
    async with make_source(sim, tmp_path) as source:
        async with asyncio.timeout(10):
            pages = cast(
                AsyncGenerator[Page, None], source.pull(None)
            )  # an async generator; the protocol declares less
            first = await anext(pages)
            await pages.aclose()
    assert [r.external_id for r in first.records] == ids[:5]
    async with make_source(sim, tmp_path) as restarted:
        rest, cursor = await pull_all(restarted, first.cursor)
        assert [r.external_id for r in rest] == ids[5:]
        again, _ = await pull_all(restarted, cursor)
        assert again == []
        sim.touch(ids[2])
        edited, _ = await pull_all(restarted, cursor)
    assert [r.external_id for r in edited] == [ids[2]]
    assert edited[0].version > first.records[2].version


async def test_many_documents_in_one_second_are_read_once(sim: IdeskSim, tmp_path: Path) -> None:
    """More documents than PageSize sharing a ModifiedDate are each read once; no endless loop."""
    ids = [
        sim.add_document(sample(n), {}, unit=UNIT, modified="2024-05-01T10:00:00") for n in range(7)
    ]
    async with make_source(sim, tmp_path, page_size=3) as source:
        records, cursor = await pull_all(source)
        assert sorted(r.external_id for r in records) == sorted(ids)
        again, _ = await pull_all(source, cursor)
    assert again == []


async def test_confirm_received_only_on_acknowledge(sim: IdeskSim, tmp_path: Path) -> None:
    """Pulling confirms nothing; acknowledge sends ConfirmReceived (idempotent, with UnitCode)."""
    doc_id = sim.add_document(sample(1), {"a.pdf": b"%PDF-1.4"}, unit=UNIT)
    async with make_source(sim, tmp_path) as source:
        records, _ = await pull_all(source)
        assert sim.confirmed == []
        await source.acknowledge(records[0])
        await source.acknowledge(records[0])
    assert sim.confirmed == [(doc_id, UNIT), (doc_id, UNIT)]
    confirm_calls = [c for c in sim.requests if b"ConfirmReceived" in c.body]
    assert all(c.headers["SOAPAction"] == soap_action("ConfirmReceived") for c in confirm_calls)


async def test_wrong_password_is_auth_error(sim: IdeskSim, tmp_path: Path) -> None:
    """A soap:Client fault about credentials raises AuthError from check() and pull()."""
    async with make_source(sim, tmp_path, password="wrong") as source:
        with pytest.raises(AuthError):
            await source.check()
        with pytest.raises(AuthError):
            await pull_all(source)


async def test_check_passes_with_good_credentials(sim: IdeskSim, tmp_path: Path) -> None:
    """check() signs in without reading any document."""
    sim.add_document(sample(1), {}, unit=UNIT)
    async with make_source(sim, tmp_path) as source:
        await source.check()


async def test_server_fault_and_http_errors_are_transient(sim: IdeskSim, tmp_path: Path) -> None:
    """soap:Server faults, 503 without a SOAP body and 429 (with Retry-After) are transient."""
    async with make_source(sim, tmp_path) as source:
        source.retry = RetryPolicy(attempts=2, base_s=0.01)
        sim.server_faults = 2
        with pytest.raises(TransientError, match="soap:Server"):
            await pull_all(source)
        sim.faults.down = True
        with pytest.raises(TransientError, match="503"):
            await pull_all(source)
        sim.faults.down = False
        sim.faults.throttle_rate = 1.0
        sim.faults.retry_after_s = 30  # longer than the policy waits in place
        with pytest.raises(TransientError) as caught:
            await pull_all(source)
        assert caught.value.retry_after_s == 30


async def test_connection_refused_is_transient(tmp_path: Path) -> None:
    """No server listening: TransientError, no aiohttp exception escapes."""
    server = IdeskSim()
    await server.start()
    await server.close()
    async with make_source(server, tmp_path) as source:
        with pytest.raises(TransientError):
            await source.check()


async def test_text_styles_and_wrapped_base64_map_alike(sim: IdeskSim, tmp_path: Path) -> None:
    """CDATA, NFD and mojibake text and base64 wrapped at 76 characters map like plain text."""
    files = {"Tờ trình.pdf": bytes(range(256)) * 4}
    sim.add_document(sample(1), files, unit=UNIT)
    sim.text_style, sim.base64_line = "cdata", 76
    sim.add_document(sample(1), files, unit=UNIT)
    sim.text_style = "nfd"
    sim.add_document(sample(1), files, unit=UNIT)
    sim.text_style = "mojibake"
    sim.add_document(sample(1), files, unit=UNIT)
    async with make_source(sim, tmp_path) as source:
        records, _ = await pull_all(source)
    docs = [to_document(r) for r in records]
    assert docs[0] == docs[1] == docs[2] == docs[3]
    assert docs[0].subject == "V/v hòa giải cơ sở đợt 1" and docs[0].priority is Priority.KHAN
    assert docs[0].attachments[0].name == "Tờ trình.pdf"
    assert b"\n" in records[1].payload.split(b"<Content>")[1][:100]


async def test_bad_attachments_and_missing_fields_are_error_records(
    sim: IdeskSim, tmp_path: Path
) -> None:
    """Broken base64, a file over the cap and a missing SoHieu each make one error record."""
    good = sim.add_document(sample(1), {"a.pdf": b"x" * 50}, unit=UNIT)
    big = sim.add_document(sample(2), {"big.pdf": b"y" * 5000}, unit=UNIT)
    template = corpus_documents()[0]
    broken = re.sub(rb"<Content>[^<]+</Content>", b"<Content>@@not base64@@</Content>", template)
    broken = broken.replace(b"4fb19959-f9d7-4053-96e2-1f0f254cfcfc", b"broken-b64")
    no_symbol = re.sub(rb"<SoHieu>.*?</SoHieu>", b"", template).replace(
        b"4fb19959-f9d7-4053-96e2-1f0f254cfcfc", b"no-symbol"
    )
    sim.add_raw_document_xml(broken, unit=UNIT)
    sim.add_raw_document_xml(no_symbol, unit=UNIT)
    limits = Limits(max_inline_attachment_bytes=1000)
    async with make_source(sim, tmp_path, limits=limits) as source:
        records, _ = await pull_all(source)
    errors = {r.external_id: r.error for r in records}
    assert errors[good] is None
    assert "quá lớn" in (errors[big] or "")
    assert "base64" in (errors["broken-b64"] or "")
    assert "'SoHieu'" in (errors["no-symbol"] or "")


async def test_oversized_page_is_refused_and_skipped(sim: IdeskSim, tmp_path: Path) -> None:
    """An answer over max_page_bytes is never parsed: one same page error, then stepped past."""
    sim.add_document(sample(1), {"a.pdf": b"z" * 4000}, unit=UNIT)
    ids: set[str] = set()
    cursor = None
    async with make_source(sim, tmp_path, limits=Limits(max_page_bytes=2000)) as source:
        for _ in range(UNREADABLE_RETRIES):
            records, cursor = await pull_all(source, cursor)
            assert len(records) == 1 and "quá lớn" in (records[0].error or "")
            ids.add(records[0].external_id)
    assert len(ids) == 1
    assert orjson.loads(cursor or "")["page"] == 1


async def test_documents_of_other_units_are_not_served(sim: IdeskSim, tmp_path: Path) -> None:
    """UnitCode is ctx.units[0]: the simulator serves only that unit's documents."""
    mine = sim.add_document(sample(1), {}, unit=UNIT)
    sim.add_document(sample(2), {}, unit="000.00.33.H49")
    async with make_source(sim, tmp_path) as source:
        records, _ = await pull_all(source)
    assert [r.external_id for r in records] == [mine]


@settings(max_examples=5, deadline=None)
@given(cap=st.integers(1, 4), count=st.integers(6, 14))
def test_short_pages_are_followed_until_total_record_is_covered(cap: int, count: int) -> None:
    """A server answering at most `cap` documents a page (fewer than PageSize asks) while
    TotalRecord counts them all: one pull reads every document, each once."""

    async def scenario(root: Path) -> None:
        async with IdeskSim(seed=7) as sim:
            assert isinstance(sim, IdeskSim)
            ids = [sim.add_document(sample(n), {}, unit=UNIT) for n in range(1, count + 1)]
            sim.max_page_items = cap
            async with make_source(sim, root) as source:
                records, _ = await pull_all(source)
        assert [r.external_id for r in records] == ids

    with tempfile.TemporaryDirectory() as root:
        asyncio.run(scenario(Path(root)))


async def test_pages_past_an_unreadable_page_are_read_in_the_same_pull(
    sim: IdeskSim, tmp_path: Path
) -> None:
    """A broken page in the middle: its error record names the element and the reason, the
    pages behind it arrive in the same pull, and the next pull reads the page again."""
    ids = [sim.add_document(sample(n), {}, unit=UNIT) for n in range(1, 16)]
    sim.broken_calls = {2}  # the second page of the pull
    async with make_source(sim, tmp_path) as source:
        records, cursor = await pull_all(source)
        errors = [r for r in records if r.error is not None]
        assert len(errors) == 1 and "GetIncomingDocumentsResult" in (errors[0].error or "")
        # the broken page (FromDate = the 5th's, PageIndex 0) held the 5th again and 6th..9th
        assert [r.external_id for r in records if r.error is None] == ids[:5] + ids[9:]
        again, _ = await pull_all(source, cursor)
    assert set(ids[5:9]) <= {r.external_id for r in again}
