"""Seeded demo documents for the simulators of systems that hold a unit's incoming mail."""

from __future__ import annotations

import datetime as dt
import random
from typing import Protocol

from schemas import Document
from schemas.document import Organ, Priority, Signer

_DEMO_SUBJECTS = (
    "V/v triển khai gửi, nhận văn bản điện tử",
    "V/v tăng cường công tác phòng cháy, chữa cháy",
    "Kế hoạch kiểm tra công tác an toàn thực phẩm năm 2024",
    "V/v báo cáo kết quả giảm nghèo bền vững quý I năm 2024",
)


class DemoTarget(Protocol):
    rng: random.Random

    def add_document(self, doc: Document, files: dict[str, bytes], *, unit: str | None) -> str:
        raise NotImplementedError


def demo_document(rng: random.Random, n: int) -> Document:
    """A plausible document for demos, varied by `rng`."""
    return Document(
        issuer=Organ(code="000.00.33.H49", name="Ủy ban nhân dân huyện Vân Đồn"),
        number=str(rng.randint(1, 1500)),
        notation=rng.choice(("UBND-VP", "UBND-HC", "KH-UBND")),
        issued_on=dt.date(2024, 1, 2) + dt.timedelta(days=n),
        type_name="Công văn",
        subject=rng.choice(_DEMO_SUBJECTS),
        signer=Signer(name="Đỗ Hoàng Lũy", position="Chủ tịch", competence="TM. ỦY BAN NHÂN DÂN"),
        priority=Priority(rng.randint(0, 3)),
    )


def add_demo_documents(sim: DemoTarget, count: int = 5) -> None:
    """Add `count` seeded documents with one small file each, listed to every unit."""
    for n in range(count):
        doc = demo_document(sim.rng, n)
        sim.add_document(
            doc, {f"{doc.number}-{doc.notation}.pdf": b"%%PDF-1.4 demo %d" % n}, unit=None
        )
