"""The tdoffice source against its simulator: pull, cursor resume, files, errors, webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from adapters.tdoffice import webhook
from adapters.tdoffice.mapping import to_document
from adapters.tdoffice.settings import TdofficeSourceSettings
from adapters.tdoffice.source import TdofficeSource
from bridge.blobs import BlobStore
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext, Source
from schemas import Action, Document, Organ, Page, RawRecord
from simulators import factories
from simulators.demo_data import pdf_attachments
from simulators.tdoffice import TdofficeSim
from tests.adapters.inflight import InFlight
from tests.corpus_path import CORPUS as CORPUS_ROOT

UNIT = "000.00.33.H49"
SECRET = "hook-secret"
CORPUS_LINES = (CORPUS_ROOT / "tdoffice.jsonl").read_bytes().splitlines()


@pytest.fixture
async def sim() -> AsyncIterator[TdofficeSim]:
    server = TdofficeSim(seed=7)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def ctx(tmp_path: Path) -> AdapterContext:
    return AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))


def _settings(sim: TdofficeSim, **extra: object) -> TdofficeSourceSettings:
    return TdofficeSourceSettings.model_validate(
        {
            "name": "vandon-tdoffice",
            "profile": "tdoffice",
            "base_url": sim.base_url,
            "api_key": sim.api_key,
            "webhook_secret": SECRET,
            "page_size": 2,
            **extra,
        }
    )


def _document(number: int, files: dict[str, bytes]) -> Document:
    return Document(
        issuer=Organ(code="000.00.00.H49", name="Ủy ban nhân dân tỉnh Quảng Ninh"),
        number=str(number),
        notation="UBND-KT",
        issued_on=dt.date(2024, 8, number % 28 + 1),
        type_name="Công văn",
        subject=f"V/v nội dung số {number}",
        attachments=pdf_attachments(files),
    )


def _add(sim: TdofficeSim, number: int) -> tuple[str, bytes]:
    data = f"%PDF-1.4 document {number}".encode()
    return sim.add_document(
        _document(number, {f"{number}.pdf": data}), {f"{number}.pdf": data}, unit=UNIT
    ), data


async def _pull_all(source: Source, cursor: str | None) -> list[Page]:
    return [page async for page in source.pull(cursor)]


async def test_pull_pages_through_the_inbox_and_stores_files(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    """Every document arrives once, its attachment already in the blob store, sha checked."""
    added = [_add(sim, n) for n in range(1, 6)]
    async with TdofficeSource(_settings(sim), ctx) as source:
        pages = await _pull_all(source, None)
    records = [r for p in pages for r in p.records]
    assert [r.external_id for r in records] == [doc_id for doc_id, _ in added]
    assert [len(p.records) for p in pages] == [2, 2, 1]
    assert all(p.cursor for p in pages)
    assert isinstance(ctx.blobs, BlobStore)
    for record, (_, data) in zip(records, added, strict=True):
        assert record.error is None and record.version == "1" and record.unit == UNIT
        (att,) = record.attachments
        assert att.blob == hashlib.sha256(data).hexdigest()
        assert ctx.blobs.path(att.blob).read_bytes() == data
        assert orjson.loads(record.payload)["documentId"] == record.external_id
        assert to_document(record).attachments == record.attachments
    limits = {r.query["limit"] for r in sim.calls("GET", "/api/v2/documents/inbox")}
    assert limits == {"2"}


async def test_restart_resumes_from_stored_cursor(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """A new adapter given the last cursor reads only what came after it, then later changes."""
    first = [_add(sim, n)[0] for n in (1, 2, 3)]
    async with TdofficeSource(_settings(sim), ctx) as source:
        pages = await _pull_all(source, None)
    cursor = pages[-1].cursor
    assert [r.external_id for p in pages for r in p.records] == first
    later = _add(sim, 4)[0]
    sim.update_document(first[0], subject="V/v nội dung đã sửa")
    async with TdofficeSource(_settings(sim), ctx) as restarted:
        again = await _pull_all(restarted, cursor)
        caught_up = await _pull_all(restarted, again[-1].cursor)
    got = [(r.external_id, r.version) for p in again for r in p.records]
    assert got == [(later, "1"), (first[0], "2")]
    assert caught_up == []
    revised = to_document(again[-1].records[-1])
    assert revised.revision == 2 and revised.subject == "V/v nội dung đã sửa"


async def test_revoked_state_maps_to_revoke(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """A revocation reappears with a higher version and maps to REVOKE of the same document."""
    doc_id = _add(sim, 9)[0]
    sim.revoke(doc_id)
    async with TdofficeSource(_settings(sim), ctx) as source:
        records = [r for p in await _pull_all(source, None) for r in p.records]
    assert [(r.external_id, r.version) for r in records] == [(doc_id, "1"), (doc_id, "2")]
    revoke = to_document(records[1])
    assert revoke.action is Action.REVOKE
    assert revoke.target is not None and revoke.target.number == "9"


async def test_acknowledge_is_a_no_op(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """tdoffice has no receipt call: acknowledging sends nothing."""
    _add(sim, 1)
    async with TdofficeSource(_settings(sim), ctx) as source:
        (page,) = await _pull_all(source, None)
        before = len(sim.requests)
        await source.acknowledge(page.records[0])
    assert len(sim.requests) == before


async def test_wrong_bytes_make_an_error_record(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """A file whose SHA-256 differs from the declared one makes that record an error record."""
    bad_id, _ = _add(sim, 1)
    good_id, _ = _add(sim, 2)
    file_id = sim.documents[bad_id]["attachments"][0]["fileId"]
    sim.corrupt_files.add(file_id)
    async with TdofficeSource(_settings(sim), ctx) as source:
        (page,) = await _pull_all(source, None)
    bad, good = page.records
    assert bad.external_id == bad_id and bad.error and "SHA-256" in bad.error
    assert bad.attachments == ()
    assert good.external_id == good_id and good.error is None
    with pytest.raises(PermanentError):
        to_document(bad)


async def test_corpus_lines_flow_through_pull(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """Corpus objects served raw arrive as records; the wrong-typed one fails in the mapper."""
    for line in CORPUS_LINES:
        obj = orjson.loads(line)
        if isinstance(obj.get("attachments"), list):
            obj["attachments"] = []  # the corpus has no file bytes to serve
        sim.add_raw(obj, unit=UNIT)
    async with TdofficeSource(_settings(sim, page_size=200), ctx) as source:
        records = [r for p in await _pull_all(source, None) for r in p.records]
    assert len(records) == len(CORPUS_LINES)
    assert all(r.error is None for r in records)
    with pytest.raises(PermanentError):
        to_document(records[6])
    assert [r.version for r in records[9:11]] == ["1", "2"]


async def test_junk_item_and_unparseable_page(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """An item without documentId is an error record; a non-JSON page is one error record."""
    sim.inbox_answers.append(b"<html>proxy error</html>")
    sim.add_junk(["not", "a", "document"])
    doc_id = _add(sim, 3)[0]
    async with TdofficeSource(_settings(sim), ctx) as source:
        (broken,) = await _pull_all(source, None)
        pages = await _pull_all(source, None)
    (page_error,) = broken.records
    assert page_error.external_id.startswith("page:") and page_error.error
    assert broken.cursor is None
    junk, good = pages[0].records
    assert junk.external_id.startswith("item:") and junk.error
    assert good.external_id == doc_id and good.error is None


async def test_wrong_key_is_auth_error(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """401 from the inbox becomes AuthError, from check() and from pull()."""
    settings = TdofficeSourceSettings.model_validate(
        {**_settings(sim).model_dump(), "api_key": "wrong", "webhook_secret": None}
    )
    async with TdofficeSource(settings, ctx) as source:
        with pytest.raises(AuthError):
            await source.check()
        with pytest.raises(AuthError):
            await _pull_all(source, None)


async def test_unavailable_and_throttled_are_transient(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    """503 is TransientError; 429 carries Retry-After as retry_after_s."""
    _add(sim, 1)
    async with TdofficeSource(_settings(sim), ctx) as source:
        sim.faults.down = True
        with pytest.raises(TransientError):
            await _pull_all(source, None)
        sim.faults.down = False
        sim.faults.throttle_rate = 1.0
        sim.faults.retry_after_s = 17
        with pytest.raises(TransientError) as info:
            await _pull_all(source, None)
        assert info.value.retry_after_s == 17


async def test_file_download_outage_is_transient(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """When only the files endpoint fails, the page raises TransientError (retried whole)."""
    _add(sim, 1)
    sim.faults.down = True
    sim.faults.exempt = ("/api/v2/documents/inbox",)
    async with TdofficeSource(_settings(sim), ctx) as source:
        with pytest.raises(TransientError):
            await _pull_all(source, None)


async def test_large_attachment_streams_to_the_blob_store(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    """A 5 MB file lands in the blob store byte for byte without being held whole."""
    data = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    sim.add_document(_document(5, {"big.pdf": data}), {"big.pdf": data}, unit=UNIT)
    tracemalloc.start()
    try:
        async with TdofficeSource(_settings(sim), ctx) as source:
            (page,) = await _pull_all(source, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (att,) = page.records[0].attachments
    assert att.size == len(data)
    assert isinstance(ctx.blobs, BlobStore)
    assert ctx.blobs.path(att.sha256).read_bytes() == data
    assert peak < len(data) // 2


def _event(sim: TdofficeSim, doc_id: str, kind: str = "document.created") -> bytes:
    return orjson.dumps({"event": kind, "data": sim.documents[doc_id]})


async def test_push_with_good_signature_becomes_a_record(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    """A signed document event is verified, its files fetched, its event id kept in `ack`."""
    doc_id, data = _add(sim, 4)
    body = _event(sim, doc_id)
    headers = webhook.signed_headers(SECRET, body, event_id="evt-1")
    async with TdofficeSource(_settings(sim), ctx) as source:
        (record,) = await source.accept_push(headers, body)
        (repeat,) = await source.accept_push(headers, body)
    assert record.external_id == doc_id and record.version == "1" and record.ack == "evt-1"
    assert isinstance(ctx.blobs, BlobStore)
    assert ctx.blobs.path(record.attachments[0].sha256).read_bytes() == data
    assert (repeat.external_id, repeat.version) == (record.external_id, record.version)


@pytest.mark.parametrize(
    ("secret", "skew_s"),
    [("forged-secret", 0), (SECRET, 301), (SECRET, -301)],
    ids=["forged", "stale", "future"],
)
async def test_push_refuses_forged_or_stale(
    sim: TdofficeSim, ctx: AdapterContext, secret: str, skew_s: int
) -> None:
    """A bad signature or a timestamp more than 300 s away is AuthError (the hook says 401)."""
    doc_id, _ = _add(sim, 4)
    body = _event(sim, doc_id)
    headers = webhook.signed_headers(
        secret, body, event_id="evt-2", timestamp=int(time.time()) + skew_s
    )
    async with TdofficeSource(_settings(sim), ctx) as source:
        with pytest.raises(AuthError):
            await source.accept_push(headers, body)


async def test_push_accepts_edges_of_the_window_and_tampered_body_fails(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    """299 s of skew passes; one changed byte of the body fails verification."""
    doc_id, _ = _add(sim, 4)
    body = _event(sim, doc_id)
    headers = webhook.signed_headers(SECRET, body, event_id="e", timestamp=int(time.time()) - 299)
    async with TdofficeSource(_settings(sim), ctx) as source:
        assert len(await source.accept_push(headers, body)) == 1
        with pytest.raises(AuthError):
            await source.accept_push(headers, body.replace(b"V/v", b"V/V"))


async def test_push_revoked_event_and_ignored_events(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """document.revoked maps to REVOKE; status events give no records; junk is PermanentError."""
    doc_id, _ = _add(sim, 4)
    sim.revoke(doc_id)
    body = _event(sim, doc_id, "document.revoked")
    status = orjson.dumps({"event": "document.status_changed", "data": {"documentId": doc_id}})
    async with TdofficeSource(_settings(sim), ctx) as source:
        (record,) = await source.accept_push(
            webhook.signed_headers(SECRET, body, event_id="a"), body
        )
        assert to_document(record).action is Action.REVOKE
        assert (
            await source.accept_push(webhook.signed_headers(SECRET, status, event_id="b"), status)
            == []
        )
        junk = b"not json"
        with pytest.raises(PermanentError):
            await source.accept_push(webhook.signed_headers(SECRET, junk, event_id="c"), junk)


async def test_simulator_push_reaches_a_receiver(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """The simulator's emitter signs like tdoffice and retries until the receiver says 2xx."""
    from aiohttp import web

    received: list[RawRecord] = []
    answers = iter([503, 200])
    async with TdofficeSource(_settings(sim), ctx) as source:

        async def hook(request: web.Request) -> web.Response:
            body = await request.read()
            status = next(answers)
            if status == 200:
                received.extend(await source.accept_push(request.headers, body))
            return web.Response(status=status)

        app = web.Application()
        app.router.add_post("/hooks/vandon-tdoffice", hook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = runner.addresses[0][1]
            doc_id, _ = _add(sim, 6)
            url = f"http://127.0.0.1:{port}/hooks/vandon-tdoffice"
            status = await sim.push(url, "document.created", sim.documents[doc_id], SECRET, "evt-9")
        finally:
            await runner.cleanup()
    assert status == 200
    assert [p.status for p in sim.pushes] == [503, 200]
    assert [(r.external_id, r.ack) for r in received] == [(doc_id, "evt-9")]


async def test_profile_builds_a_source_for_the_demo_simulator(ctx: AdapterContext) -> None:
    """PROFILE wires settings, source and the seeded simulator; every demo record maps."""
    from adapters.tdoffice import PROFILE

    assert PROFILE.make_source is not None
    demo = factories()["tdoffice"](1)
    await demo.start()
    try:
        settings = {
            "name": "demo-td",
            "profile": "tdoffice",
            "base_url": demo.base_url,
            "api_key": demo.api_key,
        }
        async with PROFILE.make_source(settings, ctx) as source:
            records = [r for p in await _pull_all(source, None) for r in p.records]
    finally:
        await demo.close()
    assert len(records) == 3
    assert all(PROFILE.to_document(r).attachments[0].blob for r in records)


async def test_old_cursor_stays_valid(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """Reusing an earlier cursor later reads the same following records (cursors never expire)."""
    ids = [_add(sim, n)[0] for n in (1, 2, 3)]
    async with TdofficeSource(_settings(sim), ctx) as source:
        first = await _pull_all(source, None)
        _add(sim, 4)
        replay = await _pull_all(source, first[0].cursor)
    assert [r.external_id for r in replay[0].records] == [ids[2], _newest_id(sim)]


def _newest_id(sim: TdofficeSim) -> str:
    return list(sim.documents)[-1]


@pytest.fixture
async def watched() -> AsyncIterator[tuple[TdofficeSim, InFlight]]:
    """A simulator whose file downloads are held 50 ms each and counted while in flight."""
    server = TdofficeSim(seed=7)
    inflight = InFlight("/api/v2/files/")
    inflight.attach(server)
    await server.start()
    try:
        yield server, inflight
    finally:
        await server.close()


def _add_two_files(sim: TdofficeSim, number: int) -> tuple[str, list[str]]:
    files = {f"{number}-{k}.pdf": f"%PDF-1.4 document {number} file {k}".encode() for k in (1, 2)}
    doc_id = sim.add_document(_document(number, files), files, unit=UNIT)
    return doc_id, [hashlib.sha256(data).hexdigest() for data in files.values()]


async def test_files_of_a_page_download_together_within_the_bound(
    watched: tuple[TdofficeSim, InFlight], ctx: AdapterContext
) -> None:
    """A page's files download concurrently, never more than `download_concurrency` at once,
    and records and their attachments keep the inbox's order."""
    sim, inflight = watched
    added = [_add_two_files(sim, n) for n in range(1, 9)]
    settings = _settings(sim, page_size=8, download_concurrency=3)
    async with TdofficeSource(settings, ctx) as source:
        (page,) = await _pull_all(source, None)
    assert inflight.peak == 3 and inflight.served == 16
    assert [r.external_id for r in page.records] == [doc_id for doc_id, _ in added]
    assert isinstance(ctx.blobs, BlobStore)
    for record, (_, hashes) in zip(page.records, added, strict=True):
        assert record.error is None
        assert [a.sha256 for a in record.attachments] == hashes
        assert all(ctx.blobs.path(h).is_file() for h in hashes)


async def test_one_failing_download_fails_the_page_and_stops_the_others(
    watched: tuple[TdofficeSim, InFlight], ctx: AdapterContext
) -> None:
    """A 503 on one file of one record fails the page with TransientError, leaves no partial
    blob behind, and the same pull succeeds whole once the file is back."""
    sim, inflight = watched
    added = [_add_two_files(sim, n) for n in range(1, 7)]
    failing_id = orjson.loads(sim._inbox[3][1])["attachments"][1]["fileId"]
    inflight.failing = {failing_id}
    settings = _settings(sim, page_size=6, download_concurrency=4)
    async with TdofficeSource(settings, ctx) as source:
        with pytest.raises(TransientError):
            await _pull_all(source, None)
        assert isinstance(ctx.blobs, BlobStore)
        assert list((ctx.blobs.root / "tmp").iterdir()) == []
        inflight.failing = set()
        (page,) = await _pull_all(source, None)
    assert [r.external_id for r in page.records] == [doc_id for doc_id, _ in added]
    assert all(r.error is None and len(r.attachments) == 2 for r in page.records)


async def test_bad_file_among_concurrent_downloads_fails_only_its_record(
    watched: tuple[TdofficeSim, InFlight], ctx: AdapterContext
) -> None:
    """A wrong-hash file makes its own record an error record; the rest of the page flows."""
    sim, _ = watched
    added = [_add_two_files(sim, n) for n in range(1, 5)]
    sim.corrupt_files.add(orjson.loads(sim._inbox[2][1])["attachments"][0]["fileId"])
    async with TdofficeSource(_settings(sim, page_size=4), ctx) as source:
        (page,) = await _pull_all(source, None)
    assert [r.external_id for r in page.records] == [doc_id for doc_id, _ in added]
    assert [r.error is not None for r in page.records] == [False, False, True, False]
    assert page.records[2].attachments == ()
