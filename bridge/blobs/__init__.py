"""Content-addressed attachment storage under `data_dir/blobs`, written while streaming.

A blob's key is the SHA-256 of its bytes (lowercase hex). Bytes go to a temporary file, are
made durable, then renamed to `blobs/ab/cd/<sha256>`, so a crash never leaves a partial blob
under a real key. Storing the same bytes twice is harmless.

Small files (up to SPILL_BYTES, nearly all of them) are kept in memory until complete, then
written by one thread in groups: every file written meanwhile, then one syncfs(2) for the
whole group on Linux (one fsync per file elsewhere), then the renames. A catch-up that stores
hundreds of files a second thus costs a few flushes of the disk a second, not one per file.
Bigger files stream through a temporary file (memory does not depend on their size) and get
an fsync of their own.

The small blobs stored last (up to RECENT_BYTES) also stay in memory once durable: the
signature check and the delivery that follow within seconds read them from there, not from
the disk.

The modules: `api` (what callers need: `Blobs`, `StoredBlob`), `files` (`BlobStore`, the
files themselves), `groups` (the group writer and `deferred_flush`), `disk` (part files and
syncfs). Every public name is importable from `bridge.blobs`.
"""

from __future__ import annotations

from bridge.blobs.api import CHUNK_BYTES, Blobs, StoredBlob
from bridge.blobs.files import RECENT_BYTES, SPILL_BYTES, BlobStore
from bridge.blobs.groups import deferred_flush

__all__ = [
    "CHUNK_BYTES",
    "RECENT_BYTES",
    "SPILL_BYTES",
    "BlobStore",
    "Blobs",
    "StoredBlob",
    "deferred_flush",
]
