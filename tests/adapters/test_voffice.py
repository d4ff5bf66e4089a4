"""The V-Office source against its simulator over real HTTP, and its mapper on the corpus."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import random
import tracemalloc
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.voffice import PROFILE, VofficeSettings, VofficeSource, to_document
from adapters.voffice.bundle import (
    INLINE_BYTES,
    READ_CHUNK_BYTES,
    SMALL_BUNDLE_BYTES,
    entry_name,
    extract,
)
from adapters.voffice.cursor import EPOCH, UNREADABLE_RETRIES, Cursor
from adapters.voffice.mapping import read_file
from adapters.voffice.source import next_link
from bridge.blobs import BlobStore
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext, Limits
from bridge.normalize import fold_key
from schemas import Document, Page, RawRecord
from schemas.document import Confidentiality, Organ, Priority, Signer
from simulators import factories
from simulators.server import Handler
from simulators.voffice import VofficeSim
from tests.adapters.inflight import InFlight
from tests.adapters.thread_hops import count_thread_hops
from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT
UNIT = "000.00.33.H49"


def truth_rows() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (CORPUS / "truth.jsonl").read_text().splitlines()]
    return [r for r in rows if r["profile"] == "voffice"]


def corpus_items() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (CORPUS / "voffice.jsonl").read_text().splitlines()]


@pytest.fixture
async def sim() -> AsyncIterator[VofficeSim]:
    server = VofficeSim(seed=2)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def make_source(
    sim: VofficeSim,
    blobs: BlobStore,
    *,
    unit: str = UNIT,
    page_size: int = 100,
    secret: str = "bimat",
    limits: Limits | None = None,
    download_concurrency: int = 8,
) -> VofficeSource:
    settings = VofficeSettings(
        name="test-voffice",
        profile="voffice",
        base_url=sim.base_url,
        client_id="lienthong",
        client_secret=SecretStr(secret),
        page_size=page_size,
        download_concurrency=download_concurrency,
    )
    ctx = AdapterContext(units=(unit,), blobs=blobs, limits=limits or Limits())
    return VofficeSource(settings, ctx)


async def drain(source: VofficeSource, cursor: str | None) -> list[Page]:
    async with asyncio.timeout(30):
        return [page async for page in source.pull(cursor)]


def records_of(pages: list[Page]) -> list[RawRecord]:
    return [r for p in pages for r in p.records]


def sample_document(n: int) -> Document:
    return Document(
        issuer=Organ(code="000.00.00.H49", name="Ủy ban nhân dân tỉnh Quảng Ninh"),
        number=str(n),
        notation="UBND-KGVX",
        issued_on=dt.date(2024, 5, n % 28 + 1),
        type_name="Công văn",
        subject=f"V/v kiểm thử số {n}",
        priority=Priority.THUONG_KHAN,
        confidentiality=Confidentiality.THUONG,
        signer=Signer(name="Phạm Văn A", position="Phó Chủ tịch", competence="KT. CHỦ TỊCH"),
        due_on=dt.date(2024, 6, 1),
    )


def add_documents(sim: VofficeSim, count: int) -> list[str]:
    return [
        sim.add_document(
            sample_document(n),
            {f"Tệp {n}.pdf": b"%PDF-" + bytes([n]), "Phụ lục.pdf": b"%PDF-annex" + bytes([n])},
            unit=UNIT,
        )
        for n in range(1, count + 1)
    ]


def subject_key(subject: str) -> str:
    """Truth compares subjects with `V/v`, `V/V` and `Về việc` as one form."""
    key = fold_key(subject)
    for prefix in (fold_key("Về việc"), "v/v"):
        if key.startswith(prefix):
            return "v/v" + key.removeprefix(prefix)
    return key


def assert_matches_truth(doc: Document, row: dict[str, Any]) -> None:
    def same(a: str | None, b: str | None) -> bool:
        return fold_key(a or "") == fold_key(b or "")

    assert doc.number == row["number"]
    assert same(doc.notation, row["notation"]), (doc.notation, row["notation"])
    assert doc.issued_on is not None and doc.issued_on.isoformat() == row["promulgation_date"]
    assert same(doc.issuer.name, row["issuer_name"]), (doc.issuer.name, row["issuer_name"])
    if "issuer_code" in row["present"]:
        assert doc.issuer.code == row["issuer_code"]
    assert same(doc.type_name, row["type_name"]), (doc.type_name, row["type_name"])
    assert subject_key(doc.subject) == subject_key(row["subject"]), (doc.subject, row["subject"])
    assert doc.signer is not None
    assert same(doc.signer.name, row["signer_name"]), (doc.signer.name, row["signer_name"])
    assert same(doc.signer.position, row["signer_position"])
    assert int(doc.priority) == row["priority"]
    assert int(doc.confidentiality) == row["confidentiality"]
    assert (doc.due_on.isoformat() if doc.due_on else None) == row["due_date"]
    got = sorted((fold_key(a.name), a.sha256) for a in doc.attachments)
    assert got == sorted((fold_key(a["name"]), a["sha256"]) for a in row["attachments"])


async def test_every_corpus_record_maps_to_its_truth(sim: VofficeSim, blobs: BlobStore) -> None:
    """Each corpus document and its zip, pulled through the simulator, maps to its truth."""
    rows = {r["external_id"]: r for r in truth_rows()}
    for item in corpus_items():
        row = rows[item["id"]]
        sim.add_raw(item, (CORPUS / "voffice" / f"{item['id']}.zip").read_bytes(), unit=row["unit"])
    seen: set[str] = set()
    for unit in sorted({r["unit"] for r in rows.values()}):
        async with make_source(sim, blobs, unit=unit) as source:
            records = records_of(await drain(source, None))
        for record in records:
            row = rows[record.external_id]
            assert record.error is None, record.error
            assert all(a.blob and blobs.path(a.blob).is_file() for a in record.attachments)
            if row["kind"] == "bad":
                with pytest.raises(PermanentError) as info:
                    to_document(record)
                assert "issuedOn" in info.value.reason
            else:
                assert_matches_truth(to_document(record), row)
            seen.add(record.external_id)
    assert seen == set(rows)


def test_secret_corpus_record_is_mapped_with_its_level() -> None:
    """`SECRET` maps to Tối mật; the document is mapped, not refused."""
    record = read_file((CORPUS / "voffice.jsonl").read_text().splitlines()[1].encode(), "v")
    assert to_document(record).confidentiality == Confidentiality.TOI_MAT


@pytest.mark.parametrize(
    ("urgency", "security", "priority", "secrecy"),
    [
        ("FLASH", "TOP_SECRET", 3, 3),
        ("very_urgent", "Confidential", 2, 1),
        ("Urgent", "none", 1, 0),
        (None, None, 0, 0),
    ],
)
def test_enum_case_variants(
    urgency: str | None, security: str | None, priority: int, secrecy: int
) -> None:
    """Urgency and security enums are read whatever their letter case."""
    item = corpus_items()[0] | {"urgency": urgency, "security": security}
    doc = to_document(read_file(orjson.dumps(item), "x.json"))
    assert (int(doc.priority), int(doc.confidentiality)) == (priority, secrecy)


@pytest.mark.parametrize(
    "change",
    [
        {"issuedOn": ""},
        {"issuedOn": "31/02/2024"},
        {"security": "RESTRICTED"},
        {"registration": {"number": None, "symbol": None, "display": "không số"}},
        {"summary": None},
        {"issuer": "UBND"},
    ],
)
def test_unreadable_documents_raise_permanent_error(change: dict[str, Any]) -> None:
    """Bad dates, unknown security, unreadable symbols and wrong types are refused."""
    item = corpus_items()[0] | change
    with pytest.raises(PermanentError):
        to_document(read_file(orjson.dumps(item), "x.json"))


def test_display_only_and_utc_times() -> None:
    """A display-only registration is parsed; UTC `modified` does not shift the issue date."""
    item = corpus_items()[11]
    assert item["registration"]["number"] is None and item["modified"].endswith("Z")
    doc = PROFILE.to_document(PROFILE.read_file(orjson.dumps(item), "x.json"))
    assert (doc.number, doc.notation) == ("1", "SY-UBND")
    assert doc.issued_on == dt.date(2024, 1, 5)


def test_zip_names_without_utf8_flag_are_recovered() -> None:
    """Names stored as UTF-8 without the flag (read as cp437) come back as Vietnamese."""
    with zipfile.ZipFile(CORPUS / "voffice" / "VO-2023-608352.zip") as archive:
        names = [entry_name(info) for info in archive.infolist()]
    assert names == ["Tờ trình số 4.pdf", "Danh sách đính kèm.pdf"]


def test_next_link_parsing() -> None:
    """`rel="next"` is found among several links; absent means none."""
    header = '</a?offset=0>; rel="prev", </a?offset=200>; rel="next"'
    assert next_link(header) == "/a?offset=200"
    assert next_link('</a>; rel="prev"') is None and next_link(None) is None


async def test_bad_credentials_are_auth_errors(sim: VofficeSim, blobs: BlobStore) -> None:
    """A refused client secret is an AuthError; the right one passes `check()`."""
    async with make_source(sim, blobs, secret="sai") as source:
        with pytest.raises(AuthError):
            await source.check()
    async with make_source(sim, blobs) as source:
        await source.check()
    (token_call, *_) = sim.calls("POST", "/oauth2/token")
    assert b"scope=documents.read+documents.ack" in token_call.body


async def test_token_revoked_mid_run_is_renewed(sim: VofficeSim, blobs: BlobStore) -> None:
    """An `invalid_token` 401 at any call renews the token and retries once."""
    ids = add_documents(sim, 5)
    got: list[RawRecord] = []
    async with make_source(sim, blobs, page_size=2) as source, asyncio.timeout(30):
        async for page in source.pull(None):
            sim.expire_tokens()
            got.extend(page.records)
        await source.acknowledge(got[0])
    assert [r.external_id for r in got] == ids
    assert all(r.error is None and len(r.attachments) == 2 for r in got)
    assert sim.tokens_issued >= 4 and [a.doc_id for a in sim.acks] == [ids[0]]


async def test_short_lived_token_is_renewed_before_expiry(
    sim: VofficeSim, blobs: BlobStore
) -> None:
    """With a short lifetime the token is renewed ahead of time, not after a 401."""
    sim.token_lifetime_s = 0.5
    add_documents(sim, 3)
    async with make_source(sim, blobs) as source:
        await drain(source, None)
        await asyncio.sleep(0.5)
        await drain(source, None)
    assert len(sim.calls("GET", "/api/documents/received")) == 2
    assert sim.tokens_issued >= 2


async def test_not_modified_answers_304_and_yields_nothing(
    sim: VofficeSim, blobs: BlobStore
) -> None:
    """An idle poll sends the stored ETag, gets 304, and yields no page."""
    add_documents(sim, 2)
    async with make_source(sim, blobs) as source:
        first = await drain(source, None)
        second = await drain(source, first[-1].cursor)
        assert records_of(second) == [] and Cursor.load(second[-1].cursor).etag
        third = await drain(source, second[-1].cursor)
        assert third == []
        new = add_documents(sim, 1)
        fourth = await drain(source, second[-1].cursor)
    assert [r.external_id for r in records_of(fourth)] == new
    conditional = [
        r for r in sim.calls("GET", "/api/documents/received") if "If-None-Match" in r.headers
    ]
    assert len(conditional) == 2


async def test_paging_follows_links_and_survives_shifts(sim: VofficeSim, blobs: BlobStore) -> None:
    """Documents modified while paging move to the end; no version is lost or repeated."""
    ids = add_documents(sim, 9)
    got: list[RawRecord] = []
    touched = False
    async with make_source(sim, blobs, page_size=3) as source, asyncio.timeout(30):
        async for page in source.pull(None):
            got.extend(page.records)
            if not touched:
                sim.touch(ids[0])
                sim.touch(ids[1])
                touched = True
    keys = [(r.external_id, r.version) for r in got]
    assert len(keys) == len(set(keys))
    assert {r.external_id for r in got} == set(ids)
    for moved in ids[:2]:
        assert (moved, sim.docs[moved].item["modified"]) in keys


async def test_link_next_is_followed_within_one_timestamp(
    sim: VofficeSim, blobs: BlobStore
) -> None:
    """Five documents with one `modified` are read through `Link rel=next` pages of two."""
    for n in range(5):
        sim.add_raw(
            corpus_items()[0]
            | {"id": f"VO-2024-9{n}", "files": None, "modified": "2024-03-01T08:00:00+07:00"},
            unit=UNIT,
        )
    async with make_source(sim, blobs, page_size=2) as source:
        pages = await drain(source, None)
    assert sorted(r.external_id for r in records_of(pages)) == [f"VO-2024-9{n}" for n in range(5)]
    offsets = [r.query["offset"] for r in sim.calls("GET", "/api/documents/received")]
    # Epoch → the shared time moves the cursor, so the second call starts there again.
    assert offsets == ["0", "0", "2", "4"]


async def test_resume_after_restart_from_cursor(sim: VofficeSim, blobs: BlobStore) -> None:
    """A new source started from a stored cursor reads exactly what was not yet stored."""
    ids = add_documents(sim, 7)
    async with make_source(sim, blobs, page_size=3) as source, asyncio.timeout(30):
        pulled = cast(
            AsyncGenerator[Page, None], source.pull(None)
        )  # an async generator; the protocol declares less
        page = await anext(pulled)
        await pulled.aclose()
    async with make_source(sim, blobs, page_size=3) as source:
        rest = records_of(await drain(source, page.cursor))
    assert [r.external_id for r in page.records + tuple(rest)] == ids


async def test_acknowledgements_only_for_stored_records(sim: VofficeSim, blobs: BlobStore) -> None:
    """Pulling acknowledges nothing; acknowledge posts 201 once, a repeat (409) is fine."""
    ids = add_documents(sim, 3)
    async with make_source(sim, blobs) as source:
        records = records_of(await drain(source, None))
        assert sim.calls("POST", "/api/documents/") == []
        await source.acknowledge(records[2])
        await source.acknowledge(records[2])
    assert [a.doc_id for a in sim.acks] == [ids[2]] and sim.acks[0].organ == UNIT
    assert len(sim.calls("POST", f"/api/documents/{ids[2]}/acknowledgements")) == 2


async def test_throttling_and_outages_are_transient(sim: VofficeSim, blobs: BlobStore) -> None:
    """429 carries Retry-After into TransientError; 503 is transient too."""
    sim.faults.throttle_rate, sim.faults.retry_after_s = 1.0, 11
    sim.faults.exempt = ("/oauth2/",)
    async with make_source(sim, blobs) as source:
        with pytest.raises(TransientError) as info:
            await drain(source, None)
        assert info.value.retry_after_s == 11
        sim.faults.throttle_rate, sim.faults.down = 0.0, True
        with pytest.raises(TransientError):
            await drain(source, None)


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "bomb", "many"])
async def test_hostile_zip_becomes_error_record(
    sim: VofficeSim, blobs: BlobStore, kind: str
) -> None:
    """A hostile bundle makes its record an error record; the page's others flow."""
    ids = add_documents(sim, 3)
    sim.hostile[ids[1]] = kind
    limits = Limits(max_zip_entries=50, max_zip_ratio=100)
    async with make_source(sim, blobs, limits=limits) as source:
        records = records_of(await drain(source, None))
    assert [r.external_id for r in records] == ids
    assert records[1].error and "zip" in records[1].error and records[1].ack == ids[1]
    assert records[0].error is None and records[2].error is None
    assert len(records[2].attachments) == 2


