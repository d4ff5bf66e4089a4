"""The M-Office source against its simulator over real HTTP, and its mapper on the corpus."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import tracemalloc
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.moffice import PROFILE, MofficeSettings, MofficeSource, to_document
from adapters.moffice.mapping import read_file
from adapters.moffice.source import Cursor, disposition_name
from bridge.blobs import BlobStore
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext
from bridge.normalize import fold_key
from schemas import Document, Page, RawRecord
from schemas.document import Organ, Priority
from simulators import factories
from simulators.moffice import MofficeSim
from simulators.server import Handler
from tests.adapters.inflight import InFlight
from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT
UNIT = "000.15.33.H49"


def truth_rows() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (CORPUS / "truth.jsonl").read_text().splitlines()]
    return [r for r in rows if r["profile"] == "moffice"]


def corpus_items() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (CORPUS / "moffice.jsonl").read_text().splitlines()]


def known_file_bytes() -> dict[str, bytes]:
    """Corpus file bytes by SHA-256 (the M-Office corpus names files; some live in zips)."""
    found: dict[str, bytes] = {}
    for bundle in (CORPUS / "voffice").glob("*.zip"):
        with zipfile.ZipFile(bundle) as zf:
            for info in zf.infolist():
                data = zf.read(info)
                found[hashlib.sha256(data).hexdigest()] = data
    return found


@pytest.fixture
async def sim() -> AsyncIterator[MofficeSim]:
    server = MofficeSim(seed=1)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def make_source(
    sim: MofficeSim,
    blobs: BlobStore,
    *,
    unit: str = UNIT,
    page_size: int = 100,
    password: str = "matkhau",
    download_concurrency: int = 8,
) -> MofficeSource:
    settings = MofficeSettings(
        name="test-moffice",
        profile="moffice",
        base_url=sim.base_url,
        username="vanthu",
        password=SecretStr(password),
        page_size=page_size,
        download_concurrency=download_concurrency,
    )
    return MofficeSource(settings, AdapterContext(units=(unit,), blobs=blobs))


async def drain(source: MofficeSource, cursor: str | None) -> list[Page]:
    async with asyncio.timeout(30):
        return [page async for page in source.pull(cursor)]


def records_of(pages: list[Page]) -> list[RawRecord]:
    return [r for p in pages for r in p.records]


def sample_document(n: int) -> Document:
    return Document(
        issuer=Organ(code="000.00.33.H49", name="Ủy ban nhân dân huyện Vân Đồn"),
        number=str(n),
        notation="UBND-VP",
        issued_on=dt.date(2024, 3, n % 28 + 1),
        type_name="Công văn",
        subject=f"V/v thử nghiệm số {n}",
        priority=Priority.KHAN,
    )


def add_documents(sim: MofficeSim, count: int) -> list[str]:
    return [
        sim.add_document(sample_document(n), {f"tep {n}.pdf": b"%PDF-" + bytes([n])}, unit=UNIT)
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

    present = set(row["present"])
    assert doc.number == row["number"]
    assert same(doc.notation, row["notation"])
    assert doc.issued_on is not None and doc.issued_on.isoformat() == row["promulgation_date"]
    assert same(doc.issuer.name, row["issuer_name"]), (doc.issuer.name, row["issuer_name"])
    if "issuer_code" in present:
        assert doc.issuer.code == row["issuer_code"]
    assert same(doc.type_name, row["type_name"])
    assert subject_key(doc.subject) == subject_key(row["subject"]), (doc.subject, row["subject"])
    if "signer" in present:
        assert doc.signer is not None
        assert same(doc.signer.name, row["signer_name"])
        assert same(doc.signer.position, row["signer_position"])
    assert int(doc.priority) == row["priority"]
    assert int(doc.confidentiality) == row["confidentiality"]
    assert (doc.due_on.isoformat() if doc.due_on else None) == row["due_date"]


async def test_every_corpus_record_maps_to_its_truth(sim: MofficeSim, blobs: BlobStore) -> None:
    """Each corpus item pulled through the simulator maps to the labelled truth values."""
    rows = {r["external_id"]: r for r in truth_rows()}
    by_sha = known_file_bytes()
    for item in corpus_items():
        row = rows[str(item["id"])]
        files = {
            a["name"]: by_sha[a["sha256"]] for a in row["attachments"] if a["sha256"] in by_sha
        }
        sim.add_raw(item, files, unit=row["unit"])
    seen: set[str] = set()
    for unit in sorted({r["unit"] for r in rows.values()}):
        async with make_source(sim, blobs, unit=unit) as source:
            records = records_of(await drain(source, None))
        for record in records:
            row = rows[record.external_id]
            assert record.error is None
            doc = to_document(record)
            assert_matches_truth(doc, row)
            assert [a.name for a in doc.attachments] == [a["name"] for a in row["attachments"]]
            for got, want in zip(doc.attachments, row["attachments"], strict=True):
                assert got.blob is not None and blobs.path(got.blob).is_file()
                if want["sha256"] in by_sha:
                    assert got.sha256 == want["sha256"]
            seen.add(record.external_id)
    assert seen == set(rows)


def test_read_file_maps_a_corpus_line_offline() -> None:
    """`read_file` + `to_document` work on one saved item without the network."""
    line = (CORPUS / "moffice.jsonl").read_text().splitlines()[1].encode()
    record = PROFILE.read_file(line, "moffice.jsonl")
    doc = PROFILE.to_document(record)
    assert record.external_id == "68824" and record.version == "15/05/2023 11:31:37"
    assert doc.number == "388" and doc.notation == "STC-NS"
    assert fold_key(doc.issuer.name or "") == fold_key("Sở Tài chính tỉnh Quảng Ninh")
    assert doc.attachments == ()


@pytest.mark.parametrize(
    ("change", "reason_part"),
    [
        ({"so_ky_hieu": None}, "so_ky_hieu"),
        ({"ngay_ban_hanh": "31/02/2024"}, "ngay_ban_hanh"),
        ({"trich_yeu": 42}, "trich_yeu"),
        ({"do_mat": "bí mật nội bộ"}, "độ mật"),
    ],
)
def test_unreadable_items_raise_permanent_error(change: dict[str, Any], reason_part: str) -> None:
    """A record missing a mandatory field or with a bad date/type is refused with a reason."""
    item = corpus_items()[0] | change
    with pytest.raises(PermanentError) as info:
        to_document(read_file(orjson.dumps(item), "x.json"))
    assert reason_part in info.value.reason


def test_malformed_json_is_refused() -> None:
    """Bytes that are not one JSON object raise PermanentError, never a JSON exception."""
    with pytest.raises(PermanentError):
        read_file(b'{"id": 1,', "broken.json")
    with pytest.raises(PermanentError):
        read_file(b"[1, 2]", "list.json")


def test_secret_item_keeps_its_confidentiality() -> None:
    """A `Tối mật` item is still mapped, with its confidentiality set."""
    item = corpus_items()[0] | {"do_mat": "TỐI MẬT"}
    assert int(to_document(read_file(orjson.dumps(item), "s.json")).confidentiality) == 2


def test_disposition_name_prefers_rfc5987() -> None:
    """`filename*=UTF-8''…` is decoded; a plain `filename` is the fallback."""
    header = "attachment; filename=\"x.pdf\"; filename*=UTF-8''K%E1%BA%BF%20ho%E1%BA%A1ch.pdf"
    assert disposition_name(header) == "Kế hoạch.pdf"
    assert disposition_name('attachment; filename="a b.pdf"') == "a b.pdf"
    assert disposition_name(None) is None


async def test_check_refuses_bad_credentials(sim: MofficeSim, blobs: BlobStore) -> None:
    """A 401 invalid_credentials on login is an AuthError."""
    async with make_source(sim, blobs, password="sai") as source:
        with pytest.raises(AuthError):
            await source.check()
    async with make_source(sim, blobs) as source:
        await source.check()


async def test_expired_token_mid_run_logs_in_again(sim: MofficeSim, blobs: BlobStore) -> None:
    """A token revoked between pages and between downloads costs one re-login, no record."""
    ids = add_documents(sim, 6)
    got: list[RawRecord] = []
    async with make_source(sim, blobs, page_size=2) as source, asyncio.timeout(30):
        async for page in source.pull(None):
            sim.expire_tokens()
            got.extend(page.records)
        await source.acknowledge(got[0])
    assert [r.external_id for r in got] == ids
    assert all(r.error is None and len(r.attachments) == 1 for r in got)
    assert sim.logins >= 4
    assert [r.item_id for r in sim.receipts] == [int(ids[0])]


async def test_token_lifetime_is_renewed_before_expiry(sim: MofficeSim, blobs: BlobStore) -> None:
    """A token whose lifetime has run out is replaced before the call, not after a 401."""
    sim.token_lifetime_s = 1.0
    add_documents(sim, 2)
    async with make_source(sim, blobs) as source:
        assert len(records_of(await drain(source, None))) == 2
    assert len(sim.calls("GET", "/api/v1/incoming")) == 1
    assert sim.logins == len(sim.calls("GET", "/api/v1/"))


async def test_listing_that_shifts_loses_and_repeats_nothing(
    sim: MofficeSim, blobs: BlobStore
) -> None:
    """Records updated while paging move to the end; every record version arrives once."""
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
        assert (moved, sim.items[int(moved)]["ngay_cap_nhat"]) in keys


async def test_same_timestamp_larger_than_a_page(sim: MofficeSim, blobs: BlobStore) -> None:
    """Seven records sharing one `ngay_cap_nhat` read through pages of two, none repeated."""
    for n in range(7):
        sim.add_raw(
            corpus_items()[0]
            | {"id": 500 + n, "ngay_cap_nhat": "01/02/2024 08:00:00", "tep_dinh_kem": []},
            unit=UNIT,
        )
    async with make_source(sim, blobs, page_size=2) as source:
        pages = await drain(source, None)
        again = records_of(await drain(source, pages[-1].cursor))
    assert sorted(r.external_id for r in records_of(pages)) == [str(500 + n) for n in range(7)]
    assert again == []


async def test_resume_after_restart_from_cursor(sim: MofficeSim, blobs: BlobStore) -> None:
    """A new source started from a stored cursor reads exactly what was not yet stored."""
    ids = add_documents(sim, 7)
    first: list[RawRecord] = []
    async with make_source(sim, blobs, page_size=3) as source, asyncio.timeout(30):
        pulled = cast(
            AsyncGenerator[Page, None], source.pull(None)
        )  # an async generator; the protocol declares less
        page = await anext(pulled)
        first.extend(page.records)
        cursor = page.cursor
        await pulled.aclose()
    async with make_source(sim, blobs, page_size=3) as source:
        rest = records_of(await drain(source, cursor))
        pages = await drain(source, None)
        caught_up = await drain(source, pages[-1].cursor)
    assert [r.external_id for r in first + rest] == ids
    assert records_of(caught_up) == []
    new_id = add_documents(sim, 1)
    async with make_source(sim, blobs) as source:
        assert [r.external_id for r in records_of(await drain(source, pages[-1].cursor))] == [
            new_id[0]
        ]


async def test_receipts_only_for_acknowledged_records(sim: MofficeSim, blobs: BlobStore) -> None:
    """Pulling sends no receipt; acknowledge sends one per stored record, repeats harmless."""
    ids = add_documents(sim, 3)
    async with make_source(sim, blobs) as source:
        records = records_of(await drain(source, None))
        assert sim.calls("POST", "/api/v1/incoming/") == []
        await source.acknowledge(records[1])
        await source.acknowledge(records[1])
    assert [r.item_id for r in sim.receipts] == [int(ids[1])] * 2
    assert sim.receipts[0].receiver == UNIT
    assert len(sim.receipts[0].received_at) == 19


async def test_throttling_is_transient_with_retry_after(sim: MofficeSim, blobs: BlobStore) -> None:
    """429 with Retry-After becomes TransientError carrying retry_after_s."""
    sim.faults.throttle_rate, sim.faults.retry_after_s = 1.0, 7
    sim.faults.exempt = ("/api/auth/",)
    async with make_source(sim, blobs) as source:
        with pytest.raises(TransientError) as info:
            await drain(source, None)
    assert info.value.retry_after_s == 7


async def test_server_errors_are_transient(sim: MofficeSim, blobs: BlobStore) -> None:
    """503 on any call is a TransientError; a refused connection too."""
    sim.faults.down = True
    async with make_source(sim, blobs) as source:
        with pytest.raises(TransientError):
            await drain(source, None)
    url = sim.base_url
    await sim.close()
    settings = MofficeSettings(
        name="gone", profile="moffice", base_url=url, username="u", password=SecretStr("p")
    )
    async with MofficeSource(settings, AdapterContext(units=(UNIT,), blobs=blobs)) as source:
        with pytest.raises(TransientError):
            await source.check()


async def test_unreadable_page_becomes_one_error_record(sim: MofficeSim, blobs: BlobStore) -> None:
    """A listing that is not JSON yields one error record and a cursor that steps past it."""
    add_documents(sim, 2)
    sim.garbage_pages = 1
    async with make_source(sim, blobs) as source:
        pages = await drain(source, None)
        assert len(pages) == 1 and pages[0].records[0].external_id.startswith("page:")
        assert pages[0].records[0].error and pages[0].records[0].ack is None
        assert Cursor.load(pages[0].cursor).page == 2
        rest = records_of(await drain(source, pages[0].cursor))
    assert len(rest) == 2


async def test_bad_file_makes_an_error_record_and_others_flow(
    sim: MofficeSim, blobs: BlobStore
) -> None:
    """A missing file or a path to another host makes that record an error record only."""
    ids = add_documents(sim, 3)
    sim.items[int(ids[0])]["tep_dinh_kem"][0]["duong_dan"] = "/api/v1/files/1"
    sim.items[int(ids[1])]["tep_dinh_kem"][0]["duong_dan"] = "http://evil.example/x"
    async with make_source(sim, blobs) as source:
        records = records_of(await drain(source, None))
    assert [r.external_id for r in records] == ids
    assert records[0].error and "404" in records[0].error
    assert records[1].error and "đường dẫn" in records[1].error
    assert records[2].error is None and records[0].ack == ids[0]


async def test_large_attachment_is_streamed(sim: MofficeSim, blobs: BlobStore) -> None:
    """A 20 MB file reaches the blob store without the adapter holding it in memory."""
    big = hashlib.sha256(b"seed").digest() * (20 * 1024 * 1024 // 32)
    doc_id = sim.add_document(sample_document(1), {"Hồ sơ quét.pdf": big}, unit=UNIT)
    async with make_source(sim, blobs) as source:
        tracemalloc.start()
        try:
            records = records_of(await drain(source, None))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    (attachment,) = records[0].attachments
    assert records[0].external_id == doc_id
    assert attachment.size == len(big) and attachment.name == "Hồ sơ quét.pdf"
    assert attachment.sha256 == hashlib.sha256(big).hexdigest()
    assert blobs.path(attachment.sha256).stat().st_size == len(big)
    assert peak < 8 * 1024 * 1024


async def test_rendered_document_round_trips(sim: MofficeSim, blobs: BlobStore) -> None:
    """`add_document` renders the wire form the mapper reads back to the same document."""
    doc = sample_document(5)
    sim.add_document(doc, {}, unit=UNIT)
    async with make_source(sim, blobs) as source:
        (record,) = records_of(await drain(source, None))
    back = to_document(record)
    assert (back.number, back.notation, back.issued_on) == (doc.number, doc.notation, doc.issued_on)
    assert back.priority == Priority.KHAN and back.issuer.code == doc.issuer.code
    assert orjson.loads(record.payload)["so_ky_hieu"] == "5/UBND-VP"


def test_settings_keep_the_password_secret() -> None:
    """The contract's keys parse; the password is a SecretStr that never prints."""
    settings = MofficeSettings.model_validate(
        {
            "name": "tieucan-moffice",
            "profile": "moffice",
            "base_url": "http://127.0.0.1:9101",
            "username": "vanthu",
            "password": "p@ss",
            "poll_interval": 30,
        }
    )
    assert settings.password.get_secret_value() == "p@ss" and "p@ss" not in repr(settings)
    with pytest.raises(ValueError):
        MofficeSettings.model_validate(
            {"name": "x", "profile": "voffice", "base_url": "x", "username": "u", "password": "p"}
        )


