"""Content-addressed attachment storage under `data_dir/blobs`, written while streaming.

A blob's key is the SHA-256 of its bytes (lowercase hex). Bytes go to a temporary file as
they arrive, are fsynced, then renamed to `blobs/ab/cd/<sha256>`, so a crash never leaves a
partial blob under a real key, and memory use does not depend on the file's size. Storing the
same bytes twice is harmless.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from bridge.errors import PermanentError

CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class Blobs(Protocol):
    """What adapters and the pipeline need of attachment storage (files, or PostgreSQL rows)."""

    async def exists(self, sha256: str) -> bool: ...

    async def put_stream(
        self, chunks: AsyncIterable[bytes], *, max_bytes: int, expected_sha256: str | None = None
    ) -> StoredBlob: ...

    async def put_bytes(
        self, data: bytes, *, max_bytes: int, expected_sha256: str | None = None
    ) -> StoredBlob: ...

    def read(self, sha256: str, chunk_bytes: int = CHUNK_BYTES) -> AsyncIterator[bytes]: ...

    async def delete(self, sha256: str) -> bool: ...

    async def old_keys(self, before_ts: float) -> list[str]:
        """Keys of blobs stored before `before_ts` (unix seconds), for retention."""
        ...

    async def local_path(self, sha256: str) -> Path | None:
        """A readable file holding the blob (a cache copy where blobs are not files)."""
        ...


class BlobStore:
    """Stores and reads attachment bytes by their SHA-256, as files under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 key: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    async def delete(self, sha256: str) -> bool:
        path = self.path(sha256)
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
        path = self.path(sha256)
        return path if path.is_file() else None

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
        tmp = self._tmp / f"{secrets.token_hex(8)}.part"
        # Opened here, not in a thread: a cancellation between opening and the guard below
        # would leak the file and leave the part behind.
        out = tmp.open("wb")
        committed = False
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise PermanentError(
                        f"tệp đính kèm quá lớn (> {max_bytes} byte) / "
                        f"attachment larger than {max_bytes} bytes"
                    )
                digest.update(chunk)
                out.write(chunk)
            stored = await asyncio.to_thread(
                self._finish, out, tmp, digest.hexdigest(), size, expected_sha256
            )
            committed = True
            return stored
        finally:
            if not committed:
                out.close()
                await asyncio.to_thread(tmp.unlink, True)

    async def put_bytes(
        self, data: bytes, *, max_bytes: int, expected_sha256: str | None = None
    ) -> StoredBlob:
        """Store bytes already in memory (inline base64 attachments, MIME parts)."""

        async def one() -> AsyncIterator[bytes]:
            yield data

        return await self.put_stream(one(), max_bytes=max_bytes, expected_sha256=expected_sha256)

    def _finish(
        self, out: BinaryIO, tmp: Path, sha256: str, size: int, expected_sha256: str | None
    ) -> StoredBlob:
        """Flush, fsync and rename into place (in a worker thread: all blocking file work)."""
        out.flush()
        os.fsync(out.fileno())
        out.close()
        try:
            return self._commit(tmp, sha256, size, expected_sha256)
        finally:
            tmp.unlink(missing_ok=True)

    def _commit(self, tmp: Path, sha256: str, size: int, expected_sha256: str | None) -> StoredBlob:
        if expected_sha256 is not None and expected_sha256.lower() != sha256:
            raise PermanentError(
                f"SHA-256 của tệp không khớp / attachment SHA-256 mismatch "
                f"(expected {expected_sha256.lower()}, got {sha256})"
            )
        final = self.path(sha256)
        if not final.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        return StoredBlob(sha256=sha256, size=size)

    async def read(self, sha256: str, chunk_bytes: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
        """Yield the blob's bytes in chunks. Raises FileNotFoundError for an unknown key."""
        with self.path(sha256).open("rb") as src:
            while chunk := src.read(chunk_bytes):
                yield chunk
