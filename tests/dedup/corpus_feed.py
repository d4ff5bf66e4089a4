"""Every record of the labelled corpus as the RawRecord its source would store, in arrival order.

Records are built with each profile's `read_file` (source, unit and external id from
truth.jsonl). V-Office bundles are unpacked with the adapter's own hostile-zip code into a real
BlobStore; a record its reader refuses becomes an error record, as its adapter would store it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # no types shipped

from adapters import registry
from adapters.mailbox.mapping import media_type_for
from adapters.mailbox.settings import AddressBookEntry
from adapters.voffice.bundle import extract
from bridge.blobs import BlobStore
from bridge.errors import PermanentError
from bridge.interfaces import AdapterContext
from schemas import Attachment, RawRecord
from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT


@dataclass(frozen=True)
class Labelled:
    """One corpus record and its truth.jsonl row."""

    truth: dict[str, Any]
    raw: RawRecord


def truth_rows(root: Path = CORPUS) -> list[dict[str, Any]]:
    lines = (root / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _idesk_documents(root: Path) -> list[bytes]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    tree = etree.fromstring((root / "idesk.xml").read_bytes(), parser)
    return [
        bytes(etree.tostring(el))
        for el in tree.iter()
        if isinstance(el.tag, str) and etree.QName(el).localname == "Document"
    ]


def _wire_bytes(root: Path, row: dict[str, Any], idesk: list[bytes]) -> bytes:
    name: str = row["file"]
    if name.endswith(".jsonl"):
        lines = (root / name).read_text(encoding="utf-8").splitlines()
        return lines[int(row["index"]) - 1].encode()
    if name == "idesk.xml":
        return idesk[int(row["index"]) - 1]
    return (root / str(name)).read_bytes()


async def _voffice_files(root: Path, data: bytes, blobs: BlobStore) -> tuple[Any, ...]:
    item = json.loads(data)
    zip_path = root / "voffice" / f"{item['id']}.zip"
    if not zip_path.exists():
        return ()
    ctx = AdapterContext(units=("corpus",), blobs=blobs)
    return await extract(zip_path, ctx, list(item["files"]["sha256"]))


def _as_configured(row: dict[str, Any], raw: RawRecord) -> RawRecord:
    """What a configured source stores beyond the wire bytes: the mailbox source's address
    book names the sender's organ code, and the M-Office and folder sources store the files an
    item names (the sample carries their hashes, not their bytes)."""
    if row["profile"] == "mailbox" and row.get("issuer_code"):
        entry = AddressBookEntry(code=row["issuer_code"])
        return raw.model_copy(update={"media_type": media_type_for(entry)})
    if row["profile"] in ("moffice", "folder") and not raw.attachments and row.get("attachments"):
        files = tuple(
            Attachment(name=a["name"], size=a["size"], sha256=a["sha256"], blob=a["sha256"])
            for a in row["attachments"]
        )
        return raw.model_copy(update={"attachments": files})
    return raw


async def labelled_records(
    blobs: BlobStore, root: Path = CORPUS, *, as_configured: bool = False
) -> list[Labelled]:
    """Every truth row's record of the sample at `root`, ordered by its `modified` time.

    `as_configured`: records as configured sources store them (`_as_configured`)."""
    profiles, idesk = registry(), _idesk_documents(root)
    out = []
    for row in sorted(truth_rows(root), key=lambda r: dt.datetime.fromisoformat(r["modified"])):
        data = _wire_bytes(root, row, idesk)
        fields = {
            "source": row["source"],
            "unit": row["unit"],
            "external_id": row["external_id"],
            "received_at": dt.datetime.fromisoformat(row["modified"]),
        }
        try:
            raw = profiles[row["profile"]].read_file(data, Path(row["file"]).name)
        except PermanentError as exc:
            raw = RawRecord(
                version=row["modified"],
                media_type="application/octet-stream",
                payload=data,
                error=exc.reason,
                **fields,
            )
        raw = raw.model_copy(update={**fields, "version": raw.version or row["modified"]})
        if row["profile"] == "voffice" and raw.error is None:
            try:
                raw = raw.model_copy(
                    update={"attachments": await _voffice_files(root, data, blobs)}
                )
            except PermanentError as exc:  # the adapter stores a refused bundle as an error
                raw = raw.model_copy(update={"error": exc.reason})
        if as_configured and raw.error is None:
            raw = _as_configured(row, raw)
        out.append(Labelled(row, raw))
    return out
