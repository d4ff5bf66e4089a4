"""The tdoffice sink against its simulator: uploads, idempotent create, PATCH, revoke, status."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from adapters.tdoffice import webhook
from adapters.tdoffice.payload import TIMED_URGENT_NOTE
from adapters.tdoffice.settings import TdofficeSinkSettings
from adapters.tdoffice.sink import TdofficeSink
from bridge.blobs import BlobStore
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext, Operation
from schemas import Attachment, Document, Organ, Priority, RemoteStatus, Signer
from simulators.tdoffice import TdofficeSim

UNIT = "000.15.33.H49"
SECRET = "status-secret"


@pytest.fixture
async def sim() -> AsyncIterator[TdofficeSim]:
    server = TdofficeSim(seed=3)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def ctx(tmp_path: Path) -> AdapterContext:
    return AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))


def _settings(sim: TdofficeSim, api_key: str | None = None) -> TdofficeSinkSettings:
    return TdofficeSinkSettings.model_validate(
        {
            "name": "binhdan-home",
            "profile": "tdoffice",
            "base_url": sim.base_url + "/",
            "api_key": api_key or sim.api_key,
            "webhook_secret": SECRET,
        }
    )


async def _stored(ctx: AdapterContext, name: str, data: bytes) -> Attachment:
    blob = await ctx.blobs.put_bytes(data, max_bytes=len(data) + 1)
    return Attachment(
        name=name,
        content_type="application/pdf",
        size=blob.size,
        sha256=blob.sha256,
        blob=blob.sha256,
    )


async def _document(ctx: AdapterContext, **changes: object) -> Document:
    attachment = await _stored(ctx, "335-UBND-HC.pdf", b"%PDF-1.4 the decision")
    doc = Document(
        issuer=Organ(code="000.00.33.H49", name="Ủy ban nhân dân huyện Vân Đồn"),
        number="335",
        notation="UBND-HC",
        issued_on=dt.date(2024, 3, 5),
        type_name="Công văn",
        subject="V/v triển khai công tác chuyển đổi số",
        signer=Signer(name="Đỗ Hoàng Lũy", position="Chủ tịch"),
        priority=Priority.KHAN,
        recipients=(Organ(code=UNIT, name="Ủy ban nhân dân xã Bình Dân"),),
        attachments=(attachment,),
    )
    return doc.model_copy(update=changes)


async def _create(
    sink: TdofficeSink, doc: Document, key: str = "key-1"
) -> tuple[dict[str, object], str]:
    body = await sink.prepare(Operation.CREATE, doc, document_id="bridge-1", remote_id=None)
    return body, await sink.send(Operation.CREATE, body, key, None)


async def test_create_uploads_then_posts_once(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """Files are uploaded first; the same key and body again answers the same id (one copy)."""
    doc = await _document(ctx)
    async with TdofficeSink(_settings(sim), ctx) as sink:
        body, remote_id = await _create(sink, doc)
        again = await sink.send(Operation.CREATE, body, "key-1", None)
    assert again == remote_id
    assert list(sim.received) == [remote_id]
    (upload,) = sim.uploads
    assert sim.files[upload].data == b"%PDF-1.4 the decision"
    assert sim.files[upload].name == "335-UBND-HC.pdf"
    stored = sim.received[remote_id]
    assert "documentId" not in stored and stored["attachments"][0]["fileId"] == upload
    creates = sim.calls("POST", "/api/v2/documents/incoming")
    assert [c.headers["Idempotency-Key"] for c in creates] == ["key-1", "key-1"]
    assert orjson.loads(creates[0].body) == body
    order = [r.path for r in sim.requests]
    assert order.index("/api/v2/files") < order.index("/api/v2/documents/incoming")


async def test_same_key_other_body_is_permanent(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """409 (a key reused with another body) raises PermanentError with the sink's message."""
    doc = await _document(ctx)
    async with TdofficeSink(_settings(sim), ctx) as sink:
        body, _ = await _create(sink, doc)
        with pytest.raises(PermanentError) as info:
            await sink.send(Operation.CREATE, {**body, "subject": "khác"}, "key-1", None)
    assert "409" in info.value.reason and "Idempotency-Key" in info.value.reason
    assert len(sim.received) == 1


