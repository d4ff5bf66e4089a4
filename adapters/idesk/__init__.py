"""The `idesk` profile: an iDesk-style SOAP 1.1 DocumentService pulled for incoming documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from adapters import Profile
from adapters.idesk.mapping import read_file, to_document
from adapters.idesk.settings import IdeskSettings
from adapters.idesk.sim import IdeskSim
from adapters.idesk.source import IdeskSource
from bridge.interfaces import AdapterContext
from schemas import Document, Organ, Priority, Signer

_DEMO_SUBJECTS = (
    "V/v triển khai gửi, nhận văn bản điện tử",
    "Kế hoạch kiểm tra công tác an toàn thực phẩm năm 2024",
    "V/v cử cán bộ tham dự tập huấn chuyển đổi số",
)


def make_source(settings: Any, ctx: AdapterContext) -> IdeskSource:
    return IdeskSource(settings, ctx)


def make_simulator(seed: int) -> IdeskSim:
    """A simulator holding a few demo documents for every unit."""
    sim = IdeskSim(seed=seed)
    for position, subject in enumerate(_DEMO_SUBJECTS, start=1):
        number = 100 + sim.rng.randrange(900)
        doc = Document(
            issuer=Organ(code="000.00.33.H49", name="Ủy ban nhân dân huyện Vân Đồn"),
            number=str(number),
            notation="UBND-VP",
            issued_on=dt.date(2024, 3, position),
            type_name="Công văn",
            subject=subject,
            signer=Signer(name="Đỗ Hoàng Lũy", position="Chủ tịch"),
            priority=Priority(position % 3),
        )
        files = {f"{number}-UBND-VP.pdf": b"%PDF-1.4\n% demo " + str(number).encode() + b"\n"}
        sim.add_document(doc, files, unit=None)
    return sim


PROFILE = Profile(
    name="idesk",
    to_document=to_document,
    read_file=read_file,
    source_settings=IdeskSettings,
    make_source=make_source,
    make_simulator=make_simulator,
)

__all__ = ["PROFILE", "IdeskSettings", "IdeskSim", "IdeskSource", "read_file", "to_document"]
