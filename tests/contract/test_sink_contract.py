"""The contract every sink adapter passes (tdoffice, folder), run against a real sink.

A sink pushes idempotently (the stored body and key sent again, even by a new instance after a
crash, give one document), returns a JSON body naming what it uploaded, applies UPDATE and
REVOKE to what it created, and maps failures to the error taxonomy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from adapters import registry
from bridge.blobs import BlobStore
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext, JsonObject, Operation, Sink
from schemas import Document, DocumentState
from simulators.demo_data import generate
from simulators.tdoffice import TdofficeSim
from tests.contract.harness import TIMEOUT_S, UNIT

DOCUMENT_ID = "01JCONTRACT0000000000000001"


class SinkHarness:
    """A sink profile's receiving end and what it holds."""

    profile: ClassVar[str]

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.blobs = BlobStore(tmp_path / "blobs")

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def sink(self, **overrides: Any) -> Sink:
        """A new sink instance, built through the registry like the daemon builds it."""
        profile = registry()[self.profile]
        assert profile.sink_settings is not None and profile.make_sink is not None
        settings = profile.sink_settings.model_validate({**self.settings(), **overrides})
        return profile.make_sink(settings, AdapterContext(units=(UNIT,), blobs=self.blobs))

    def count(self) -> int:
        """Documents the sink holds."""
        raise NotImplementedError

    def held(self, remote_id: str) -> JsonObject:
        """The document `remote_id` as the sink now holds it, in its own wire form."""
        raise NotImplementedError

    def assert_names_files(self, body: JsonObject, document: Document) -> None:
        raise NotImplementedError

    def assert_revoked(self, remote_id: str) -> None:
        raise NotImplementedError

    def assert_revision(self, remote_id: str, revision: int) -> None:
        raise NotImplementedError


class TdofficeSinkHarness(SinkHarness):
    profile = "tdoffice"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = TdofficeSim(seed=9)

    async def start(self) -> None:
        await self.sim.start()

    async def close(self) -> None:
        await self.sim.close()

    def settings(self) -> dict[str, Any]:
        return {
            "name": "contract-home",
            "profile": "tdoffice",
            "base_url": self.sim.base_url,
            "api_key": self.sim.api_key,
            "timeout_s": TIMEOUT_S,
        }

    def count(self) -> int:
        return len(self.sim.received)

    def held(self, remote_id: str) -> JsonObject:
        return self.sim.received[remote_id]

    def assert_names_files(self, body: JsonObject, document: Document) -> None:
        file_ids = [a["fileId"] for a in body["attachments"]]
        assert sorted(file_ids) == sorted(self.sim.uploads), "body does not name the uploads"
        uploaded = {self.sim.files[f].sha256 for f in file_ids}
        assert uploaded == {a.sha256 for a in document.attachments}

    def assert_revision(self, remote_id: str, revision: int) -> None:
        patches = self.sim.revisions.get(remote_id, [])
        assert [p["version"] for p in patches] == [revision], "PATCH without the revision"

    def assert_revoked(self, remote_id: str) -> None:
        assert remote_id in self.sim.revocations
        assert self.sim.received[remote_id]["state"] == "revoked"


class FolderSinkHarness(SinkHarness):
    profile = "folder"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.outbox = tmp_path / "outbox"

    def settings(self) -> dict[str, Any]:
        return {"name": "contract-outbox", "profile": "folder", "path": str(self.outbox)}

    def count(self) -> int:
        return len(list(self.outbox.glob("*.json")))

    def held(self, remote_id: str) -> JsonObject:
        data: JsonObject = json.loads((self.outbox / f"{remote_id}.json").read_bytes())
        return data

    def assert_names_files(self, body: JsonObject, document: Document) -> None:
        listed = {a["sha256"] for a in body["attachments"]}
        assert listed == {a.sha256 for a in document.attachments}
        for item in body["attachments"]:
            assert self.blobs.path(item["sha256"]).is_file(), item

    def assert_revision(self, remote_id: str, revision: int) -> None:
        assert self.held(remote_id)["revision"] == revision

    def assert_revoked(self, remote_id: str) -> None:
        assert self.held(remote_id)["state"] == str(DocumentState.REVOKED)


SINK_HARNESSES = {h.profile: h for h in (TdofficeSinkHarness, FolderSinkHarness)}