async def test_bundle_hash_mismatch_and_corrupt_zip(sim: VofficeSim, blobs: BlobStore) -> None:
    """Hashes are compared as a set; a wrong hash or a broken zip is an error record."""
    ids = add_documents(sim, 3)
    files = sim.docs[ids[0]].item["files"]
    files["sha256"] = list(reversed(files["sha256"]))
    sim.docs[ids[1]].item["files"]["sha256"][0] = "0" * 64
    sim.docs[ids[2]].bundle = b"PK\x03\x04 not really a zip"
    async with make_source(sim, blobs) as source:
        records = records_of(await drain(source, None))
    assert records[0].error is None
    assert records[1].error and "SHA-256" in records[1].error
    assert records[2].error and "zip" in records[2].error


async def test_zip_without_utf8_flag_through_the_adapter(sim: VofficeSim, blobs: BlobStore) -> None:
    """A bundle written without the UTF-8 flag still gives Vietnamese names."""
    sim.zip_utf8_flag = False
    (doc_id,) = add_documents(sim, 1)
    raw = sim.build_bundle(doc_id)
    assert not any(i.flag_bits & 0x800 for i in zipfile.ZipFile(io.BytesIO(raw)).infolist())
    async with make_source(sim, blobs) as source:
        (record,) = records_of(await drain(source, None))
    assert sorted(a.name for a in record.attachments) == ["Phụ lục.pdf", "Tệp 1.pdf"]


