"""What adapters, the pipeline and retention need of attachment storage: the `Blobs` interface
(files under the data folder, or PostgreSQL rows) and the key and size of a stored blob."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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

    def recent(self, sha256: str) -> bytes | None:
        """The bytes of a small blob stored moments ago, from memory; None otherwise (read
        them with `read` or `local_path` then)."""
        ...


def check_size(size: int, max_bytes: int) -> None:
    """Refuse a stream grown past `max_bytes` (every blob store, as the bytes arrive)."""
    if size > max_bytes:
        raise PermanentError(
            f"tệp đính kèm quá lớn (> {max_bytes} byte) / attachment larger than {max_bytes} bytes"
        )


def check_sha256(sha256: str, expected_sha256: str | None) -> None:
    """Refuse a blob whose hash is not the one its source announced."""
    if expected_sha256 is not None and expected_sha256.lower() != sha256:
        raise PermanentError(
            f"SHA-256 của tệp không khớp / attachment SHA-256 mismatch "
            f"(expected {expected_sha256.lower()}, got {sha256})"
        )


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    """Bytes already in memory as a stream of one chunk (for `put_bytes`)."""
    yield data
