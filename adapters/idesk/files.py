"""Inline base64 attachments of an iDesk `Document`: read, size-capped decoding, hashing.

The base64 text may be wrapped across lines. Its decoded size is known before decoding, so a
file over the cap is refused without ever being decoded; decoding runs in bounded chunks.
"""

from __future__ import annotations

import binascii
import hashlib
import unicodedata
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped]

from adapters._records import stored_file
from adapters.idesk.soap import child, children, text_of
from bridge.blobs import Blobs
from bridge.errors import PermanentError
from schemas.document import Attachment

_DECODE_CHARS = 4 * 64 * 1024  # a multiple of 4, so every chunk decodes on its own


@dataclass(frozen=True)
class InlineFile:
    name: str
    content_type: str
    content: str


def inline_files(document: etree._Element) -> list[InlineFile]:
    """The `Files/File` entries of a `Document`, in order. Raises PermanentError if unnamed."""
    files_el = child(document, "Files")
    if files_el is None:
        return []
    found: list[InlineFile] = []
    for position, file_el in enumerate(children(files_el, "File"), start=1):
        name = text_of(child(file_el, "FileName"))
        if name is None:
            raise PermanentError(
                f"tệp đính kèm thứ {position} thiếu 'FileName' / "
                f"attachment {position} lacks 'FileName'"
            )
        found.append(
            InlineFile(
                name=unicodedata.normalize("NFC", name.strip()),
                content_type=(text_of(child(file_el, "MimeType")) or "").strip()
                or "application/octet-stream",
                content=child_text(file_el, "Content"),
            )
        )
    return found


def child_text(el: etree._Element, name: str) -> str:
    return text_of(child(el, name)) or ""


def decoded_chunks(file: InlineFile, max_bytes: int) -> Iterator[bytes]:
    """Decode `file.content` chunk by chunk.

    Raises PermanentError for broken base64 or a file larger than `max_bytes`, before any
    decoding in the second case.
    """
    compact = "".join(file.content.split())
    if len(compact) % 4:
        raise _broken(file, "length is not a multiple of 4")
    size = len(compact) // 4 * 3 - (len(compact) - len(compact.rstrip("=")))
    if size > max_bytes:
        raise PermanentError(
            f"tệp '{file.name}' quá lớn ({size} > {max_bytes} byte) / "
            f"attachment '{file.name}' larger than {max_bytes} bytes"
        )
    for start in range(0, len(compact), _DECODE_CHARS):
        piece = compact[start : start + _DECODE_CHARS]
        if "=" in piece and start + _DECODE_CHARS < len(compact):
            raise _broken(file, "padding inside the data")
        try:
            yield binascii.a2b_base64(piece.encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise _broken(file, str(exc)) from exc


def _broken(file: InlineFile, why: str) -> PermanentError:
    return PermanentError(
        f"nội dung base64 của tệp '{file.name}' bị hỏng / "
        f"attachment '{file.name}' has broken base64 ({why})"
    )


def digest_file(file: InlineFile, max_bytes: int) -> Attachment:
    """Name, size and SHA-256 of an inline file without storing it (blob None)."""
    digest = hashlib.sha256()
    size = 0
    for chunk in decoded_chunks(file, max_bytes):
        digest.update(chunk)
        size += len(chunk)
    return Attachment(
        name=file.name, content_type=file.content_type, size=size, sha256=digest.hexdigest()
    )


async def store_file(file: InlineFile, blobs: Blobs, max_bytes: int) -> Attachment:
    """Decode `file` into the blob store. Raises PermanentError (broken, too large)."""

    async def chunks() -> AsyncIterator[bytes]:
        for chunk in decoded_chunks(file, max_bytes):
            yield chunk

    stored = await blobs.put_stream(chunks(), max_bytes=max_bytes)
    return stored_file(file.name, file.content_type, stored)