async def test_demo_simulator_serves_documents(blobs: BlobStore) -> None:
    """`make_simulator(seed)` gives a server whose documents map cleanly."""
    server = factories()["moffice"](3)
    await server.start()
    try:
        async with make_source(server, blobs) as source:
            records = records_of(await drain(source, None))
    finally:
        await server.close()
    assert len(records) == 5
    assert all(to_document(r).attachments for r in records)


@pytest.fixture
async def watched() -> AsyncIterator[tuple[MofficeSim, InFlight]]:
    """A simulator whose file downloads are held 50 ms each and counted while in flight."""
    server = MofficeSim(seed=1)
    inflight = InFlight("/api/v1/files/")
    inflight.attach(server)
    await server.start()
    try:
        yield server, inflight
    finally:
        await server.close()


def add_two_file_documents(sim: MofficeSim, count: int) -> list[str]:
    return [
        sim.add_document(
            sample_document(n),
            {f"tep {n}.pdf": b"%PDF-" + bytes([n]), f"phu luc {n}.pdf": b"%PDF-pl" + bytes([n])},
            unit=UNIT,
        )
        for n in range(1, count + 1)
    ]


async def test_files_of_a_page_download_together_within_the_bound(
    watched: tuple[MofficeSim, InFlight], blobs: BlobStore
) -> None:
    """A page's files download concurrently, never more than `download_concurrency` at once,
    and records and their attachments keep the listing's order."""
    sim, inflight = watched
    ids = add_two_file_documents(sim, 8)
    async with make_source(sim, blobs, download_concurrency=3) as source:
        records = records_of(await drain(source, None))
    assert inflight.peak == 3 and inflight.served == 16
    assert [r.external_id for r in records] == ids
    for record in records:
        n = int(orjson.loads(record.payload)["so_ky_hieu"].split("/")[0])
        assert record.error is None
        assert [a.name for a in record.attachments] == [f"tep {n}.pdf", f"phu luc {n}.pdf"]


