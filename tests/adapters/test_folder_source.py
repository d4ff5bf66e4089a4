"""The folder source against a real inbox written by `FolderDropper`, with a real BlobStore."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.folder import PROFILE, FolderSource, FolderSourceSettings
from adapters.folder.mapping import to_document
from adapters.folder.scan import SettleTracker, list_inbox
from bridge.blobs import BlobStore
from bridge.errors import TransientError
from bridge.interfaces import AdapterContext
from bridge.normalize import fold_key
from schemas import RawRecord
from simulators import factories
from simulators.demo_data import generate
from simulators.folder import FolderDropper
from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT / "folder"
UNIT = "000.00.33.H49"


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
async def dropper(tmp_path: Path) -> AsyncIterator[FolderDropper]:
    sim = factories()["folder"](3, tmp_path / "inbox")
    await sim.start()
    sim.backdate_s = 60.0
    yield sim
    await sim.close()


def _source(inbox: Path, blobs: BlobStore, **options: Any) -> FolderSource:
    settings = FolderSourceSettings(name="vandon-folder", profile="folder", path=inbox, **options)
    return FolderSource(settings, AdapterContext(units=(UNIT,), blobs=blobs))


async def _pull(source: FolderSource) -> list[RawRecord]:
    records: list[RawRecord] = []
    async with asyncio.timeout(10):
        async for page in source.pull(None):
            assert page.cursor is None
            records.extend(page.records)
    return records


def _corpus_with_files(name: str, files: dict[str, bytes]) -> bytes:
    """A corpus JSON metadata file whose attachment hashes are those of `files`, in order."""
    data = json.loads((CORPUS / name).read_bytes())
    for entry, content in zip(data["attachments"], files.values(), strict=True):
        entry["sha256"] = hashlib.sha256(content).hexdigest()
        entry["size"] = len(content)
    return orjson.dumps(data)


async def test_dropped_document_is_read_stored_and_moved_to_done(
    dropper: FolderDropper, blobs: BlobStore
) -> None:
    """A seeded document yields one record whose files are in the blob store; ack moves all."""
    seed = generate(1, 1, units=[UNIT])[0]
    stem = dropper.add_document(seed.document, seed.files, unit=UNIT)
    assert dropper.drops[-1] == f"{stem}.json"  # metadata written last
    source = _source(dropper.inbox, blobs)
    [record] = await _pull(source)
    assert record.error is None and record.external_id == stem and record.unit == UNIT
    assert (
        record.version == hashlib.sha256((dropper.inbox / f"{stem}.json").read_bytes()).hexdigest()
    )
    for attachment in record.attachments:
        assert attachment.blob == attachment.sha256 and blobs.path(attachment.sha256).is_file()
    doc = to_document(record)
    assert doc.attachments == record.attachments
    assert [(a.name, a.sha256) for a in doc.attachments] == [
        (a.name, a.sha256) for a in seed.document.attachments
    ]
    await source.acknowledge(record)
    done = {p.name for p in (dropper.inbox / ".done").iterdir()}
    assert done == {f"{stem}.json", *seed.files}
    assert [p.name for p in dropper.inbox.iterdir()] == [".done"]
    await source.acknowledge(record)  # idempotent
    assert await _pull(source) == []


@pytest.mark.parametrize("nfd_on_disk", [False, True])
async def test_vietnamese_names_match_in_nfc_and_nfd(
    dropper: FolderDropper, blobs: BlobStore, nfd_on_disk: bool
) -> None:
    """Metadata naming files in NFD finds them written in NFC, and NFC names find NFD files."""
    files = {"Thông báo số 265.pdf": b"%PDF-1.4 thong bao 265"}
    metadata = _corpus_with_files("VB20230517_0001.json", files)
    if nfd_on_disk:  # the corpus metadata already names the file in NFD: make it NFC here
        metadata = unicodedata.normalize("NFC", metadata.decode()).encode()
    dropper.nfd_names = nfd_on_disk
    dropper.add_raw("VB20230517_0001.json", metadata, files)
    source = _source(dropper.inbox, blobs)
    [record] = await _pull(source)
    assert record.error is None
    [attachment] = record.attachments
    assert attachment.name == "Thông báo số 265.pdf"  # NFC
    assert to_document(record).issuer.name == "Văn phòng Chính phủ"
    await source.acknowledge(record)
    assert len(list((dropper.inbox / ".done").iterdir())) == 2


async def test_edxml_metadata_reads_the_files_beside_it(
    dropper: FolderDropper, blobs: BlobStore
) -> None:
    """An edXML metadata file's manifest names the files beside it; they become attachments."""
    files = {"Báo cáo tháng.pdf": b"%PDF month", "Biểu mẫu báo cáo.pdf": b"%PDF form"}
    dropper.add_raw("VB20230608_0002.xml", (CORPUS / "VB20230608_0002.xml").read_bytes(), files)
    [record] = await _pull(_source(dropper.inbox, blobs))
    assert record.error is None
    doc = to_document(record)
    assert (doc.number, doc.notation, doc.issuer.code) == ("13", "BC-UBND", "000.08.33.H49")
    assert doc.issued_on is not None and doc.issued_on.isoformat() == "2023-06-05"
    assert [(fold_key(a.name), a.sha256) for a in doc.attachments] == [
        (fold_key(n), hashlib.sha256(b).hexdigest()) for n, b in files.items()
    ]