async def test_unreadable_page_becomes_one_error_record(sim: VofficeSim, blobs: BlobStore) -> None:
    """A listing that is not JSON yields one error record; the cursor keeps its place."""
    ids = add_documents(sim, 2)
    sim.garbage_pages = 1
    async with make_source(sim, blobs) as source:
        pages = await drain(source, None)
        (bad,) = records_of(pages)
        assert bad.external_id.startswith("page:") and bad.error and bad.ack is None
        cursor = Cursor.load(pages[0].cursor)
        assert (cursor.since, cursor.offset, cursor.failures) == (EPOCH, 0, 1)
        after = await drain(source, pages[0].cursor)
        assert [r.external_id for r in records_of(after)] == ids
        assert Cursor.load(after[-1].cursor).failures == 0


async def test_documents_behind_a_garbage_page_arrive(sim: VofficeSim, blobs: BlobStore) -> None:
    """Garbage served once before two documents: pulls from the stored cursor bring both."""
    sim.garbage_pages = 1
    ids = add_documents(sim, 2)
    got: list[RawRecord] = []
    cursor = None
    async with make_source(sim, blobs) as source:
        for _ in range(3):
            pages = await drain(source, cursor)
            got.extend(records_of(pages))
            cursor = pages[-1].cursor if pages else cursor
        later = add_documents(sim, 1)
        got.extend(records_of(await drain(source, cursor)))
    good = [r.external_id for r in got if r.error is None]
    assert sorted(good) == sorted(ids + later) and len(good) == 3
    assert len([r for r in got if r.error is not None]) == 1


