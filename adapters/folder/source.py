"""The drop-folder source: reads settled metadata files from an inbox, streams their files.

There is no cursor: moving a document's files to `.done/` (or `.rejected/`) is the
acknowledgement, so a restarted source simply sees what is still in the inbox.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import mimetypes
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from adapters._records import stored_file
from adapters._session import AsyncResource
from adapters.folder.mapping import (
    EDXML_MEDIA_TYPE,
    MEDIA_TYPES,
    edxml_file_names,
    edxml_message,
    load_metadata,
    named_files,
    to_document,
)
from adapters.folder.moves import Claim, move_done, move_rejected
from adapters.folder.scan import Entry, SettleTracker, list_inbox
from adapters.folder.settings import FolderSourceSettings
from adapters.vxp.mapping import decode_inline, describe_attachments
from bridge.errors import PermanentError, TransientError
from bridge.interfaces import AdapterContext
from bridge.normalize.filenames import has_odd_characters, nfc, printable_name
from schemas import Attachment, Page, RawRecord

log = structlog.get_logger(__name__)

CHUNK_BYTES = 256 * 1024


@dataclass
class _Candidate:
    """A settled metadata file, read: its files by name (with their metadata entry), or why not."""

    entry: Entry
    payload: bytes = b""
    files: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: str | None = None
    inline: bool = False  # an edXML message that also carries files inline


class FolderSource(AsyncResource):
    """Reads `settings.path` as an inbox of `NAME.json` / `NAME.xml` documents."""

    def __init__(self, settings: FolderSourceSettings, ctx: AdapterContext) -> None:
        self.name = settings.name
        self.settings = settings
        self.ctx = ctx
        self.inbox = settings.path
        self._settle = SettleTracker(settings.settle_s)

    async def check(self) -> None:
        """Raises TransientError when the inbox is missing or not readable and writable."""
        ok = await asyncio.to_thread(
            lambda: self.inbox.is_dir() and os.access(self.inbox, os.R_OK | os.W_OK | os.X_OK)
        )
        if not ok:
            raise TransientError(
                f"không đọc/ghi được thư mục {self.inbox} / "
                f"inbox folder {self.inbox} is missing or not readable and writable"
            )

    async def pull(self, cursor: str | None) -> AsyncIterator[Page]:
        """Yield every settled document of the inbox, oldest first, `page_size` at a time.

        The cursor is ignored and every page's cursor is None. Raises TransientError when the
        inbox cannot be listed.
        """
        try:
            entries = await asyncio.to_thread(list_inbox, self.inbox)
        except OSError as exc:
            raise TransientError(
                f"không liệt kê được thư mục {self.inbox} / cannot list inbox: {exc.strerror}"
            ) from None
        self._settle.observe(entries)
        candidates = await asyncio.to_thread(self._read_candidates, entries)
        claimed = {nfc(name.strip()) for c in candidates for name, _ in c.files}
        records: list[RawRecord] = []
        for candidate in candidates:
            if nfc(candidate.entry.name) in claimed:
                continue  # an attachment of another document that happens to end in .json/.xml
            record = await self._record(candidate, entries)
            if record is not None:
                records.append(record)
            if len(records) >= self.settings.page_size:
                yield Page(records=tuple(records))
                records = []
        if records:
            yield Page(records=tuple(records))

    async def acknowledge(self, record: RawRecord) -> None:
        """Move the record's files to `.done/`, or to `.rejected/` when it is an error record.

        Idempotent: files already moved are skipped.
        """
        claim = Claim.decode(record.ack)
        if record.error is None:
            await asyncio.to_thread(move_done, self.inbox, claim)
        else:
            await asyncio.to_thread(move_rejected, self.inbox, claim, record.error)
        log.info(
            "folder_acknowledged",
            source=self.name,
            record=record.external_id,
            rejected=record.error is not None,
        )

    def _read_candidates(self, entries: dict[str, Entry]) -> list[_Candidate]:
        metadata = [e for e in entries.values() if e.is_metadata and self._settle.is_settled(e)]
        metadata.sort(key=lambda e: (e.mtime_ns, e.name))
        candidates = []
        for entry in metadata:
            candidate = self._read_candidate(entry)
            if candidate is not None:
                candidates.append(candidate)
        return candidates

    def _read_candidate(self, entry: Entry) -> _Candidate | None:
        limit = self.settings.max_metadata_bytes
        if has_odd_characters(entry.name):
            return _Candidate(
                entry,
                error=(
                    "tên tệp chứa ký tự điều khiển hoặc byte không phải UTF-8 / "
                    "file name holds control characters or bytes that are not UTF-8"
                ),
            )
        if entry.size > limit:
            return _Candidate(
                entry,
                error=(
                    f"tệp siêu dữ liệu quá lớn ({entry.size} byte > {limit}) / "
                    f"metadata file larger than {limit} bytes"
                ),
            )
        try:
            payload = _read_bytes(self.inbox / entry.name, limit)
        except OSError as exc:  # gone, swapped for a symlink, or not readable: next scan decides
            log.warning(
                "folder_file_unreadable",
                source=self.name,
                file=printable_name(entry.name),
                error=exc.strerror,
            )
            return None
        candidate = _Candidate(entry, payload)
        try:
            if entry.name.lower().endswith(".json"):
                candidate.files = [(e["name"], e) for e in named_files(load_metadata(payload))]
            else:
                message = edxml_message(payload)
                candidate.files = [(name, {}) for name in edxml_file_names(message)]
                candidate.inline = bool(message.attachments)
        except PermanentError as exc:
            candidate.error = exc.reason
        return candidate

    async def _record(self, candidate: _Candidate, entries: dict[str, Entry]) -> RawRecord | None:
        """The record for one candidate; None when its files are not all there and settled yet."""
        meta = candidate.entry
        if candidate.error is not None:
            return self._raw(candidate, Claim(meta.name), error=candidate.error)
        found = self._resolve(candidate, entries)
        if found is None or isinstance(found, str):
            return None if found is None else self._raw(candidate, Claim(meta.name), error=found)
        claim = Claim(meta.name, tuple(dict.fromkeys(e.name for e, _, _ in found)))
        try:
            stored = tuple([await self._store(*item) for item in found])
            if candidate.inline:
                stored += await self._store_inline(candidate.payload)
            record = self._raw(candidate, claim, attachments=stored)
            to_document(record)
        except PermanentError as exc:
            return self._raw(candidate, claim, error=exc.reason)
        except OSError as exc:  # moved away or locked meanwhile: the next scan decides
            log.warning(
                "folder_file_unreadable",
                source=self.name,
                record=printable_name(meta.name),
                error=exc.strerror,
            )
            return None
        return record

    def _resolve(
        self, candidate: _Candidate, entries: dict[str, Entry]
    ) -> list[tuple[Entry, str, dict[str, Any]]] | str | None:
        """The inbox entry of each file the metadata names (matched after NFC).

        None while a file is missing (within the grace period) or still settling; the reason
        as a string once a missing file is overdue.
        """
        meta = candidate.entry
        found = []
        for name, listed in candidate.files:
            entry = entries.get(nfc(name.strip()))
            if entry is None:
                shown = printable_name(name)
                if meta.age_s < self.settings.missing_file_grace_s:
                    log.info(
                        "folder_waiting_for_file",
                        source=self.name,
                        record=printable_name(meta.name),
                        file=shown,
                    )
                    return None
                return f"thiếu tệp đính kèm '{shown}' / attachment file '{shown}' is missing"
            if not self._settle.is_settled(entry):
                return None
            found.append((entry, name, listed))
        return found

    async def _store(self, entry: Entry, name: str, listed: dict[str, Any]) -> Attachment:
        """Stream one file into the blob store, checking the SHA-256 the metadata states."""
        expected = listed.get("sha256")
        stored = await self.ctx.blobs.put_stream(
            _file_chunks(self.inbox / entry.name),
            max_bytes=self.ctx.limits.max_attachment_bytes,
            expected_sha256=expected if isinstance(expected, str) else None,
        )
        content_type = listed.get("contentType")
        if not isinstance(content_type, str) or not content_type:
            content_type = mimetypes.guess_type(nfc(name))[0] or "application/octet-stream"
        return stored_file(nfc(name.strip()), content_type, stored)

    async def _store_inline(self, payload: bytes) -> tuple[Attachment, ...]:
        """Store the files an edXML metadata file carries inline (base64)."""
        stored = []
        limit = self.ctx.limits.max_inline_attachment_bytes
        for item, name, content_type in describe_attachments(edxml_message(payload)):
            blob = await self.ctx.blobs.put_bytes(decode_inline(item, limit), max_bytes=limit)
            stored.append(stored_file(name, content_type, blob))
        return tuple(stored)

    def _raw(
        self,
        candidate: _Candidate,
        claim: Claim,
        *,
        attachments: tuple[Attachment, ...] = (),
        error: str | None = None,
    ) -> RawRecord:
        name = candidate.entry.name
        suffix = "." + name.rpartition(".")[2].lower()
        if error is not None:
            log.warning(
                "folder_record_unreadable",
                source=self.name,
                record=printable_name(name),
                reason=error,
            )
        return RawRecord(
            source=self.name,
            unit=self.ctx.units[0],
            external_id=printable_name(name[: -len(suffix)]),
            version=hashlib.sha256(candidate.payload).hexdigest(),
            media_type=MEDIA_TYPES.get(suffix, EDXML_MEDIA_TYPE),
            payload=candidate.payload,
            attachments=attachments,
            ack=claim.encode(),
            error=error,
            received_at=dt.datetime.now(dt.UTC),
        )


def _read_bytes(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file, refusing to follow a symlink."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as src:
        return src.read(limit)


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    fd = await asyncio.to_thread(os.open, path, os.O_RDONLY | os.O_NOFOLLOW)
    src = os.fdopen(fd, "rb")
    try:
        while chunk := await asyncio.to_thread(src.read, CHUNK_BYTES):
            yield chunk
    finally:
        src.close()
