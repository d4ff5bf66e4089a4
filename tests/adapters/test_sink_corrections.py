"""Corrections of a delivered document at the sinks: tdoffice gets a PATCH of the corrected
fields with the same version and a note, uploading nothing; the folder sink rewrites the JSON
with the note and leaves the files as they are."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import orjson

from adapters.folder import PROFILE as FOLDER
from adapters.folder import FolderSinkSettings
from adapters.tdoffice.settings import TdofficeSinkSettings
from adapters.tdoffice.sink import TdofficeSink
from bridge.blobs import Blobs, BlobStore
from bridge.interfaces import AdapterContext, Operation
from schemas import Attachment, Document, Organ
from simulators.tdoffice import TdofficeSim

UNIT = "000.00.33.H49"
NOTE = "Bổ sung theo đường vxp: mã cơ quan ban hành «000.00.31.H59» / completed from road vxp"


async def _document(blobs: Blobs) -> Document:
    data = b"%PDF-1.4 quyet dinh"
    blob = await blobs.put_bytes(data, max_bytes=1 << 20)
    return Document(
        issuer=Organ(name="Ủy ban nhân dân huyện Tiểu Cần"),
        number="12",
        notation="QĐ-UBND",
        issued_on=dt.date(2024, 3, 5),
        type_name="Quyết định",
        subject="Về việc phê duyệt kế hoạch",
        attachments=(
            Attachment(name="12.pdf", size=blob.size, sha256=blob.sha256, blob=blob.sha256),
        ),
    )


async def test_tdoffice_correction_is_a_patch_of_the_same_version_with_a_note(
    tmp_path: Path,
) -> None:
    ctx = AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))
    doc = await _document(ctx.blobs)
    corrected = doc.model_copy(update={"issuer": Organ(code="000.00.31.H59", name=doc.issuer.name)})
    async with TdofficeSim() as sim:
        settings = TdofficeSinkSettings.model_validate(
            {
                "name": "home",
                "profile": "tdoffice",
                "base_url": sim.base_url,
                "api_key": "td-sim-key",
            }
        )
        async with TdofficeSink(settings, ctx) as sink:
            body = await sink.prepare(Operation.CREATE, doc, document_id="1", remote_id=None)
            remote_id = await sink.send(Operation.CREATE, body, "k-create", None)
            uploads = len(sim.uploads)
            patch = await sink.prepare(
                Operation.CORRECT, corrected, document_id="1", remote_id=remote_id, note=NOTE
            )
            assert await sink.send(Operation.CORRECT, patch, "k-correct", remote_id) == remote_id
        (call,) = sim.calls("PATCH", f"/api/v2/documents/{remote_id}")
        sent = orjson.loads(call.body)
        assert sent["issuer"] == {"organId": "000.00.31.H59", "organName": doc.issuer.name}
        assert sent["version"] == 1 and sent["note"] == NOTE
        assert "attachments" not in sent and len(sim.uploads) == uploads
        held = sim.received[remote_id]
        assert held["issuer"]["organId"] == "000.00.31.H59" and held["codeNumber"] == "12"


async def test_folder_correction_rewrites_the_json_with_the_note(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    doc = await _document(blobs)
    outbox = tmp_path / "outbox"
    settings = FolderSinkSettings(name="out", profile="folder", path=outbox)
    sink = FOLDER.make_sink(settings, AdapterContext(units=(UNIT,), blobs=blobs))  # type: ignore[misc]
    async with sink:
        body = await sink.prepare(Operation.CREATE, doc, document_id="7", remote_id=None)
        await sink.send(Operation.CREATE, json.loads(json.dumps(body)), "k1", None)
        (outbox / "7" / "12.pdf").unlink()  # a correction must not need (nor write) the files
        corrected = doc.model_copy(update={"issuer": Organ(code="000.00.31.H59", name="X")})
        body = await sink.prepare(
            Operation.CORRECT, corrected, document_id="7", remote_id="7", note=NOTE
        )
        await sink.send(Operation.CORRECT, body, "k2", "7")
    written = json.loads((outbox / "7.json").read_bytes())
    assert written["issuer"] == {"code": "000.00.31.H59", "name": "X"}
    assert written["note"] == NOTE and written["revision"] == 1
    assert not (outbox / "7" / "12.pdf").exists()