async def test_cursor_past_the_end_goes_back_to_the_mark(sim: VofficeSim, blobs: BlobStore) -> None:
    """A cursor whose offset lies past the list (an older step-over) reads again from offset 0."""
    ids = add_documents(sim, 2)
    stale = Cursor(offset=100).dump()
    async with make_source(sim, blobs) as source:
        pages = await drain(source, stale)
    assert [r.external_id for r in records_of(pages)] == ids
    offsets = [r.query["offset"] for r in sim.calls("GET", "/api/documents/received")]
    assert offsets == ["100", "0"]


async def test_persistently_broken_page_is_bounded_then_stepped_over(
    sim: VofficeSim, blobs: BlobStore
) -> None:
    """A lasting broken page: one call and one same error per pull, then stepped past."""
    ids = add_documents(sim, 5)
    sim.garbage_pages = UNREADABLE_RETRIES
    errors: set[str] = set()
    cursor = None
    async with make_source(sim, blobs, page_size=2) as source:
        for n in range(1, UNREADABLE_RETRIES + 1):
            before = len(sim.calls("GET", "/api/documents/received"))
            (page,) = await drain(source, cursor)
            assert len(sim.calls("GET", "/api/documents/received")) == before + 1
            (bad,) = page.records
            errors.add(bad.external_id)
            cursor = page.cursor
            state = Cursor.load(cursor)
            assert state.since == EPOCH
            if n < UNREADABLE_RETRIES:
                assert (state.offset, state.failures) == (0, n)
        assert len(errors) == 1
        assert (state.offset, state.failures) == (2, 0)
        rest = records_of(await drain(source, cursor))
    assert [r.external_id for r in rest] == ids[2:]