async def test_one_failing_download_fails_the_page_and_stops_the_others(
    watched: tuple[MofficeSim, InFlight], blobs: BlobStore
) -> None:
    """A 503 on one file fails the page with TransientError, leaves no partial blob, and
    the same cursor reads the whole page once the file is back."""
    sim, inflight = watched
    ids = add_two_file_documents(sim, 6)
    inflight.failing = {sim.items[int(ids[3])]["tep_dinh_kem"][1]["duong_dan"]}
    async with make_source(sim, blobs, download_concurrency=4) as source:
        with pytest.raises(TransientError):
            await drain(source, None)
        assert list((blobs.root / "tmp").iterdir()) == []
        inflight.failing = set()
        records = records_of(await drain(source, None))
    assert [r.external_id for r in records] == ids
    assert all(r.error is None and len(r.attachments) == 2 for r in records)


async def test_token_expiring_under_concurrent_downloads_costs_one_login(
    blobs: BlobStore,
) -> None:
    """Downloads in flight when the token expires all retry on one new login, not one each."""
    sim = MofficeSim(seed=1)
    ids = add_two_file_documents(sim, 8)
    expired = False

    @web.middleware
    async def expire_once(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal expired
        if request.path.startswith("/api/v1/files/") and not expired:
            expired = True
            sim.expire_tokens()
        return await handler(request)

    sim.app.middlewares.append(expire_once)
    inflight = InFlight("/api/v1/files/")
    inflight.attach(sim)
    await sim.start()
    try:
        async with make_source(sim, blobs, download_concurrency=4) as source:
            records = records_of(await drain(source, None))
    finally:
        await sim.close()
    assert [r.external_id for r in records] == ids
    assert all(r.error is None and len(r.attachments) == 2 for r in records)
    assert sim.logins == 2 and inflight.peak == 4