@pytest.fixture(params=sorted(SINK_HARNESSES))
async def sink_harness(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SinkHarness]:
    harness = SINK_HARNESSES[request.param](tmp_path)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


@pytest.fixture
def tdoffice_harness(sink_harness: SinkHarness) -> TdofficeSinkHarness:
    assert isinstance(sink_harness, TdofficeSinkHarness)
    return sink_harness


async def stored_document(harness: SinkHarness) -> Document:
    """A realistic document whose files are in the harness's blob store, as the pipeline has it."""
    seed = generate(20261123, 1, units=(UNIT,))[0]
    attachments = []
    for att in seed.document.attachments:
        data = seed.files[att.name]
        blob = await harness.blobs.put_bytes(data, max_bytes=len(data))
        assert blob.sha256 == hashlib.sha256(data).hexdigest()
        attachments.append(att.model_copy(update={"blob": blob.sha256}))
    return seed.document.model_copy(update={"attachments": tuple(attachments)})


async def create(harness: SinkHarness, document: Document) -> tuple[JsonObject, str]:
    async with harness.sink() as sink:
        body = await sink.prepare(
            Operation.CREATE, document, document_id=DOCUMENT_ID, remote_id=None
        )
        remote_id = await sink.send(Operation.CREATE, body, f"{DOCUMENT_ID}:create", None)
    return body, remote_id


async def test_push_is_idempotent(sink_harness: SinkHarness) -> None:
    """The stored body sent again under the same key, even by a new instance, is one document."""
    document = await stored_document(sink_harness)
    body, remote_id = await create(sink_harness, document)
    key = f"{DOCUMENT_ID}:create"
    async with sink_harness.sink() as sink:
        assert await sink.send(Operation.CREATE, body, key, None) == remote_id
    async with sink_harness.sink() as after_crash:
        stored = orjson.loads(orjson.dumps(body))  # as the outbox row gives it back
        assert await after_crash.send(Operation.CREATE, stored, key, None) == remote_id
    assert sink_harness.count() == 1


async def test_prepared_body_is_json_and_names_the_files(sink_harness: SinkHarness) -> None:
    """prepare returns a body orjson serializes unchanged, naming every file it uploaded."""
    document = await stored_document(sink_harness)
    body, _ = await create(sink_harness, document)
    assert orjson.loads(orjson.dumps(body)) == body
    sink_harness.assert_names_files(body, document)


async def test_update_and_revoke_after_create(sink_harness: SinkHarness) -> None:
    """UPDATE changes the created document in place; REVOKE revokes it; still one document."""
    document = await stored_document(sink_harness)
    _, remote_id = await create(sink_harness, document)
    revised = document.model_copy(
        update={"revision": 2, "subject": document.subject + " (thay thế)"}
    )
    revoked = revised.model_copy(update={"reason": "Văn bản ban hành sai thẩm quyền"})
    async with sink_harness.sink() as sink:
        body = await sink.prepare(
            Operation.UPDATE, revised, document_id=DOCUMENT_ID, remote_id=remote_id
        )
        assert await sink.send(Operation.UPDATE, body, f"{DOCUMENT_ID}:2", remote_id) == remote_id
        assert sink_harness.held(remote_id)["subject"] == revised.subject
        sink_harness.assert_revision(remote_id, 2)
        body = await sink.prepare(
            Operation.REVOKE, revoked, document_id=DOCUMENT_ID, remote_id=remote_id
        )
        assert orjson.loads(orjson.dumps(body)) == body
        await sink.send(Operation.REVOKE, body, f"{DOCUMENT_ID}:revoke", remote_id)
    sink_harness.assert_revoked(remote_id)
    assert sink_harness.count() == 1


@pytest.mark.parametrize("sink_harness", ["tdoffice"], indirect=True)
async def test_refused_body_is_permanent(tdoffice_harness: TdofficeSinkHarness) -> None:
    """A 422 from tdoffice raises PermanentError carrying the sink's reason."""
    document = await stored_document(tdoffice_harness)
    tdoffice_harness.sim.validator = lambda body: [{"field": "subject", "message": "quá dài"}]
    with pytest.raises(PermanentError, match="subject"):
        await create(tdoffice_harness, document)
    assert tdoffice_harness.count() == 0


