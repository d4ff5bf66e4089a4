"""`FolderDropper`: drops documents into an inbox folder the way a scanner station does.

It is not an HTTP server: it writes each document's files first and its metadata file last,
straight into their final names (as scanners and file copies do), so a reader sees files grow.
`base_url` is the folder's path, so the demo can treat it like the HTTP simulators.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

import orjson

from schemas import Document, Priority

TYPE_CODES = {
    "Công văn": "CV",
    "Quyết định": "QĐ",
    "Báo cáo": "BC",
    "Kế hoạch": "KH",
    "Thông báo": "TB",
    "Giấy mời": "GM",
    "Tờ trình": "TTr",
    "Chỉ thị": "CT",
    "Hướng dẫn": "HD",
}


def render_metadata(document: Document, *, version: int = 1) -> dict[str, Any]:
    """A Document as the tdoffice-shaped metadata object a scanner station writes."""
    signer = document.signer
    return {
        "codeNumber": document.number,
        "codeNotation": document.notation,
        "promulgationDate": document.issued_on.isoformat() if document.issued_on else None,
        "issuer": {"organId": document.issuer.code, "organName": document.issuer.name},
        "documentType": {
            "code": TYPE_CODES.get(document.type_name or "", ""),
            "name": document.type_name,
        },
        "subject": document.subject,
        "signer": (
            None if signer is None else {"fullName": signer.name, "position": signer.position}
        ),
        "priority": min(int(document.priority), int(Priority.HOA_TOC)),
        "confidentiality": int(document.confidentiality),
        "dueDate": document.due_on.isoformat() if document.due_on else None,
        "recipients": [{"organId": r.code, "organName": r.name} for r in document.recipients],
        "attachments": [
            {"name": a.name, "contentType": a.content_type, "size": a.size, "sha256": a.sha256}
            for a in document.attachments
        ],
        "version": max(version, document.revision),
        "state": str(document.state),
    }


class FolderDropper:
    """Writes documents into `folder` (a temporary folder, removed on close, when None).

    Knobs: `nfd_names` writes file names on disk in NFD (as a Mac does); `backdate_s` sets
    every written file's mtime that many seconds in the past (already settled for a reader).
    `drops` lists every file name written, in order, for tests to assert on.
    """

    profile = "folder"

    def __init__(self, folder: Path | None = None, *, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.folder = folder
        self._owned = folder is None
        self.base_url = str(folder) if folder is not None else ""
        self.nfd_names = False
        self.backdate_s = 0.0
        self.drops: list[str] = []
        self.units: dict[str, str] = {}
        self._serial = 0

    @property
    def inbox(self) -> Path:
        if self.folder is None:
            raise RuntimeError("FolderDropper.start() has not been called")
        return self.folder

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Create the folder (host and port are accepted for symmetry and ignored)."""
        if self.folder is None:
            self.folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="lienthong-drop-"))
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        self.base_url = str(self.folder)
        return self.base_url

    async def close(self) -> None:
        if self._owned and self.folder is not None:
            await asyncio.to_thread(shutil.rmtree, self.folder, True)
            self.folder = None

    async def __aenter__(self) -> FolderDropper:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def add_document(self, doc: Document, files: dict[str, bytes], *, unit: str) -> str:
        """Drop `doc` as `VB{yyyymmdd}_{nnnn}.json` with its files; return that name's stem."""
        self._serial += 1
        day = doc.issued_on.strftime("%Y%m%d") if doc.issued_on else "00000000"
        stem = f"VB{day}_{self._serial:04d}"
        metadata = orjson.dumps(render_metadata(doc), option=orjson.OPT_INDENT_2)
        self.units[stem] = unit
        return self.add_raw(f"{stem}.json", metadata, files)

    def add_raw(self, name: str, metadata: bytes, files: dict[str, bytes] | None = None) -> str:
        """Drop `files` first, then the metadata file `name` (say a corpus record); return
        the metadata name without its extension."""
        for file_name, data in (files or {}).items():
            self.write_file(file_name, data)
        self.write_file(name, metadata)
        return name.rpartition(".")[0] or name

    def write_file(self, name: str, data: bytes) -> Path:
        """Write one file under `name` (NFD on disk when `nfd_names`), honouring `backdate_s`."""
        on_disk = unicodedata.normalize("NFD", name) if self.nfd_names else name
        path = self.inbox / on_disk
        path.write_bytes(data)
        if self.backdate_s:
            past = time.time() - self.backdate_s
            os.utime(path, (past, past))
        self.drops.append(on_disk)
        return path

    def start_growing(self, name: str, data: bytes, fraction: float = 0.5) -> Path:
        """Write only the first `fraction` of `data`, as a copy still in progress does."""
        path = self.inbox / name
        path.write_bytes(data[: int(len(data) * fraction)])
        self.drops.append(name)
        return path

    def finish_growing(self, name: str, data: bytes) -> None:
        """Complete a file begun with `start_growing`."""
        with (self.inbox / name).open("ab") as out:
            out.write(data[out.tell() :])


def make_simulator(seed: int, folder: Path | None = None) -> FolderDropper:
    """A dropper writing into `folder`, or into a temporary folder it removes on close."""
    return FolderDropper(folder, seed=seed)
