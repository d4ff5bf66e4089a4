"""Attachment bytes in PostgreSQL, so every instance on one database can read them.

Same interface as `bridge.blobs.BlobStore` except that `exists` is a coroutine and there is no
`path()`. A blob is split into fixed-size rows of `blob_chunks` as it streams in (memory use
does not depend on the file's size), under a temporary key, inside one transaction that renames
the rows to the SHA-256 at the end: a crash or a refused stream leaves nothing behind, and
storing the same bytes twice is harmless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from bridge.blobs.api import CHUNK_BYTES, StoredBlob, check_sha256, check_size, one_chunk
from bridge.store.driver.postgres import PgDriver
from bridge.store.driver.shim import PgConnection as Connection
from bridge.store.sql.base import now_iso

_DELETE_CHUNKS = "DELETE FROM blob_chunks WHERE sha256 = $1"


def _check_key(sha256: str) -> None:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256 key: {sha256!r}")


class PgBlobStore:
    """Stores and reads attachment bytes by their SHA-256, through an open PostgresStore."""

    def __init__(
        self, store: PgDriver, *, chunk_bytes: int = CHUNK_BYTES, cache_dir: Path | None = None
    ) -> None:
        self._store = store
        self.chunk_bytes = chunk_bytes
        self.cache_dir = cache_dir  # where local_path() materializes a blob for file-based tools

    def recent(self, sha256: str) -> bytes | None:
        """Nothing is kept in memory here: blobs are read from the database."""
        return None

    async def exists(self, sha256: str) -> bool:
        _check_key(sha256)
        found = await self._store.pool.fetchval("SELECT 1 FROM blobs WHERE sha256 = $1", sha256)
        return found is not None

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int,
        expected_sha256: str | None = None,
    ) -> StoredBlob:
        """Stream `chunks` into the database; return the key and size.

        Raises PermanentError when the stream exceeds `max_bytes` or its hash differs from
        `expected_sha256`; nothing is kept then.
        """
        tmp_key = f"tmp:{secrets.token_hex(16)}"
        digest = hashlib.sha256()
        size = seq = 0
        buffer = bytearray()
        async with self._store.pool.acquire() as conn, conn.transaction():
            async for chunk in chunks:
                size += len(chunk)
                check_size(size, max_bytes)
                digest.update(chunk)
                buffer += chunk
                while len(buffer) >= self.chunk_bytes:
                    await _write_chunk(conn, tmp_key, seq, bytes(buffer[: self.chunk_bytes]))
                    del buffer[: self.chunk_bytes]
                    seq += 1
            if buffer:
                await _write_chunk(conn, tmp_key, seq, bytes(buffer))
                seq += 1
            sha256 = digest.hexdigest()
            await _commit(conn, tmp_key, sha256, size, seq, expected_sha256)
        return StoredBlob(sha256=sha256, size=size)

    async def put_bytes(
        self, data: bytes, *, max_bytes: int, expected_sha256: str | None = None
    ) -> StoredBlob:
        """Store bytes already in memory (inline base64 attachments, MIME parts)."""
        stream = one_chunk(data)
        return await self.put_stream(stream, max_bytes=max_bytes, expected_sha256=expected_sha256)

    async def read(self, sha256: str, chunk_bytes: int = CHUNK_BYTES) -> AsyncIterator[bytes]:
        """Yield the blob's bytes in chunks. Raises FileNotFoundError for an unknown key.

        Each stored row is fetched on its own, so a slow reader holds no connection.
        """
        _check_key(sha256)
        pool = self._store.pool
        count = await pool.fetchval("SELECT chunks FROM blobs WHERE sha256 = $1", sha256)
        if count is None:
            raise FileNotFoundError(f"blob {sha256} not stored")
        for seq in range(count):
            data: bytes = await pool.fetchval(
                "SELECT bytes FROM blob_chunks WHERE sha256 = $1 AND seq = $2", sha256, seq
            )
            for start in range(0, len(data), chunk_bytes):
                yield data[start : start + chunk_bytes]

    async def delete(self, sha256: str) -> bool:
        """Forget a blob (retention); False when it was not stored."""
        _check_key(sha256)
        async with self._store.pool.acquire() as conn, conn.transaction():
            await conn.execute(_DELETE_CHUNKS, sha256)
            gone = await conn.fetchval("DELETE FROM blobs WHERE sha256 = $1 RETURNING 1", sha256)
        return gone is not None

    async def old_keys(self, before_ts: float) -> list[str]:
        cutoff = dt.datetime.fromtimestamp(before_ts, dt.UTC).isoformat()
        rows = await self._store.pool.fetch(
            "SELECT sha256 FROM blobs WHERE created_at < $1", cutoff
        )
        return [r[0] for r in rows]

    async def local_path(self, sha256: str) -> Path | None:
        """Copy the blob into the cache folder (once) so file-based tools can read it."""
        if self.cache_dir is None or not await self.exists(sha256):
            return None
        target = self.cache_dir / sha256
        if not target.is_file():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_dir / f"{sha256}.{secrets.token_hex(4)}.part"
            with tmp.open("wb") as out:
                async for chunk in self.read(sha256):
                    out.write(chunk)
            os.replace(tmp, target)
        return target

    async def keys(self) -> list[str]:
        """Every stored key (for copying and checks)."""
        rows = await self._store.pool.fetch("SELECT sha256 FROM blobs ORDER BY sha256")
        return [r[0] for r in rows]


async def _write_chunk(conn: Connection, key: str, seq: int, data: bytes) -> None:
    await conn.execute("INSERT INTO blob_chunks VALUES ($1, $2, $3)", key, seq, data)


async def _commit(
    conn: Connection, tmp_key: str, sha256: str, size: int, chunks: int, expected: str | None
) -> None:
    check_sha256(sha256, expected)
    inserted = await conn.fetchval(
        "INSERT INTO blobs (sha256, size, chunks, created_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        sha256,
        size,
        chunks,
        now_iso(),
    )
    if inserted is None:  # the same bytes are already stored
        await conn.execute(_DELETE_CHUNKS, tmp_key)
    else:
        await conn.execute("UPDATE blob_chunks SET sha256 = $1 WHERE sha256 = $2", sha256, tmp_key)