async def test_large_bundle_goes_through_a_temporary_file(
    sim: VofficeSim, blobs: BlobStore
) -> None:
    """A 20 MB file is downloaded to disk and extracted streaming into the blob store."""
    big = random.Random(7).randbytes(20 * 1024 * 1024)
    doc_id = sim.add_document(sample_document(1), {"Hồ sơ quét.pdf": big}, unit=UNIT)
    sim.docs[doc_id].bundle = sim.build_bundle(doc_id)  # built before measuring
    async with make_source(sim, blobs) as source:
        tracemalloc.start()
        try:
            (record,) = records_of(await drain(source, None))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    (attachment,) = record.attachments
    assert record.external_id == doc_id and record.error is None
    assert attachment.size == len(big) and attachment.sha256 == hashlib.sha256(big).hexdigest()
    assert blobs.path(attachment.sha256).stat().st_size == len(big)


async def test_rendered_document_round_trips(sim: VofficeSim, blobs: BlobStore) -> None:
    """`add_document` renders a wire document the mapper reads back to the same values."""
    doc = sample_document(4)
    sim.add_document(doc, {}, unit=UNIT)
    async with make_source(sim, blobs) as source:
        (record,) = records_of(await drain(source, None))
    back = to_document(record)
    assert (back.number, back.notation, back.issued_on, back.due_on) == (
        doc.number,
        doc.notation,
        doc.issued_on,
        doc.due_on,
    )
    assert back.priority == doc.priority and back.signer == doc.signer


