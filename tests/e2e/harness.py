"""Shared pieces of the end-to-end tests: realistic documents, simulators, a config, waiting."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from schemas import Attachment, Document, Organ, Signer
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim

UNIT = "000.00.33.H49"
UNIT_NAME = "Ủy ban nhân dân huyện Vân Đồn"
ISSUERS = [
    ("000.00.05.H49", "Sở Tài chính tỉnh Quảng Ninh", "STC-NS"),
    ("000.00.12.H49", "Sở Thông tin và Truyền thông tỉnh Quảng Ninh", "STTTT-TTBCXB"),
    ("000.00.01.H49", "Văn phòng Ủy ban nhân dân tỉnh Quảng Ninh", "VP-TH"),
]


def pdf_bytes(seed: str, size: int = 2000) -> bytes:
    body = (
        f"%PDF-1.4\n% {seed}\n".encode() + hashlib.sha256(seed.encode()).digest() * (size // 32 + 1)
    )[:size]
    return body + b"\n%%EOF\n"


def make_doc(i: int, *, year: int = 2026) -> tuple[Document, dict[str, bytes]]:
    """Document number i: a công văn of one of three issuers, one PDF attached."""
    code, name, notation = ISSUERS[i % len(ISSUERS)]
    data = pdf_bytes(f"doc-{i}-{year}")
    att = Attachment(
        name=f"{100 + i}-{notation}.pdf",
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    doc = Document(
        issuer=Organ(code=code, name=name),
        number=str(100 + i),
        notation=notation,
        issued_on=dt.date(year, 3, 1 + i % 27),
        type_name="Công văn",
        subject=f"V/v triển khai nhiệm vụ số {i} năm {year}",
        signer=Signer(competence="KT. GIÁM ĐỐC", position="Phó Giám đốc", name="Nguyễn Văn An"),
        recipients=(Organ(code=UNIT, name=UNIT_NAME),),
        attachments=(att,),
    )
    return doc, {att.name: data}


def config_dict(
    data_dir: Path,
    source: TdofficeSim,
    home: TdofficeSim,
    dropper: FolderDropper,
    listen: str = "127.0.0.1:0",
    poll_s: float = 0.3,
) -> dict[str, Any]:
    return {
        "bridge": {"data_dir": str(data_dir), "shutdown_grace": 5},
        "http": {"listen": listen},
        "units": [
            {
                "id": UNIT,
                "name": UNIT_NAME,
                "sources": [
                    {
                        "name": "vd-tdoffice",
                        "profile": "tdoffice",
                        "base_url": source.base_url,
                        "api_key": source.api_key,
                        "poll_interval": poll_s,
                    },
                    {
                        "name": "vd-folder",
                        "profile": "folder",
                        "path": str(dropper.inbox),
                        "poll_interval": poll_s,
                        "settle_s": 0,
                    },
                ],
                "sinks": [
                    {
                        "name": "vd-home",
                        "profile": "tdoffice",
                        "base_url": home.base_url,
                        "api_key": home.api_key,
                    }
                ],
            }
        ],
    }


def toml_of(config: dict[str, Any]) -> str:
    """A TOML rendering of the small config dicts these tests build."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):  # an inline table, keys quoted (addresses, codes)
            return "{" + ", ".join(f"{value(k)} = {value(x)}" for k, x in v.items()) + "}"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = []
    for section in ("bridge", "http"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {value(v)}" for k, v in config.get(section, {}).items()]
    for unit in config["units"]:
        lines.append("[[units]]")
        kinds = ("sources", "sinks", "outboxes")
        lines += [f"{k} = {value(v)}" for k, v in unit.items() if k not in kinds]
        for kind in kinds:
            for ep in unit.get(kind, []):
                lines.append(f"[[units.{kind}]]")
                lines += [f"{k} = {value(v)}" for k, v in ep.items()]
    return "\n".join(lines) + "\n"


async def wait_until(
    predicate: Callable[[], object],  # done when truthy; an awaitable result is awaited first
    timeout_s: float = 30.0,
    what: str = "condition",
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def delivered_symbols(home: TdofficeSim) -> list[str]:
    return sorted(f"{d['codeNumber']}/{d['codeNotation']}" for d in home.received.values())