async def test_growing_files_wait_until_settled(tmp_path: Path, blobs: BlobStore) -> None:
    """An attachment still growing within `settle_s` holds its document back, then it is read."""
    seed = next(s for s in generate(2, 20, units=[UNIT]) if len(s.files) == 1)
    [(name, data)] = seed.files.items()
    async with FolderDropper(tmp_path / "inbox") as sim:
        source = _source(sim.inbox, blobs, settle_s=0.4)
        sim.start_growing(name, data)
        sim.backdate_s = 60.0
        sim.add_document(seed.document, {}, unit=UNIT)
        assert await _pull(source) == []
        sim.finish_growing(name, data)
        assert await _pull(source) == []
        await asyncio.sleep(0.5)
        [record] = await _pull(source)
        assert record.error is None
        assert record.attachments[0].sha256 == hashlib.sha256(data).hexdigest()


async def test_fresh_metadata_is_not_read_before_settling(tmp_path: Path, blobs: BlobStore) -> None:
    """A metadata file written just now is left alone until `settle_s` has passed."""
    async with FolderDropper(tmp_path / "inbox") as sim:
        seed = generate(4, 1, units=[UNIT])[0]
        sim.add_document(seed.document, seed.files, unit=UNIT)
        source = _source(sim.inbox, blobs, settle_s=0.3)
        assert await _pull(source) == []
        await asyncio.sleep(0.4)
        assert len(await _pull(source)) == 1


async def test_unparseable_metadata_is_rejected_with_its_reason(
    dropper: FolderDropper, blobs: BlobStore
) -> None:
    """A cut-short JSON file becomes an error record; ack moves it beside NAME.error.txt."""
    dropper.add_raw("VB20230627_0003.json", (CORPUS / "VB20230627_0003.json").read_bytes())
    source = _source(dropper.inbox, blobs)
    [record] = await _pull(source)
    assert record.error is not None and "JSON" in record.error
    assert record.payload == (CORPUS / "VB20230627_0003.json").read_bytes()
    await source.acknowledge(record)
    await source.acknowledge(record)
    rejected = dropper.inbox / ".rejected"
    assert sorted(p.name for p in rejected.iterdir()) == [
        "VB20230627_0003.error.txt",
        "VB20230627_0003.json",
    ]
    assert (rejected / "VB20230627_0003.error.txt").read_text("utf-8").strip() == record.error


async def test_unmappable_document_is_rejected_with_its_files(
    dropper: FolderDropper, blobs: BlobStore
) -> None:
    """A readable file lacking a mandatory field is rejected together with its attachment."""
    files = {"CV 161 SGDĐT-KTQLCL.pdf": b"%PDF cv 161"}
    dropper.add_raw(
        "VB20240209_0006.json", _corpus_with_files("VB20240209_0006.json", files), files
    )
    source = _source(dropper.inbox, blobs)
    [record] = await _pull(source)
    assert record.error is not None and "promulgationDate" in record.error
    await source.acknowledge(record)
    assert sorted(p.name for p in (dropper.inbox / ".rejected").iterdir()) == [
        "CV 161 SGDĐT-KTQLCL.pdf",
        "VB20240209_0006.error.txt",
        "VB20240209_0006.json",
    ]


