"""`BlobStore`: attachment bytes as files under `data_dir/blobs`, keyed by their SHA-256.

Small files are held in memory until complete and written in groups (`groups`), bigger ones
stream through a part file and get an fsync of their own; either way a blob reaches its key by
a rename once durable. The package docstring tells the whole design.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from pathlib import Path
from typing import BinaryIO

from cachetools import FIFOCache

from bridge.blobs.api import CHUNK_BYTES, StoredBlob, check_sha256, check_size, one_chunk
from bridge.blobs.disk import HAS_SYNCFS, open_part, part_name, syncfs
from bridge.blobs.groups import GroupWriter, deferring

SPILL_BYTES = 512 * 1024  # a file up to this size is written from memory, with others
RECENT_BYTES = 8 * 1024 * 1024  # the small blobs stored last, kept readable from memory

_KEY = re.compile("[0-9a-f]{64}")


class BlobStore:
    """Stores and reads attachment bytes by their SHA-256, as files under `root`."""

    def __init__(self, root: Path, *, recent_bytes: int = RECENT_BYTES) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._root = str(root)
        self._tmp_dir = str(self._tmp)
        # The small blobs stored last, by key, within a byte budget (the oldest go first);
        # only durable ones enter, so finding one here means it is stored.
        self._recent: FIFOCache[str, bytes] = FIFOCache(maxsize=recent_bytes, getsizeof=len)
        self._group = GroupWriter(self._write_group, self._remember)
        self._folders: set[str] = set()  # blob folders known to exist (writer thread only)

    def path(self, sha256: str) -> Path:
        return Path(self._file(sha256))

    def _file(self, sha256: str) -> str:
        """The blob's file name (a plain string: the hot paths need no Path objects)."""
        if len(sha256) != 64 or not _KEY.fullmatch(sha256):
            raise ValueError(f"not a sha256 key: {sha256!r}")
        return os.path.join(self._root, sha256[:2], sha256[2:4], sha256)

    async def exists(self, sha256: str) -> bool:
        file = self._file(sha256)
        # A stat of a local file takes microseconds: cheaper inline than a thread hop.
        return sha256 in self._recent or os.path.isfile(file)  # noqa: ASYNC240

    def recent(self, sha256: str) -> bytes | None:
        return self._recent.get(sha256)

    def _remember(self, sha256: str, chunks: list[bytes]) -> None:
        """Keep a small blob just made durable in memory, unless it is over the budget."""
        data = b"".join(chunks)
        if len(data) <= self._recent.maxsize:
            self._recent[sha256] = data

    async def delete(self, sha256: str) -> bool:
        path = self.path(sha256)
        self._recent.pop(sha256, None)
        existed = path.is_file()
        await asyncio.to_thread(path.unlink, True)
        return existed

    async def old_keys(self, before_ts: float) -> list[str]:
        return await asyncio.to_thread(self._old_keys, before_ts)

    def _old_keys(self, before_ts: float) -> list[str]:
        out = []
        for dirpath, _, files in os.walk(self.root):
            if Path(dirpath) == self._tmp:
                continue
            for name in files:
                if len(name) == 64 and (Path(dirpath) / name).stat().st_mtime < before_ts:
                    out.append(name)
        return out

    async def local_path(self, sha256: str) -> Path | None:
        file = self._file(sha256)
        return Path(file) if os.path.isfile(file) else None  # noqa: ASYNC240 (a stat)

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int,
        expected_sha256: str | None = None,
    ) -> StoredBlob:
        """Stream `chunks` into the store; return the key and size.

        Raises PermanentError when the stream exceeds `max_bytes` or its hash differs from
        `expected_sha256`; nothing is kept then.
        """
        digest = hashlib.sha256()
        size = 0
        head: list[bytes] = []  # the first SPILL_BYTES stay in memory: most files end there
        tmp: Path | None = None  # a part file, once the file turns out big
        out: BinaryIO | None = None
        committed = False
        try:
            async for chunk in chunks:
                size += len(chunk)
                check_size(size, max_bytes)
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
                    continue
                head.append(chunk)
                if size > SPILL_BYTES:  # a big file: stream the rest through a temporary file
                    tmp = self._tmp / part_name()
                    out = await open_part(tmp)
                    out.writelines(head)
                    head = []
            sha256 = digest.hexdigest()
            if out is None:
                check_sha256(sha256, expected_sha256)
                flushed = self._group.submit(head, sha256)
                deferred = deferring()
                if deferred is None:
                    await flushed
                else:  # the caller awaits it later (see deferred_flush)
                    deferred.append(flushed)
                stored = StoredBlob(sha256=sha256, size=size)
            else:
                assert tmp is not None
                stored = await asyncio.to_thread(
                    self._finish, out, tmp, sha256, size, expected_sha256
                )
            committed = True
            return stored
        finally:
            if not committed and out is not None and tmp is not None:
                out.close()
                await asyncio.to_thread(tmp.unlink, True)

    async def put_bytes(
        self, data: bytes, *, max_bytes: int, expected_sha256: str | None = None
    ) -> StoredBlob:
        """Store bytes already in memory (inline base64 attachments, MIME parts)."""
        stream = one_chunk(data)
        return await self.put_stream(stream, max_bytes=max_bytes, expected_sha256=expected_sha256)

    def _write_group(self, items: Sequence[tuple[list[bytes], str]]) -> list[OSError | None]:
        """Write blobs held in memory (on the group writer's thread): each to a temporary file,
        then all made durable at once, then each renamed into place. Bytes already stored under
        their key are not written again. One error (or None) per item."""
        errors: list[OSError | None] = [None] * len(items)
        written: list[tuple[int, str, str]] = []
        for i, (data, sha256) in enumerate(items):
            final = self._file(sha256)
            if os.path.exists(final):
                continue
            tmp = os.path.join(self._tmp_dir, part_name())
            try:
                with open(tmp, "wb") as out:
                    out.writelines(data)
                    if not HAS_SYNCFS:
                        out.flush()
                        os.fsync(out.fileno())
                written.append((i, tmp, final))
            except OSError as exc:
                errors[i] = exc
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        placed: set[int] = set()
        try:
            if written and HAS_SYNCFS:
                syncfs(self._tmp)
            for i, tmp, final in written:
                try:
                    self._place_file(tmp, final)
                    placed.add(i)
                except OSError as exc:
                    errors[i] = exc
        except OSError as exc:
            for i, _, _ in written:
                errors[i] = exc
        finally:
            for i, tmp, _ in written:
                if i not in placed:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
        return errors

    def _place_file(self, tmp: str, final: str) -> None:
        """Rename a written file into place, creating its folder the first time it is used."""
        folder = os.path.dirname(final)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        os.replace(tmp, final)

    def _finish(
        self, out: BinaryIO, tmp: Path, sha256: str, size: int, expected_sha256: str | None
    ) -> StoredBlob:
        """Flush, fsync and rename into place (in a worker thread: all blocking file work)."""
        try:
            with out:
                out.flush()
                os.fsync(out.fileno())
            check_sha256(sha256, expected_sha256)
            final = self._file(sha256)
            if not os.path.exists(final):
                self._place_file(str(tmp), final)
            return StoredBlob(sha256=sha256, size=size)
        finally:
            tmp.unlink(missing_ok=True)

    async def read(self, sha256: str, chunk_bytes: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
        """Yield the blob's bytes in chunks. Raises FileNotFoundError for an unknown key."""
        file = self._file(sha256)
        data = self._recent.get(sha256)
        if data is not None:
            for start in range(0, len(data), chunk_bytes):
                yield data[start : start + chunk_bytes]
            return
        with open(file, "rb") as src:  # noqa: ASYNC230 (a local file: microseconds)
            while chunk := src.read(chunk_bytes):
                yield chunk
