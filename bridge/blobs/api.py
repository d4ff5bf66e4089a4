"""What adapters, the pipeline and retention need of attachment storage: the `Blobs` interface
(files under the data folder, or PostgreSQL rows) and the key and size of a stored blob."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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