async def test_sha256_mismatch_makes_an_error_record(
    dropper: FolderDropper, blobs: BlobStore
) -> None:
    """An attachment whose bytes do not match the stated SHA-256 is refused, nothing stored."""
    metadata = _corpus_with_files("VB20231120_0005.json", {"GM 113 GM-UBND.pdf": b"original"})
    dropper.add_raw("VB20231120_0005.json", metadata, {"GM 113 GM-UBND.pdf": b"tampered"})
    [record] = await _pull(_source(dropper.inbox, blobs))
    assert record.error is not None and "SHA-256" in record.error
    assert not blobs.path(hashlib.sha256(b"tampered").hexdigest()).is_file()


async def test_missing_attachment_waits_then_is_rejected(
    dropper: FolderDropper, blobs: BlobStore
) -> None:
    """A named file not there yet is waited for; past the grace period the record is refused."""
    metadata = _corpus_with_files("VB20231120_0005.json", {"GM 113 GM-UBND.pdf": b"x"})
    dropper.add_raw("VB20231120_0005.json", metadata)
    assert await _pull(_source(dropper.inbox, blobs)) == []
    [record] = await _pull(_source(dropper.inbox, blobs, missing_file_grace_s=30))
    assert record.error is not None and "GM 113 GM-UBND.pdf" in record.error


async def test_attachment_names_cannot_reach_outside_the_inbox(
    tmp_path: Path, dropper: FolderDropper, blobs: BlobStore
) -> None:
    """`../x` and symlinks are never followed: such a file counts as missing."""
    (tmp_path / "secret.pdf").write_bytes(b"outside")
    os.symlink(tmp_path / "secret.pdf", dropper.inbox / "link.pdf")
    for name, number in (("../secret.pdf", "1"), ("link.pdf", "2")):
        data = json.loads((CORPUS / "VB20231120_0005.json").read_bytes())
        data["codeNumber"] = number
        data["attachments"] = [
            {"name": name, "size": 7, "sha256": hashlib.sha256(b"outside").hexdigest()}
        ]
        dropper.add_raw(f"VB_{number}.json", orjson.dumps(data))
    records = await _pull(_source(dropper.inbox, blobs, missing_file_grace_s=0))
    assert len(records) == 2 and all("missing" in (r.error or "") for r in records)
    assert not blobs.path(hashlib.sha256(b"outside").hexdigest()).is_file()


def _write_bytes_name(folder: Path, name: bytes, data: bytes) -> None:
    """Write a file whose name is not UTF-8 (possible on Linux), already settled."""
    path = os.fsencode(str(folder)) + b"/" + name
    with open(path, "wb") as out:
        out.write(data)
    os.utime(path, (1_700_000_000, 1_700_000_000))


async def test_odd_and_huge_files_do_not_stop_the_scan(
    dropper: FolderDropper, blobs: BlobStore
) -> None:
    """Names without extension, with control characters or bad bytes, and huge metadata files
    never crash a scan; the unreadable ones become error records and are rejected."""
    seed = generate(5, 1, units=[UNIT])[0]
    stem = dropper.add_document(seed.document, seed.files, unit=UNIT)
    dropper.write_file("README", b"no extension")
    dropper.write_file("bad\x01name.json", b"{}")
    dropper.write_file("a..b.json", b"[]")
    dropper.write_file("huge.json", b" " * 5000)
    _write_bytes_name(dropper.inbox, b"\xff\xfe.json", b"{}")
    source = _source(dropper.inbox, blobs, max_metadata_bytes=4096)
    records = {r.external_id: r for r in await _pull(source)}
    assert records[stem].error is None
    assert "quá lớn" in (records["huge"].error or "")
    assert "JSON" in (records["a..b"].error or "")
    odd = [r for key, r in records.items() if "\\x" in key]
    assert len(odd) == 2 and all("UTF-8" in (r.error or "") for r in odd)
    assert all(json.dumps(r.model_dump(mode="json")) for r in records.values())
    for record in records.values():
        await source.acknowledge(record)
    assert sorted(os.listdir(dropper.inbox)) == [".done", ".rejected", "README"]


