"""The folder sink writing into a real outbox from a real BlobStore."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.folder import PROFILE, FolderSink, FolderSinkSettings
from bridge.blobs import BlobStore
from bridge.errors import PermanentError, TransientError
from bridge.interfaces import AdapterContext, Operation
from bridge.normalize.filenames import FALLBACK_NAME, safe_file_name, unique_names
from schemas import Attachment, Document
from simulators.demo_data import generate

UNIT = "000.00.33.H49"
HOSTILE = (
    "C:\\Windows\\System32\\drivers\\etc\\hosts",  # the corpus record noted hostile-name
    "../../etc/passwd",
    "/etc/shadow",
    "CON",
    "nul.txt",
    "a\x07b\nc.pdf",
    ".bashrc",
    "..",
    "report.pdf",
    "REPORT.pdf",
)


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def _sink(outbox: Path, blobs: BlobStore) -> FolderSink:
    settings = FolderSinkSettings(name="vandon-out", profile="folder", path=outbox)
    return PROFILE.make_sink(settings, AdapterContext(units=(UNIT,), blobs=blobs))  # type: ignore[misc,return-value]


async def _stored(blobs: BlobStore, files: dict[str, bytes]) -> tuple[Attachment, ...]:
    attachments = []
    for name, data in files.items():
        blob = await blobs.put_bytes(data, max_bytes=1 << 20)
        attachments.append(
            Attachment(name=name, size=blob.size, sha256=blob.sha256, blob=blob.sha256)
        )
    return tuple(attachments)


async def _deliver(sink: FolderSink, op: Operation, doc: Document, document_id: str) -> str:
    body = await sink.prepare(op, doc, document_id=document_id, remote_id=None)
    return await sink.send(op, json.loads(json.dumps(body)), f"key-{document_id}", None)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def test_delivery_writes_json_and_files(tmp_path: Path, blobs: BlobStore) -> None:
    """The JSON holds the common schema plus document_id and file paths; files hold the bytes."""
    seed = generate(1, 1, units=[UNIT])[0]
    doc = seed.document.model_copy(update={"attachments": await _stored(blobs, seed.files)})
    outbox = tmp_path / "outbox"
    async with _sink(outbox, blobs) as sink:
        await sink.check()
        assert await _deliver(sink, Operation.CREATE, doc, "doc-1") == "doc-1"
    written = json.loads((outbox / "doc-1.json").read_bytes())
    assert written["document_id"] == "doc-1"
    assert (
        Document.model_validate(
            {k: v for k, v in written.items() if k != "document_id"}
            | {
                "attachments": [
                    {k: v for k, v in a.items() if k != "path"} for a in written["attachments"]
                ]
            }
        )
        == doc
    )
    for attachment, (name, data) in zip(written["attachments"], seed.files.items(), strict=True):
        assert attachment["path"] == f"doc-1/{name}"
        assert (outbox / attachment["path"]).read_bytes() == data


async def test_hostile_names_stay_inside_the_document_folder(
    tmp_path: Path, blobs: BlobStore
) -> None:
    """Path-like, device, hidden and control-character names are rewritten, never followed."""
    files = {name: f"content {i}".encode() for i, name in enumerate(HOSTILE)}
    attachments = await _stored(blobs, files)
    doc = generate(2, 1, units=[UNIT])[0].document.model_copy(update={"attachments": attachments})
    outbox = tmp_path / "deep" / "outbox"
    async with _sink(outbox, blobs) as sink:
        await _deliver(sink, Operation.CREATE, doc, "doc-2")
    everything = sorted(p for p in (tmp_path / "deep").rglob("*") if p.is_file())
    assert {p.parent for p in everything} == {outbox, outbox / "doc-2"}
    names = [p.name for p in (outbox / "doc-2").iterdir()]
    assert len(names) == len(HOSTILE)
    assert all(not n.startswith(".") and "\\" not in n and ":" not in n for n in names)
    assert "C__Windows_System32_drivers_etc_hosts" in names and "_CON" in names
    written = json.loads((outbox / "doc-2.json").read_bytes())
    for attachment, data in zip(written["attachments"], files.values(), strict=True):
        assert (outbox / attachment["path"]).read_bytes() == data


async def test_redelivery_rewrites_identical_files(tmp_path: Path, blobs: BlobStore) -> None:
    """Sending the same body twice leaves the same names with the same bytes, no temp files."""
    seed = generate(3, 1, units=[UNIT])[0]
    doc = seed.document.model_copy(update={"attachments": await _stored(blobs, seed.files)})
    outbox = tmp_path / "outbox"
    async with _sink(outbox, blobs) as sink:
        await _deliver(sink, Operation.CREATE, doc, "doc-3")
        first = _tree(outbox)
        await _deliver(sink, Operation.CREATE, doc, "doc-3")
    assert _tree(outbox) == first
    assert not [p for p in outbox.rglob(".*")]


async def test_failed_delivery_leaves_no_partial_document(tmp_path: Path, blobs: BlobStore) -> None:
    """When a file's bytes are missing the send fails permanently before the JSON is written."""
    stored = await _stored(blobs, {"a.pdf": b"first"})
    ghost = Attachment(name="b.pdf", size=5, sha256=hashlib.sha256(b"ghost").hexdigest())
    doc = generate(4, 1, units=[UNIT])[0].document.model_copy(
        update={"attachments": (*stored, ghost)}
    )
    outbox = tmp_path / "outbox"
    async with _sink(outbox, blobs) as sink:
        with pytest.raises(PermanentError, match=r"b\.pdf"):
            await _deliver(sink, Operation.CREATE, doc, "doc-4")
    assert not (outbox / "doc-4.json").exists()
    assert [p.name for p in outbox.rglob("*") if p.is_file()] == ["a.pdf"]


