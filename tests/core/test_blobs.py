"""The file blob store: small files written in groups, big ones streamed, refusals leave
nothing behind. Real files in a temporary folder."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

import bridge.blobs
from bridge.blobs import SPILL_BYTES, BlobStore, deferred_flush
from bridge.blobs.groups import GroupWriter
from bridge.errors import PermanentError

MAX = 64 * 1024 * 1024


def _parts(blobs: BlobStore) -> list[Path]:
    return sorted((blobs.root / "tmp").iterdir())


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
        await asyncio.sleep(0)


async def test_many_small_files_at_once_are_all_stored_byte_for_byte(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    datas = [f"tệp số {i}".encode() * (i + 1) for i in range(200)]
    stored = await asyncio.gather(*(blobs.put_bytes(d, max_bytes=MAX) for d in datas))
    for data, blob in zip(datas, stored, strict=True):
        assert blob.sha256 == hashlib.sha256(data).hexdigest()
        assert blob.size == len(data)
        assert blobs.path(blob.sha256).read_bytes() == data
    assert _parts(blobs) == []


async def test_the_same_bytes_twice_at_once_make_one_blob(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    a, b = await asyncio.gather(
        blobs.put_bytes(b"%PDF-1.4 same", max_bytes=MAX),
        blobs.put_bytes(b"%PDF-1.4 same", max_bytes=MAX),
    )
    assert a == b
    assert blobs.path(a.sha256).read_bytes() == b"%PDF-1.4 same"
    again = await blobs.put_bytes(b"%PDF-1.4 same", max_bytes=MAX)  # stored already: kept
    assert again == a and _parts(blobs) == []


@pytest.mark.parametrize("size", [SPILL_BYTES // 2, SPILL_BYTES * 3 + 17])
async def test_refusals_keep_nothing(tmp_path: Path, size: int) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    with pytest.raises(PermanentError, match="SHA-256"):
        await blobs.put_stream(_chunks(data), max_bytes=MAX, expected_sha256="0" * 64)
    with pytest.raises(PermanentError, match="quá lớn"):
        await blobs.put_stream(_chunks(data), max_bytes=size - 1)
    assert not await blobs.exists(hashlib.sha256(data).hexdigest())
    assert _parts(blobs) == []


async def test_a_big_file_streams_through_a_part_file(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    data = bytes(range(256)) * (3 * SPILL_BYTES // 256)
    blob = await blobs.put_stream(
        _chunks(data), max_bytes=MAX, expected_sha256=hashlib.sha256(data).hexdigest()
    )
    assert blobs.path(blob.sha256).read_bytes() == data and blob.size == len(data)
    assert _parts(blobs) == []


async def test_a_cancelled_writer_leaves_no_part_behind(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    spilled = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield b"a" * (SPILL_BYTES + 1)  # past the spill size: a part file exists now
        spilled.set()
        await asyncio.Event().wait()
        yield b""

    task = asyncio.create_task(blobs.put_stream(stalls(), max_bytes=MAX))
    await spilled.wait()
    await asyncio.sleep(0.05)
    assert len(_parts(blobs)) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _parts(blobs) == []


async def test_one_failing_file_in_a_group_does_not_fail_the_others(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    bad = b"this one cannot be placed"
    sha = hashlib.sha256(bad).hexdigest()
    (blobs.root / sha[:2]).write_bytes(b"")  # a file where its folder must go
    results = await asyncio.gather(
        *(blobs.put_bytes(f"good {i}".encode(), max_bytes=MAX) for i in range(20)),
        blobs.put_bytes(bad, max_bytes=MAX),
        return_exceptions=True,
    )
    assert isinstance(results[-1], OSError)
    for i, blob in enumerate(results[:-1]):
        assert not isinstance(blob, BaseException)
        assert blobs.path(blob.sha256).read_bytes() == f"good {i}".encode()
    assert _parts(blobs) == []


async def test_a_deferred_flush_is_awaited_by_the_caller(tmp_path: Path) -> None:
    """Inside deferred_flush a small put returns before its bytes are flushed and placed; the
    blob is under its key once the collected flush is awaited."""
    blobs = BlobStore(tmp_path / "blobs")
    with deferred_flush() as flushes:
        blob = await blobs.put_bytes(b"%PDF-1.4 later", max_bytes=MAX)
        placed_at_return = await blobs.exists(blob.sha256)
    assert not placed_at_return and len(flushes) == 1
    await asyncio.gather(*flushes)
    assert blobs.path(blob.sha256).read_bytes() == b"%PDF-1.4 later"


async def test_a_put_after_the_scope_ended_waits_for_its_own_flush(tmp_path: Path) -> None:
    """A task that inherited a deferred_flush scope but puts after it ended gets a durable
    blob on return, not a flush nobody awaits."""
    blobs = BlobStore(tmp_path / "blobs")
    go = asyncio.Event()

    async def late() -> bool:
        await go.wait()
        blob = await blobs.put_bytes(b"%PDF-1.4 late", max_bytes=MAX)
        return await blobs.exists(blob.sha256)

    with deferred_flush() as flushes:
        task = asyncio.create_task(late())
    go.set()
    assert await task is True
    assert flushes == []


async def test_small_blobs_stored_last_are_read_from_memory(tmp_path: Path) -> None:
    """Once durable, a small blob is also kept in memory (up to a byte budget, the oldest going
    first): reads need no file. A blob whose write failed is not there; a deleted one is gone."""
    blobs = BlobStore(tmp_path / "blobs", recent_bytes=3000)
    first = await blobs.put_bytes(b"a" * 1000, max_bytes=MAX)
    second = await blobs.put_bytes(b"b" * 1000, max_bytes=MAX)
    blobs.path(first.sha256).unlink()  # only memory can answer now
    assert blobs.recent(first.sha256) == b"a" * 1000
    assert await blobs.exists(first.sha256)
    assert b"".join([c async for c in blobs.read(first.sha256, chunk_bytes=300)]) == b"a" * 1000
    third = await blobs.put_bytes(b"c" * 1500, max_bytes=MAX)  # over budget: the oldest goes
    assert blobs.recent(first.sha256) is None
    assert not await blobs.exists(first.sha256)
    assert blobs.recent(second.sha256) == b"b" * 1000
    assert blobs.recent(third.sha256) == b"c" * 1500
    assert await blobs.delete(second.sha256)
    assert blobs.recent(second.sha256) is None and not await blobs.exists(second.sha256)
    bad = b"cannot be placed"
    sha = hashlib.sha256(bad).hexdigest()
    (blobs.root / sha[:2]).write_bytes(b"")  # a file where its folder must go
    with pytest.raises(OSError):
        await blobs.put_bytes(bad, max_bytes=MAX)
    assert blobs.recent(sha) is None
    big = await blobs.put_bytes(b"d" * (SPILL_BYTES + 1), max_bytes=MAX)  # streamed: not kept
    assert blobs.recent(big.sha256) is None


def test_the_package_answers_for_every_public_name() -> None:
    """Callers import from `bridge.blobs` alone, whichever module of the package holds a name."""
    expected = {"BlobStore", "Blobs", "StoredBlob", "deferred_flush"}
    expected |= {"CHUNK_BYTES", "SPILL_BYTES", "RECENT_BYTES"}
    assert set(bridge.blobs.__all__) == expected
    missing = [name for name in expected if not hasattr(bridge.blobs, name)]
    assert not missing, f"not importable from bridge.blobs: {missing}"


async def test_a_group_writer_failing_to_record_one_blob_fails_that_writer_alone() -> None:
    """`on_durable` raising for one blob fails its writer; the others of its group succeed and
    nobody is left waiting."""

    def record(sha256: str, data: list[bytes]) -> None:
        if sha256 == "b":
            raise RuntimeError("index full")

    writer = GroupWriter(lambda items: [None] * len(items), record)
    futures = [writer.submit([key.encode()], key) for key in "abc"]
    results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 5)
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], RuntimeError)


async def test_a_group_writer_cancelled_midway_still_answers_its_writers() -> None:
    """The loop shutting down cancels the group writer while a group is being written: the
    write is finished and every writer of that group told, none left waiting."""
    started, release = threading.Event(), threading.Event()
    durable: list[str] = []

    def write_group(items: Sequence[tuple[list[bytes], str]]) -> list[OSError | None]:
        started.set()
        release.wait(5)
        return [None] * len(items)

    writer = GroupWriter(write_group, lambda sha256, _: durable.append(sha256))
    futures = [writer.submit([key.encode()], key) for key in "ab"]
    await asyncio.to_thread(started.wait, 5)
    assert writer._task is not None
    writer._task.cancel()
    release.set()
    assert await asyncio.wait_for(asyncio.gather(*futures), 5) == [None, None]
    assert durable == ["a", "b"]