def test_settings_keep_the_client_secret() -> None:
    """The contract's keys parse; the client secret is a SecretStr that never prints."""
    settings = VofficeSettings.model_validate(
        {
            "name": "vandon-voffice",
            "profile": "voffice",
            "base_url": "https://vo.example.vn",
            "client_id": "lienthong",
            "client_secret": "s3cret",
        }
    )
    assert settings.client_secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


async def test_demo_simulator_serves_documents(blobs: BlobStore) -> None:
    """`make_simulator(seed)` gives a server whose documents map cleanly."""
    server = factories()["voffice"](3)
    await server.start()
    try:
        async with make_source(server, blobs) as source:
            records = records_of(await drain(source, None))
    finally:
        await server.close()
    assert len(records) == 5
    assert all(len(to_document(r).attachments) == 1 for r in records)


@pytest.fixture
async def watched() -> AsyncIterator[tuple[VofficeSim, InFlight]]:
    """A simulator whose bundle downloads are held 50 ms each and counted while in flight."""
    server = VofficeSim(seed=2)
    inflight = InFlight("/api/documents/", "/files.zip")
    inflight.attach(server)
    await server.start()
    try:
        yield server, inflight
    finally:
        await server.close()


async def test_bundles_of_a_page_download_together_within_the_bound(
    watched: tuple[VofficeSim, InFlight], blobs: BlobStore
) -> None:
    """A page's bundles download and unpack concurrently, never more than
    `download_concurrency` at once, and records keep the listing's order."""
    sim, inflight = watched
    ids = add_documents(sim, 8)
    async with make_source(sim, blobs, download_concurrency=3) as source:
        records = records_of(await drain(source, None))
    assert inflight.peak == 3 and inflight.served == 8
    assert [r.external_id for r in records] == ids
    for n, record in enumerate(records, start=1):
        assert record.error is None
        assert sorted(a.name for a in record.attachments) == sorted([f"Tệp {n}.pdf", "Phụ lục.pdf"])


async def test_one_failing_bundle_fails_the_page_and_stops_the_others(
    watched: tuple[VofficeSim, InFlight], blobs: BlobStore
) -> None:
    """A 503 on one bundle fails the page with TransientError, leaves no temporary file or
    partial blob, and the same cursor reads the whole page once the bundle is back."""
    sim, inflight = watched
    ids = add_documents(sim, 6)
    inflight.failing = {f"/{ids[3]}/files.zip"}
    async with make_source(sim, blobs, download_concurrency=4) as source:
        with pytest.raises(TransientError):
            await drain(source, None)
        assert list((blobs.root / "tmp").iterdir()) == []
        inflight.failing = set()
        records = records_of(await drain(source, None))
    assert [r.external_id for r in records] == ids
    assert all(r.error is None and len(r.attachments) == 2 for r in records)