@pytest.mark.parametrize("sink_harness", ["tdoffice"], indirect=True)
async def test_unavailable_is_transient(tdoffice_harness: TdofficeSinkHarness) -> None:
    """A 503 raises TransientError from prepare (uploads) and from send."""
    document = await stored_document(tdoffice_harness)
    async with tdoffice_harness.sink() as sink:
        body = await sink.prepare(
            Operation.CREATE, document, document_id=DOCUMENT_ID, remote_id=None
        )
        tdoffice_harness.sim.faults.down = True
        with pytest.raises(TransientError):
            await sink.prepare(Operation.CREATE, document, document_id=DOCUMENT_ID, remote_id=None)
        with pytest.raises(TransientError):
            await sink.send(Operation.CREATE, body, f"{DOCUMENT_ID}:create", None)
    assert tdoffice_harness.count() == 0


@pytest.mark.parametrize("sink_harness", ["tdoffice"], indirect=True)
async def test_throttled_is_transient_with_retry_after(
    tdoffice_harness: TdofficeSinkHarness,
) -> None:
    """A 429 with Retry-After raises TransientError carrying retry_after_s."""
    document = await stored_document(tdoffice_harness)
    async with tdoffice_harness.sink() as sink:
        body = await sink.prepare(
            Operation.CREATE, document, document_id=DOCUMENT_ID, remote_id=None
        )
        tdoffice_harness.sim.faults.throttle_rate = 1.0
        tdoffice_harness.sim.faults.retry_after_s = 11
        with pytest.raises(TransientError) as raised:
            await sink.send(Operation.CREATE, body, f"{DOCUMENT_ID}:create", None)
    assert raised.value.retry_after_s == pytest.approx(11)


@pytest.mark.parametrize("sink_harness", ["tdoffice"], indirect=True)
async def test_wrong_key_is_auth_error(tdoffice_harness: TdofficeSinkHarness) -> None:
    """A 401 (unknown API key) raises AuthError from check, prepare and send."""
    document = await stored_document(tdoffice_harness)
    async with tdoffice_harness.sink() as good:
        body = await good.prepare(
            Operation.CREATE, document, document_id=DOCUMENT_ID, remote_id=None
        )
    async with tdoffice_harness.sink(api_key="not-the-key") as sink:
        with pytest.raises(AuthError):
            await sink.check()
        with pytest.raises(AuthError):
            await sink.prepare(Operation.CREATE, document, document_id=DOCUMENT_ID, remote_id=None)
        with pytest.raises(AuthError):
            await sink.send(Operation.CREATE, body, f"{DOCUMENT_ID}:create", None)
    assert tdoffice_harness.count() == 0


async def test_unreachable_is_transient(sink_harness: SinkHarness) -> None:
    """A sink that cannot be reached (closed server, outbox under a plain file) is transient."""
    document = await stored_document(sink_harness)
    async with sink_harness.sink() as sink:
        body = await sink.prepare(
            Operation.CREATE, document, document_id=DOCUMENT_ID, remote_id=None
        )
    if isinstance(sink_harness, TdofficeSinkHarness):
        await sink_harness.sim.close()
        overrides: dict[str, Any] = {}
    else:
        (sink_harness.tmp_path / "plain-file").write_bytes(b"")
        overrides = {"path": str(sink_harness.tmp_path / "plain-file" / "outbox")}
    async with sink_harness.sink(**overrides) as sink:
        with pytest.raises(TransientError):
            await sink.check()
        with pytest.raises(TransientError):
            await sink.send(Operation.CREATE, body, f"{DOCUMENT_ID}:create", None)


async def test_missing_blob_is_permanent(sink_harness: SinkHarness) -> None:
    """A document whose file bytes are not in the blob store is refused as PermanentError."""
    document = await stored_document(sink_harness)
    ghost = document.attachments[0].model_copy(update={"sha256": "0" * 64, "blob": "0" * 64})
    broken = document.model_copy(update={"attachments": (ghost,)})
    async with sink_harness.sink() as sink:
        with pytest.raises(PermanentError):
            body = await sink.prepare(
                Operation.CREATE, broken, document_id=DOCUMENT_ID, remote_id=None
            )
            await sink.send(Operation.CREATE, body, f"{DOCUMENT_ID}:create", None)
    assert sink_harness.count() == 0
