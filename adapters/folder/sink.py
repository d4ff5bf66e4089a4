"""The drop-folder sink: writes each delivered document into an outbox, atomically per file.

Layout: `outbox/{document_id}.json` (the common schema plus `document_id`, each attachment
with the `path` of its file) and `outbox/{document_id}/{safe name}`. Every file is written to
a hidden temporary name in its folder, flushed, fsynced and renamed into place; the JSON goes
last, so a reader that waits for the JSON never sees a partial document.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import orjson
import structlog

from adapters._session import AsyncResource
from adapters.folder.settings import FolderSinkSettings
from bridge.errors import PermanentError, TransientError
from bridge.interfaces import AdapterContext, JsonObject, Operation
from bridge.normalize.filenames import safe_file_name, unique_names
from schemas import Document, DocumentState

log = structlog.get_logger(__name__)


def to_payload(
    op: Operation, document: Document, *, document_id: str, note: str | None = None
) -> JsonObject:
    """The JSON written for `document`: its common-schema dump, `document_id`, file paths.

    A REVOKE writes the document with state "revoked"; a CORRECT writes the corrected
    document with `note` (which road taught what). Raises PermanentError for a
    `document_id` that is not usable as a file name.
    """
    if safe_file_name(document_id) != document_id:
        raise PermanentError(
            f"mã văn bản không dùng được làm tên tệp: {document_id!r:.80} / "
            "document id is not usable as a file name"
        )
    if op is Operation.REVOKE:
        document = document.model_copy(update={"state": DocumentState.REVOKED})
    body: JsonObject = {"document_id": document_id, **document.model_dump(mode="json")}
    names = unique_names([a.name for a in document.attachments])
    body["attachments"] = [
        {**item, "path": f"{document_id}/{name}"}
        for item, name in zip(body["attachments"], names, strict=True)
    ]
    if op is Operation.CORRECT and note:
        body["note"] = note
    return body


class FolderSink(AsyncResource):
    """Delivers documents as files into `settings.path`. Every send is idempotent."""

    def __init__(self, settings: FolderSinkSettings, ctx: AdapterContext) -> None:
        self.name = settings.name
        self.settings = settings
        self.ctx = ctx
        self.outbox = settings.path

    async def check(self) -> None:
        """Make the outbox if needed; raises TransientError when it cannot be written."""
        try:
            await asyncio.to_thread(self.outbox.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise _unwritable(self.outbox, exc) from None
        if not await asyncio.to_thread(os.access, self.outbox, os.W_OK | os.X_OK):
            raise TransientError(
                f"không ghi được vào thư mục {self.outbox} / outbox {self.outbox} is not writable"
            )

    async def prepare(
        self,
        op: Operation,
        document: Document,
        *,
        document_id: str,
        remote_id: str | None,
        note: str | None = None,
    ) -> JsonObject:
        """The body to write; nothing is uploaded (the files come from the blob store)."""
        return to_payload(op, document, document_id=document_id, note=note)

    async def send(self, op: Operation, body: JsonObject, key: str, remote_id: str | None) -> str:
        """Write the attachments, then the JSON; return `document_id`.

        The same body again rewrites the same names with the same bytes. Raises
        TransientError when the folder cannot be written, PermanentError when an attachment's
        bytes are not in the blob store.
        """
        document_id = str(body["document_id"])
        if safe_file_name(document_id) != document_id:
            raise PermanentError(f"mã văn bản không hợp lệ / bad document id {document_id!r:.80}")
        try:
            if op in (Operation.CREATE, Operation.UPDATE):  # a correction changes no file
                await self._write_files(document_id, body.get("attachments") or [])
            data = orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
            await asyncio.to_thread(self._write_bytes, self.outbox, f"{document_id}.json", data)
        except OSError as exc:
            raise _unwritable(self.outbox, exc) from None
        log.info("folder_delivered", sink=self.name, document_id=document_id, op=str(op))
        return document_id

    async def _write_files(self, document_id: str, attachments: list[Any]) -> None:
        folder = self.outbox / document_id
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        for item in attachments:
            name = safe_file_name(str(item["path"]).rpartition("/")[2])
            sha256 = item.get("blob") or item["sha256"]
            if not await self.ctx.blobs.exists(sha256):
                raise PermanentError(
                    f"không tìm thấy nội dung tệp '{name}' / bytes of '{name}' are not stored"
                )
            await self._write_stream(folder, name, self.ctx.blobs.read(sha256))
        await asyncio.to_thread(_fsync_dir, folder)

    async def _write_stream(self, folder: Path, name: str, chunks: AsyncIterator[bytes]) -> None:
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        out = await asyncio.to_thread(tmp.open, "wb")
        try:
            async for chunk in chunks:
                await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(self._finish, out)
            out.close()
            await asyncio.to_thread(os.replace, tmp, folder / name)
        finally:
            out.close()
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _write_bytes(self, folder: Path, name: str, data: bytes) -> None:
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            with tmp.open("wb") as out:
                out.write(data)
                self._finish(out)
            os.replace(tmp, folder / name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        _fsync_dir(folder)

    def _finish(self, out: IO[bytes]) -> None:
        out.flush()
        if self.settings.fsync:
            os.fsync(out.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unwritable(path: Path, exc: OSError) -> TransientError:
    return TransientError(
        f"không ghi được vào thư mục {path} / cannot write to {path}: {exc.strerror}"
    )