async def test_token_rejected_under_concurrent_downloads_costs_one_renewal(
    blobs: BlobStore,
) -> None:
    """Bundle downloads in flight when the token is revoked all retry on one new token."""
    sim = VofficeSim(seed=2)
    ids = add_documents(sim, 8)
    revoked = False

    @web.middleware
    async def revoke_once(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal revoked
        if request.path.endswith("/files.zip") and not revoked:
            revoked = True
            sim.expire_tokens()
        return await handler(request)

    sim.app.middlewares.append(revoke_once)
    inflight = InFlight("/api/documents/", "/files.zip")
    inflight.attach(sim)
    await sim.start()
    try:
        async with make_source(sim, blobs, download_concurrency=4) as source:
            records = records_of(await drain(source, None))
    finally:
        await sim.close()
    assert [r.external_id for r in records] == ids
    assert all(r.error is None and len(r.attachments) == 2 for r in records)
    assert sim.tokens_issued == 2 and inflight.peak == 4


async def test_entries_at_chunk_boundaries_unpack_exactly(tmp_path: Path) -> None:
    """Entries empty, shorter than, equal to and longer than one read chunk all unpack whole."""
    rng = random.Random(3)
    sizes = (0, 1, READ_CHUNK_BYTES - 1, READ_CHUNK_BYTES, READ_CHUNK_BYTES + 1)
    files = {f"{size}.pdf": rng.randbytes(size) for size in (*sizes, 2 * READ_CHUNK_BYTES)}
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    blobs = BlobStore(tmp_path / "blobs")
    ctx = AdapterContext(units=(UNIT,), blobs=blobs)
    hashes = [hashlib.sha256(data).hexdigest() for data in files.values()]
    attachments = await extract(path, ctx, hashes)
    assert [(a.name, a.size, a.sha256) for a in attachments] == [
        (name, len(data), sha) for (name, data), sha in zip(files.items(), hashes, strict=True)
    ]
    assert all(blobs.path(a.sha256).read_bytes() == files[a.name] for a in attachments)


def _zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


async def test_small_bundle_in_memory_unpacks_without_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle in memory whose entries are small is unpacked on the loop (no thread hop);
    one whose entries declare more than INLINE_BYTES goes through threads. Same blobs."""
    hops = count_thread_hops(monkeypatch)
    rng = random.Random(5)
    small = {"Tệp 1.pdf": rng.randbytes(300_000), "Phụ lục.pdf": b"%PDF-1.4 " * 10}
    # Compresses well (zeros after a random head): small on the wire, 3 MiB declared.
    roomy = {"Quét.pdf": rng.randbytes(100_000) + bytes(3 * 1024 * 1024)}
    ctx = AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))
    for files, threaded in ((small, False), (roomy, True)):
        raw = _zip_of(files)
        assert len(raw) <= SMALL_BUNDLE_BYTES
        hops.clear()
        hashes = [hashlib.sha256(data).hexdigest() for data in files.values()]
        attachments = await extract(raw, ctx, hashes)
        assert [(a.name, a.sha256) for a in attachments] == list(zip(files, hashes, strict=True))
        assert bool(hops) is threaded, hops
        for a in attachments:
            assert b"".join([chunk async for chunk in ctx.blobs.read(a.sha256)]) == files[a.name]
    assert INLINE_BYTES < 3 * 1024 * 1024


async def test_bundle_just_over_the_memory_size_spills_to_a_file(
    sim: VofficeSim, blobs: BlobStore
) -> None:
    """A bundle one byte over SMALL_BUNDLE_BYTES on the wire is spooled to a temporary file
    part-way through the download and still unpacks whole."""
    data = random.Random(11).randbytes(SMALL_BUNDLE_BYTES + 4096)
    doc_id = sim.add_document(sample_document(2), {"Hồ sơ.pdf": data}, unit=UNIT)
    sim.docs[doc_id].bundle = bundle = sim.build_bundle(doc_id)
    assert len(bundle) > SMALL_BUNDLE_BYTES
    async with make_source(sim, blobs) as source:
        (record,) = records_of(await drain(source, None))
    (attachment,) = record.attachments
    assert record.error is None and attachment.size == len(data)
    assert blobs.path(attachment.sha256).read_bytes() == data


async def test_bundle_over_the_size_limit_after_spilling_is_an_error_record(
    sim: VofficeSim, blobs: BlobStore
) -> None:
    """A bundle that passes the attachment size limit after it was moved to a temporary file
    makes its record an error record (the file is closed); the page's other records flow."""
    ids = add_documents(sim, 3)
    data = random.Random(13).randbytes(SMALL_BUNDLE_BYTES + 256 * 1024)
    big = sim.add_document(sample_document(9), {"Quét.pdf": data}, unit=UNIT)
    limits = Limits(max_attachment_bytes=SMALL_BUNDLE_BYTES + 64 * 1024)
    async with make_source(sim, blobs, limits=limits) as source:
        records = records_of(await drain(source, None))
    by_id = {r.external_id: r for r in records}
    error = by_id[big].error
    assert error and "bundle larger than" in error
    assert by_id[big].ack == big  # refused for good: acknowledged, not fetched again
    assert all(by_id[i].error is None and len(by_id[i].attachments) == 2 for i in ids)
