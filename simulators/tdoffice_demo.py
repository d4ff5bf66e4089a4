"""Seeded sample documents, so that `lienthong demo` and `simulate` show documents flowing."""

from __future__ import annotations

import datetime as dt
import hashlib

from schemas import Attachment, Document, Organ, Priority, Signer
from simulators.tdoffice import TdofficeSim


def demo_document(number: int, data: bytes) -> Document:
    """A plausible incoming Công văn for demos, its one attachment being `data`."""
    return Document(
        issuer=Organ(code="000.00.00.H49", name="Ủy ban nhân dân tỉnh Quảng Ninh"),
        number=str(number),
        notation="UBND-KSTTHC",
        issued_on=dt.date(2024, 9, 1) + dt.timedelta(days=number % 60),
        type_name="Công văn",
        subject=f"V/v tăng cường cải cách thủ tục hành chính (đợt {number})",
        signer=Signer(name="Đặng Đức Phong", position="Phó Chủ tịch"),
        priority=Priority(number % 4),
        attachments=(
            Attachment(
                name=f"{number}-UBND-KSTTHC.pdf",
                content_type="application/pdf",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            ),
        ),
    )


def make_simulator(seed: int) -> TdofficeSim:
    """A simulator (API key `td-sim-key`) whose inbox holds a few seeded documents for every
    unit, for demos and `lienthong simulate`."""
    sim = TdofficeSim(seed=seed)
    for offset in range(3):
        number = 1200 + seed % 100 + offset
        data = b"%PDF-1.4 demo " + str(number).encode()
        doc = demo_document(number, data)
        sim.add_document(doc, {doc.attachments[0].name: data}, unit=None)
    return sim