async def test_update_and_revoke_rewrite_the_json(tmp_path: Path, blobs: BlobStore) -> None:
    """UPDATE writes the new revision; REVOKE writes the document with state revoked."""
    seed = generate(5, 1, units=[UNIT])[0]
    doc = seed.document.model_copy(update={"attachments": await _stored(blobs, seed.files)})
    outbox = tmp_path / "outbox"
    async with _sink(outbox, blobs) as sink:
        await _deliver(sink, Operation.CREATE, doc, "doc-5")
        revised = doc.model_copy(update={"revision": 2, "subject": "V/v nội dung đã sửa"})
        await _deliver(sink, Operation.UPDATE, revised, "doc-5")
        written = json.loads((outbox / "doc-5.json").read_bytes())
        assert (written["revision"], written["subject"]) == (2, "V/v nội dung đã sửa")
        revocation = revised.model_copy(update={"reason": "Ban hành nhầm"})
        await _deliver(sink, Operation.REVOKE, revocation, "doc-5")
    written = json.loads((outbox / "doc-5.json").read_bytes())
    assert (written["state"], written["reason"]) == ("revoked", "Ban hành nhầm")


async def test_unusable_document_id_and_outbox(tmp_path: Path, blobs: BlobStore) -> None:
    """A document id that is not a plain name is permanent; an unwritable outbox is transient."""
    doc = generate(6, 1, units=[UNIT])[0].document.model_copy(update={"attachments": ()})
    async with _sink(tmp_path / "outbox", blobs) as sink:
        with pytest.raises(PermanentError):
            await sink.prepare(Operation.CREATE, doc, document_id="../x", remote_id=None)
    (tmp_path / "file").write_bytes(b"")
    async with _sink(tmp_path / "file" / "outbox", blobs) as sink:
        with pytest.raises(TransientError):
            await sink.check()
        with pytest.raises(TransientError):
            await _deliver(sink, Operation.CREATE, doc, "doc-6")


@given(st.text(max_size=300))
def test_safe_file_name_is_always_a_plain_name(name: str) -> None:
    """Any text becomes a non-empty, non-hidden, separator-free name, stable when re-applied."""
    safe = safe_file_name(name)
    assert safe and not safe.startswith(".") and safe not in (".", "..")
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert len(safe.encode("utf-8")) <= 200
    assert safe_file_name(safe) == safe


def test_unique_names_are_distinct_and_stable() -> None:
    """Names equal after rewriting (or by case) get numbered suffixes, the same each time."""
    names = ["a.pdf", "A.pdf", "../a.pdf", "", "\x00"]
    assert unique_names(names) == [
        "a.pdf",
        "A (2).pdf",
        "a (3).pdf",
        FALLBACK_NAME,
        f"{FALLBACK_NAME} (2)",
    ]
    assert unique_names(names) == unique_names(list(names))
