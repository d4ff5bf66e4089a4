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
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ctypes
import hashlib
import itertools
import os
import re
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from cachetools import FIFOCache

from bridge.errors import PermanentError
from bridge.supervisor import log_failure

CHUNK_BYTES = 256 * 1024
SPILL_BYTES = 512 * 1024  # a file up to this size is written from memory, with others
RECENT_BYTES = 8 * 1024 * 1024  # the small blobs stored last, kept readable from memory

_KEY = re.compile("[0-9a-f]{64}")
_PART_SEQUENCE = itertools.count()  # temporary file names: process id and a sequence number


def _part_name() -> str:
    return f"{os.getpid()}-{next(_PART_SEQUENCE)}.part"


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
        self._group = _GroupWriter(self._write_group, self._remember)
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
                if size > max_bytes:
                    raise PermanentError(
                        f"tệp đính kèm quá lớn (> {max_bytes} byte) / "
                        f"attachment larger than {max_bytes} bytes"
                    )
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
                    continue
                head.append(chunk)
                if size > SPILL_BYTES:  # a big file: stream the rest through a temporary file
                    tmp = self._tmp / _part_name()
                    out = await _open_part(tmp)
                    out.writelines(head)
                    head = []
            sha256 = digest.hexdigest()
            if out is None:
                _check_sha256(sha256, expected_sha256)
                flushed = self._group.submit(head, sha256)
                deferred = _DEFERRED.get()
                if deferred is None or not deferred.open:
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

        async def one() -> AsyncIterator[bytes]:
            yield data

        return await self.put_stream(one(), max_bytes=max_bytes, expected_sha256=expected_sha256)

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
            tmp = os.path.join(self._tmp_dir, _part_name())
            try:
                with open(tmp, "wb") as out:
                    out.writelines(data)
                    if _SYNCFS is None:
                        out.flush()
                        os.fsync(out.fileno())
                written.append((i, tmp, final))
            except OSError as exc:
                errors[i] = exc
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        placed: set[int] = set()
        try:
            if written and _SYNCFS is not None:
                _syncfs(self._tmp)
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
            _check_sha256(sha256, expected_sha256)
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


def _check_sha256(sha256: str, expected_sha256: str | None) -> None:
    if expected_sha256 is not None and expected_sha256.lower() != sha256:
        raise PermanentError(
            f"SHA-256 của tệp không khớp / attachment SHA-256 mismatch "
            f"(expected {expected_sha256.lower()}, got {sha256})"
        )


def _create(tmp: Path) -> BinaryIO:
    return tmp.open("wb")


async def _open_part(tmp: Path) -> BinaryIO:
    """Create a temporary part file off the event loop (creating a file can wait on the disk
    journal behind other files' fsyncs). If the caller is cancelled meanwhile, the file is
    closed and removed once the open completes, so no part is left behind."""
    opening: asyncio.Future[BinaryIO] = asyncio.get_running_loop().run_in_executor(
        None, _create, tmp
    )
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:

        def discard(done: asyncio.Future[BinaryIO]) -> None:
            if not done.cancelled() and done.exception() is None:
                done.result().close()
                tmp.unlink(missing_ok=True)

        opening.add_done_callback(discard)
        raise


class _Flushes(list[asyncio.Future[None]]):
    """The flushes a `deferred_flush` scope collects; closed when the scope ends, so a put
    made later from a task that inherited the scope waits for its own flush again."""

    open = True


_DEFERRED: contextvars.ContextVar[_Flushes | None] = contextvars.ContextVar(
    "blob_flush_deferred", default=None
)


@contextlib.contextmanager
def deferred_flush() -> Iterator[list[asyncio.Future[None]]]:
    """Inside, a small blob's `put_stream` returns once its bytes are handed to the group
    writer, before they are flushed; the list collects the flushes still under way. The
    caller must await every one (and see it succeed) before anything relies on those blobs,
    storing their record above all. It lets a download slot go to the next file while this
    one's group is being flushed. Blob stores other than files ignore it (always durable)."""
    flushes = _Flushes()
    token = _DEFERRED.set(flushes)
    try:
        yield flushes
    finally:
        flushes.open = False
        _DEFERRED.reset(token)


class _GroupWriter:
    """Hands small blobs to `write_group` on one thread of its own, in groups: what arrives
    while a group is being written forms the next one. The future `submit` returns is done
    once the blob is durable under its key."""

    def __init__(
        self,
        write_group: Callable[[Sequence[tuple[list[bytes], str]]], list[OSError | None]],
        on_durable: Callable[[str, list[bytes]], None],
    ) -> None:
        self._write_group = write_group
        self._on_durable = on_durable
        self._pending: list[tuple[list[bytes], str, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="blob-writer")

    def submit(self, data: list[bytes], sha256: str) -> asyncio.Future[None]:
        """Queue a blob for the next group; the future is done once it is durable (and
        `on_durable` has been told)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((data, sha256, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="blob-group-writer")
            self._task.add_done_callback(log_failure)
        return future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            group, self._pending = self._pending, []
            items = [(data, sha256) for data, sha256, _ in group]
            written = loop.run_in_executor(self._executor, self._write_group, items)
            try:
                # Shielded: a group under way is finished and reported even if this task is
                # cancelled (the loop shutting down), so no writer is left waiting.
                errors: list[OSError | None] = await asyncio.shield(written)
            except Exception as exc:  # a bug: every blob of the group fails alike
                errors = [OSError(str(exc))] * len(group)
            for (data, sha256, future), error in zip(group, errors, strict=True):
                if error is None:
                    self._on_durable(sha256, data)
                if future.done():
                    continue  # its writer was cancelled meanwhile
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)


def _syncfs_function() -> Callable[[int], int] | None:
    """libc's syncfs(2) where there is one (Linux): flush one filesystem, not the machine."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_SYNCFS = _syncfs_function()


def _syncfs(folder: Path) -> None:
    """Make every file written on `folder`'s filesystem durable (data and metadata)."""
    assert _SYNCFS is not None
    fd = os.open(folder, os.O_RDONLY)
    try:
        if _SYNCFS(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"syncfs: {os.strerror(errno)}")
    finally:
        os.close(fd)