async def test_attachments_ending_in_xml_are_not_taken_for_metadata(
    dropper: FolderDropper, blobs: BlobStore
) -> None:
    """A file that another metadata file names is its attachment, even if it ends in .xml."""
    files = {"bang-ke.xml": b"<bangke/>"}
    data = json.loads(_corpus_with_files("VB20231120_0005.json", files))
    data["attachments"][0]["name"] = "bang-ke.xml"
    dropper.add_raw("VB20231120_0005.json", orjson.dumps(data), files)
    [record] = await _pull(_source(dropper.inbox, blobs))
    assert record.error is None and [a.name for a in record.attachments] == ["bang-ke.xml"]


async def test_restart_sees_only_what_was_not_acknowledged(
    dropper: FolderDropper, blobs: BlobStore
) -> None:
    """Without a cursor, a new source instance resumes from what is still in the inbox."""
    seeds = generate(6, 3, units=[UNIT])
    stems = [dropper.add_document(s.document, s.files, unit=UNIT) for s in seeds]
    first = _source(dropper.inbox, blobs, page_size=2)
    pages = []
    async with asyncio.timeout(10):
        async for page in first.pull(None):
            pages.append(page)
    assert [len(p.records) for p in pages] == [2, 1]
    await first.acknowledge(pages[0].records[0])
    again = await _pull(_source(dropper.inbox, blobs))
    assert sorted(r.external_id for r in again) == sorted(stems[1:])


async def test_same_attachment_name_twice_does_not_clobber_done(
    dropper: FolderDropper, blobs: BlobStore
) -> None:
    """Two documents with a file of one name keep both copies in `.done/`."""
    source = _source(dropper.inbox, blobs)
    for number in ("1", "2"):
        content = f"scan {number}".encode()
        data = json.loads(_corpus_with_files("VB20231120_0005.json", {"scan.pdf": content}))
        data["codeNumber"] = number
        data["attachments"][0]["name"] = "scan.pdf"
        dropper.add_raw(f"VB_{number}.json", orjson.dumps(data), {"scan.pdf": content})
        [record] = await _pull(source)
        await source.acknowledge(record)
    done = dropper.inbox / ".done"
    assert {(done / n).read_bytes() for n in ("scan.pdf", "scan (2).pdf")} == {
        b"scan 1",
        b"scan 2",
    }


async def test_missing_inbox_is_transient(tmp_path: Path, blobs: BlobStore) -> None:
    """check() and pull() on an absent inbox raise TransientError (a share may be unmounted)."""
    source = _source(tmp_path / "absent", blobs)
    async with source:
        with pytest.raises(TransientError):
            await source.check()
        with pytest.raises(TransientError):
            await _pull(source)


async def test_profile_builds_source_from_configuration_keys(
    tmp_path: Path, blobs: BlobStore
) -> None:
    """The `path` key configures a source; a wrong profile name is refused."""
    assert PROFILE.source_settings is not None and PROFILE.make_source is not None
    raw = {"name": "vd-folder", "profile": "folder", "path": str(tmp_path), "poll_interval": 5}
    settings = PROFILE.source_settings.model_validate(raw)
    source = PROFILE.make_source(settings, AdapterContext(units=(UNIT,), blobs=blobs))
    async with source:
        await source.check()
    with pytest.raises(ValueError):
        PROFILE.source_settings.model_validate(raw | {"profile": "tdoffice"})


async def test_file_dated_in_the_future_settles_by_watching(tmp_path: Path) -> None:
    """A share whose clock runs ahead: a file is ready once seen unchanged for `settle_s`."""
    path = tmp_path / "VB.json"
    path.write_bytes(b"{}")
    ahead = time.time() + 3600
    os.utime(path, (ahead, ahead))
    tracker = SettleTracker(settle_s=0.2)
    tracker.observe(list_inbox(tmp_path))
    assert not tracker.is_settled(list_inbox(tmp_path)["VB.json"])
    await asyncio.sleep(0.3)
    entries = list_inbox(tmp_path)
    tracker.observe(entries)
    assert tracker.is_settled(entries["VB.json"])
    path.write_bytes(b"{} ")
    os.utime(path, (ahead + 1, ahead + 1))
    entries = list_inbox(tmp_path)
    tracker.observe(entries)
    assert not tracker.is_settled(entries["VB.json"])