async def test_refused_body_is_permanent_with_field_errors(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    """422 raises PermanentError naming the fields tdoffice refused."""
    doc = await _document(ctx)
    async with TdofficeSink(_settings(sim), ctx) as sink:
        body = await sink.prepare(Operation.CREATE, doc, document_id="b", remote_id=None)
        body = {**body, "codeNumber": None, "subject": ""}
        with pytest.raises(PermanentError) as info:
            await sink.send(Operation.CREATE, body, "key-2", None)
    assert "422" in info.value.reason
    assert "codeNumber" in info.value.reason and "subject" in info.value.reason
    assert sim.received == {}


async def test_priority_four_arrives_as_three_with_note(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    """Hỏa tốc hẹn giờ reaches tdoffice as priority 3 with a note saying so."""
    doc = await _document(ctx, priority=Priority.HOA_TOC_HEN_GIO)
    async with TdofficeSink(_settings(sim), ctx) as sink:
        _, remote_id = await _create(sink, doc)
    stored = sim.received[remote_id]
    assert stored["priority"] == 3
    assert stored["note"] == TIMED_URGENT_NOTE


async def test_update_patches_with_version(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """A revision goes as PATCH with the changed fields and its revision as `version`."""
    doc = await _document(ctx)
    revised = doc.model_copy(update={"revision": 2, "subject": "V/v đã sửa"})
    async with TdofficeSink(_settings(sim), ctx) as sink:
        _, remote_id = await _create(sink, doc)
        body = await sink.prepare(Operation.UPDATE, revised, document_id="b", remote_id=remote_id)
        assert await sink.send(Operation.UPDATE, body, "key-u", remote_id) == remote_id
        assert await sink.send(Operation.UPDATE, body, "key-u", remote_id) == remote_id
    assert [p["version"] for p in sim.revisions[remote_id]] == [2, 2]
    assert sim.received[remote_id]["subject"] == "V/v đã sửa"
    assert "codeNumber" not in sim.revisions[remote_id][0]
    (patch, _) = sim.calls("PATCH", "/api/v2/documents/")
    assert patch.path == f"/api/v2/documents/{remote_id}"


async def test_revoke_posts_the_reason(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """A revocation posts {"reason": ...} to /revoke and returns the same remote id."""
    doc = await _document(ctx)
    async with TdofficeSink(_settings(sim), ctx) as sink:
        _, remote_id = await _create(sink, doc)
        revoke = doc.model_copy(update={"reason": "Sai thể thức văn bản"})
        body = await sink.prepare(Operation.REVOKE, revoke, document_id="b", remote_id=remote_id)
        assert body == {"reason": "Sai thể thức văn bản"}
        assert await sink.send(Operation.REVOKE, body, "key-r", remote_id) == remote_id
    assert sim.revocations == {remote_id: "Sai thể thức văn bản"}


async def test_update_of_unknown_document_is_permanent(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    """PATCH of a documentId tdoffice does not know (404) is PermanentError; no id is too."""
    async with TdofficeSink(_settings(sim), ctx) as sink:
        with pytest.raises(PermanentError):
            await sink.send(Operation.UPDATE, {"version": 2}, "k", "missing")
        with pytest.raises(PermanentError):
            await sink.send(Operation.REVOKE, {"reason": "x"}, "k", None)


async def test_attachment_without_stored_bytes_is_permanent(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    """An attachment whose blob is missing cannot be uploaded: PermanentError, nothing sent."""
    doc = await _document(ctx)
    missing = doc.attachments[0].model_copy(update={"blob": None})
    async with TdofficeSink(_settings(sim), ctx) as sink:
        with pytest.raises(PermanentError):
            await sink.prepare(
                Operation.CREATE,
                doc.model_copy(update={"attachments": (missing,)}),
                document_id="b",
                remote_id=None,
            )
    assert sim.uploads == []


async def test_status_poll_follows_the_simulator(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """status() reads the document's status; unknown documents give None."""
    doc = await _document(ctx)
    async with TdofficeSink(_settings(sim), ctx) as sink:
        _, remote_id = await _create(sink, doc)
        first = await sink.status(remote_id)
        sim.set_status(remote_id, "assigned", note="Giao phòng Văn hóa")
        second = await sink.status(remote_id)
        assert await sink.status("unknown") is None
    assert first is not None and first.status is RemoteStatus.RECEIVED
    assert second is not None and second.status is RemoteStatus.ASSIGNED
    assert second.note == "Giao phòng Văn hóa" and second.sink == "binhdan-home"
    assert second.updated_at.utcoffset() == dt.timedelta(hours=7)


def _status_body(remote_id: str, status: str = "done") -> bytes:
    data = {"documentId": remote_id, "status": status, "updatedAt": "2024-03-06T10:00:00+07:00"}
    return orjson.dumps({"event": "document.status_changed", "data": data})


async def test_status_webhook_verified_and_parsed(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """A signed status_changed event becomes a StatusEvent; other events give nothing."""
    body = _status_body("remote-1")
    created = orjson.dumps({"event": "document.created", "data": {}})
    async with TdofficeSink(_settings(sim), ctx) as sink:
        (event,) = await sink.accept_push(webhook.signed_headers(SECRET, body, event_id="e1"), body)
        assert (
            await sink.accept_push(webhook.signed_headers(SECRET, created, event_id="e2"), created)
            == []
        )
    assert (event.remote_id, event.status) == ("remote-1", RemoteStatus.DONE)
    assert event.updated_at == dt.datetime(2024, 3, 6, 3, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("secret", "skew_s"),
    [("other", 0), (SECRET, 400), (SECRET, -400)],
    ids=["forged", "stale", "future"],
)
async def test_status_webhook_refuses_forged_or_stale(
    sim: TdofficeSim, ctx: AdapterContext, secret: str, skew_s: int
) -> None:
    """A forged signature or a timestamp beyond ±300 s is AuthError."""
    body = _status_body("remote-1")
    headers = webhook.signed_headers(
        secret, body, event_id="e", timestamp=int(time.time()) + skew_s
    )
    async with TdofficeSink(_settings(sim), ctx) as sink:
        with pytest.raises(AuthError):
            await sink.accept_push(headers, body)


async def test_wrong_key_is_auth_error(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """401 on upload, create and check becomes AuthError."""
    doc = await _document(ctx)
    async with TdofficeSink(_settings(sim, api_key="wrong"), ctx) as sink:
        with pytest.raises(AuthError):
            await sink.check()
        with pytest.raises(AuthError):
            await sink.prepare(Operation.CREATE, doc, document_id="b", remote_id=None)
        with pytest.raises(AuthError):
            await sink.send(Operation.CREATE, {"codeNumber": "1"}, "k", None)


async def test_outage_and_throttle_are_transient(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """503 on create is TransientError; 429 carries retry_after_s; nothing was created."""
    doc = await _document(ctx)
    async with TdofficeSink(_settings(sim), ctx) as sink:
        body = await sink.prepare(Operation.CREATE, doc, document_id="b", remote_id=None)
        sim.faults.down = True
        with pytest.raises(TransientError):
            await sink.send(Operation.CREATE, body, "k", None)
        sim.faults.down = False
        sim.faults.throttle_rate = 1.0
        sim.faults.retry_after_s = 9
        with pytest.raises(TransientError) as info:
            await sink.status("x")
        assert info.value.retry_after_s == 9
        sim.faults.throttle_rate = 0.0
        remote_id = await sink.send(Operation.CREATE, body, "k", None)
    assert list(sim.received) == [remote_id]


async def test_large_attachment_uploads_streaming(sim: TdofficeSim, ctx: AdapterContext) -> None:
    """A 5 MB blob is uploaded as a chunked multipart stream and stored byte for byte."""
    data = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    big = await _stored(ctx, "phu-luc.pdf", data)
    doc = (await _document(ctx)).model_copy(update={"attachments": (big,)})
    async with TdofficeSink(_settings(sim), ctx) as sink:
        body = await sink.prepare(Operation.CREATE, doc, document_id="b", remote_id=None)
    (upload,) = sim.uploads
    assert sim.files[upload].data == data
    assert (
        sim.files[upload].sha256
        == hashlib.sha256(data).hexdigest()
        == body["attachments"][0]["sha256"]
    )
    (call,) = sim.calls("POST", "/api/v2/files")
    assert call.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in call.headers
