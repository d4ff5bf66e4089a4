"""Unpacking a V-Office `files.zip` bundle, treated as hostile, into the blob store.

A small bundle (at most SMALL_BUNDLE_BYTES downloaded) arrives in memory; a larger one in a
temporary file. Every entry is vetted before any is extracted: absolute or `..` paths, links,
encryption, too many entries, an absurd total size or compression ratio refuse the whole
bundle with PermanentError. Entries are then stored as blobs, and their hashes must be the
listed `files.sha256` set.

A bundle in memory whose entries declare at most INLINE_BYTES in all is unpacked on the event loop
(a few hundred microseconds of inflating, cheaper than handing it to a thread and back). Any
other is read in worker threads: one hop opens and vets the archive, one per entry opens it
and reads its first chunk (the whole of a small file), and larger entries take one more hop
per chunk. Reading an entry never yields more than the size its header declares.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import stat
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from adapters._records import stored_file
from bridge.errors import PermanentError
from bridge.interfaces import AdapterContext
from schemas.document import Attachment

UTF8_FLAG = 0x800
ENCRYPTED_FLAG = 0x1
READ_CHUNK_BYTES = 256 * 1024
# A bundle downloaded up to this size is kept in memory rather than in a temporary file.
SMALL_BUNDLE_BYTES = 1024 * 1024
# A bundle in memory whose entries declare at most this much in all is unpacked inline.
INLINE_BYTES = 2 * 1024 * 1024
# Small entries may compress well by nature (a blank page); only large ones are suspect.
RATIO_FLOOR_BYTES = 1024 * 1024


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name in Unicode (NFC).

    Without the UTF-8 flag Python decodes names as cp437, but V-Office writes UTF-8 either
    way: turn the cp437 reading back into bytes and decode those as UTF-8 when they are.
    """
    name = info.filename
    if not info.flag_bits & UTF8_FLAG:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("utf-8")
    return unicodedata.normalize("NFC", name)


def _refuse(why: str, name: str) -> PermanentError:
    return PermanentError(f"gói tệp nén bị từ chối: {why} ({name!r}) / zip bundle refused: {why}")


def _vet_entry(info: zipfile.ZipInfo, name: str, ctx: AdapterContext) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise _refuse("đường dẫn tuyệt đối / absolute path", name)
    if ".." in parts:
        raise _refuse("đường dẫn '..' / '..' path", name)
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):
        raise _refuse("liên kết / link entry", name)
    if info.flag_bits & ENCRYPTED_FLAG:
        raise _refuse("tệp mã hóa / encrypted entry", name)
    ratio_limit = ctx.limits.max_zip_ratio
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > ratio_limit * max(
        info.compress_size, 1
    ):
        raise _refuse("tỉ lệ nén bất thường / absurd compression ratio", name)


def vet(archive: zipfile.ZipFile, ctx: AdapterContext) -> list[tuple[zipfile.ZipInfo, str]]:
    """The file entries worth extracting, with their names. Raises PermanentError."""
    infos = archive.infolist()
    if len(infos) > ctx.limits.max_zip_entries:
        raise _refuse(f"quá nhiều tệp / too many entries ({len(infos)})", "")
    total = 0
    files: list[tuple[zipfile.ZipInfo, str]] = []
    for info in infos:
        name = entry_name(info)
        _vet_entry(info, name, ctx)
        total += info.file_size
        if total > ctx.limits.max_attachment_bytes:
            raise _refuse("tổng dung lượng quá lớn / total size too large", name)
        if not info.is_dir():
            files.append((info, name.replace("\\", "/").rsplit("/", 1)[-1]))
    return files


def _open_vetted(
    source: Path | IO[bytes], ctx: AdapterContext
) -> tuple[zipfile.ZipFile, list[tuple[zipfile.ZipInfo, str]]]:
    """Open the archive and vet it (blocking: run in a thread). Closed again on refusal."""
    archive = zipfile.ZipFile(source)
    try:
        return archive, vet(archive, ctx)
    except BaseException:
        archive.close()
        raise


def _open_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[IO[bytes], bytes]:
    """Open one entry and read its first chunk (blocking: run in a thread)."""
    stream = archive.open(info)
    try:
        return stream, stream.read(READ_CHUNK_BYTES)
    except BaseException:
        stream.close()
        raise


async def _chunks(stream: IO[bytes], first: bytes) -> AsyncIterator[bytes]:
    """`first`, then the rest of `stream` read in a thread chunk by chunk.

    A buffered read returns short only at the end, so a short first chunk is the whole entry.
    """
    chunk = first
    while chunk:
        yield chunk
        if len(chunk) < READ_CHUNK_BYTES:
            return
        chunk = await asyncio.to_thread(stream.read, READ_CHUNK_BYTES)


async def extract(
    source: Path | IO[bytes] | bytes, ctx: AdapterContext, expected: list[str]
) -> tuple[Attachment, ...]:
    """Store every vetted entry of the zip in `source` (a path, a seekable file, or the
    bytes of a bundle downloaded into memory) in the blob store.

    `expected` is the listing's `files.sha256`; the extracted hashes must equal it as a
    multiset (order may differ). Raises PermanentError for a hostile, broken or mismatched
    bundle.
    """
    try:
        if isinstance(source, bytes):  # in memory: reading the directory costs no I/O
            archive, entries = _open_vetted(io.BytesIO(source), ctx)
            inline = sum(info.file_size for info, _ in entries) <= INLINE_BYTES
        else:
            archive, entries = await asyncio.to_thread(_open_vetted, source, ctx)
            inline = False
        store = _store_inline if inline else _store
        try:
            attachments = [await store(archive, info, name, ctx) for info, name in entries]
        finally:
            archive.close()
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise PermanentError(f"gói tệp nén hỏng / corrupt zip bundle ({exc})") from exc
    got = Counter(a.sha256 for a in attachments)
    if got != Counter(sha.lower() for sha in expected):
        raise PermanentError(
            "SHA-256 của các tệp không khớp danh sách / bundle hashes differ from 'files.sha256'"
        )
    return tuple(attachments)


async def _store(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, ctx: AdapterContext
) -> Attachment:
    stream, first = await asyncio.to_thread(_open_entry, archive, info)
    with stream:
        blob = await ctx.blobs.put_stream(
            _chunks(stream, first), max_bytes=ctx.limits.max_attachment_bytes
        )
    return stored_file(name, _content_type(name), blob)


async def _store_inline(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, ctx: AdapterContext
) -> Attachment:
    """One entry of a small bundle in memory, read on the event loop (bounded by INLINE_BYTES)."""
    blob = await ctx.blobs.put_bytes(archive.read(info), max_bytes=ctx.limits.max_attachment_bytes)
    return stored_file(name, _content_type(name), blob)


def _content_type(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {
        "pdf": "application/pdf",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "zip": "application/zip",
    }.get(suffix, "application/octet-stream")
