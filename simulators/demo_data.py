"""Seed documents for `lienthong demo` and the benchmarks: realistic, deterministic, distinct.

Organs, codes, notations and signers follow Quảng Ninh practice (Decree 30/2020/NĐ-CP forms:
`335/UBND-VP` for a công văn, `12/QĐ-UBND` for a typed document). Each organ numbers its own
documents in one yearly series, so (issuer, number, notation, date) never repeats within a run.
Every document carries one or two small, valid, unique PDF files. Building is cheap: 20,000
documents take about a second.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from schemas import Attachment, Document, Organ, Priority, Signer


@dataclass(frozen=True)
class SeedDocument:
    """One generated document, its files by name, and the unit it is addressed to."""

    document: Document
    files: dict[str, bytes]
    unit: str


@dataclass(frozen=True)
class _Organ:
    code: str
    name: str
    abbr: str  # the organ's part of a notation: "UBND", "STC"
    offices: tuple[str, ...]  # drafting units of a công văn notation: "VP" gives "UBND-VP"
    head: str  # position of the head: "Chủ tịch", "Giám đốc"
    deputy: str
    for_head: str  # competence of a deputy signing for the head: "CHỦ TỊCH" gives "KT. CHỦ TỊCH"
    place: str  # the place line without its type word: "Vân Đồn"
    collective: str | None = None  # "ỦY BAN NHÂN DÂN" gives "TM. ỦY BAN NHÂN DÂN"


def _committee(
    code: str, kind: str, place: str, offices: tuple[str, ...] = ("VP", "TCKH", "NV")
) -> _Organ:
    return _Organ(
        code, f"Ủy ban nhân dân {kind} {place}", "UBND", offices, "Chủ tịch", "Phó Chủ tịch",
        "CHỦ TỊCH", place, "ỦY BAN NHÂN DÂN",
    )  # fmt: skip


def _department(code: str, name: str, abbr: str, offices: tuple[str, ...]) -> _Organ:
    return _Organ(
        code, f"{name} tỉnh Quảng Ninh", abbr, offices, "Giám đốc", "Phó Giám đốc", "GIÁM ĐỐC",
        "Quảng Ninh",
    )  # fmt: skip


ORGANS: tuple[_Organ, ...] = (
    _committee("000.00.00.H49", "tỉnh", "Quảng Ninh", ("TH", "KTTC", "XD", "NLN")),
    _department("000.00.05.H49", "Sở Tài chính", "STC", ("NS", "QLG", "TCĐT", "VP")),
    _department("000.00.12.H49", "Sở Thông tin và Truyền thông", "STTTT", ("CNTT", "BCVT")),
    _department("000.00.10.H49", "Sở Giáo dục và Đào tạo", "SGDĐT", ("KTQLCL", "GDTRH")),
    _department("000.00.02.H49", "Sở Nội vụ", "SNV", ("CCVC", "TCBC", "VP")),
    _department("000.00.08.H49", "Sở Y tế", "SYT", ("NVY", "KHTC")),
    _department("000.00.04.H49", "Sở Kế hoạch và Đầu tư", "SKHĐT", ("TH", "ĐT")),
    _committee("000.00.33.H49", "huyện", "Vân Đồn"),
    _committee("000.00.31.H49", "thị xã", "Đông Triều"),
    _committee("000.00.29.H49", "thành phố", "Cẩm Phả"),
    _committee("000.00.38.H49", "huyện", "Bình Liêu"),
    _committee("000.00.36.H49", "huyện", "Hải Hà"),
    _committee("000.00.39.H49", "huyện", "Cô Tô"),
    _committee("000.08.33.H49", "xã", "Đông Xá", ("VP",)),
    _committee("000.15.33.H49", "xã", "Bình Dân", ("VP",)),
)
_BY_CODE = {o.code: o for o in ORGANS}

_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Lâm")
_MIDDLES = ("Văn", "Thị", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Thu", "Hữu", "Xuân")
_GIVEN = ("Hùng", "Hòa", "Lan", "Tuấn", "Hương", "Dũng", "Thúy", "Cường", "Nam", "Hải", "Phong")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLES)} {rng.choice(_GIVEN)}"


# Each organ keeps the same head and two deputies in every run.
_ROSTERS = {
    o.code: tuple(_person(random.Random(f"{o.code}/{i}")) for i in range(3)) for o in ORGANS
}

# (type name, abbreviation or None for công văn, subject templates; {m} month, {q} quarter)
_TYPES: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    (
        "Công văn",
        None,
        (
            "V/v triển khai thực hiện chuyển đổi số năm 2026",
            "V/v tăng cường công tác phòng, chống thiên tai, tìm kiếm cứu nạn",
            "V/v báo cáo tình hình thực hiện dự toán ngân sách quý {q} năm 2026",
            "V/v rà soát, cập nhật cơ sở dữ liệu cán bộ, công chức, viên chức",
            "V/v hướng dẫn sử dụng chữ ký số chuyên dùng trên văn bản điện tử",
            "V/v đôn đốc giải ngân vốn đầu tư công tháng {m} năm 2026",
            "V/v kết nối, liên thông phần mềm quản lý văn bản với Trục liên thông văn bản quốc gia",
            "V/v góp ý dự thảo quy chế quản lý, vận hành hệ thống thông tin",
            "V/v chuẩn bị nội dung làm việc với đoàn công tác của tỉnh",
        ),
    ),
    (
        "Quyết định",
        "QĐ",
        (
            "Về việc phê duyệt kế hoạch lựa chọn nhà thầu gói thầu số {m:02d}",
            "Về việc kiện toàn Ban Chỉ đạo chuyển đổi số",
            "Về việc giao chỉ tiêu kế hoạch phát triển kinh tế - xã hội năm 2026",
            "Về việc khen thưởng thành tích trong phong trào thi đua quý {q} năm 2026",
        ),
    ),
    (
        "Báo cáo",
        "BC",
        (
            "Báo cáo kết quả công tác cải cách hành chính tháng {m} năm 2026",
            "Báo cáo tình hình bảo đảm trật tự an toàn giao thông tháng {m} năm 2026",
            "Báo cáo tình hình thực hiện nhiệm vụ thu, chi ngân sách quý {q} năm 2026",
        ),
    ),
    (
        "Kế hoạch",
        "KH",
        (
            "Kế hoạch tuyên truyền cải cách hành chính năm 2026",
            "Kế hoạch kiểm tra công tác văn thư, lưu trữ năm 2026",
            "Kế hoạch triển khai Đề án 06 trên địa bàn năm 2026",
        ),
    ),
    (
        "Thông báo",
        "TB",
        (
            "Thông báo kết luận của lãnh đạo tại cuộc họp giao ban tháng {m} năm 2026",
            "Thông báo lịch tiếp công dân định kỳ tháng {m} năm 2026",
            "Thông báo tuyển dụng viên chức năm 2026",
        ),
    ),
    (
        "Giấy mời",
        "GM",
        (
            "Giấy mời dự hội nghị sơ kết công tác quý {q} năm 2026",
            "Giấy mời dự tập huấn xây dựng chính quyền điện tử",
        ),
    ),
)
_TYPE_WEIGHTS = tuple(itertools.accumulate((45, 15, 15, 10, 10, 5)))
_PRIORITIES = (Priority.THUONG, Priority.KHAN, Priority.THUONG_KHAN, Priority.HOA_TOC)
_PRIORITY_WEIGHTS = tuple(itertools.accumulate((80, 12, 5, 3)))
_WORKING_DAYS = tuple(
    day
    for day in (dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(365))
    if day.weekday() < 5
)
_ASCII = str.maketrans({"Đ": "D", "đ": "d", "(": "[", ")": "]", "\\": "/"})


def generate(seed: int, count: int, *, units: Sequence[str]) -> list[SeedDocument]:
    """`count` documents addressed in turn to `units`, dated over the working days of 2026.

    Deterministic for (`seed`, `count`, `units`). Each issuer numbers its documents in one
    increasing series, so no two documents share an identity. Raises ValueError without units.
    """
    if not units:
        raise ValueError("generate() needs at least one unit")
    rng = random.Random(seed)
    issuers = {u: tuple(o for o in ORGANS if o.code != u) for u in units}
    last_number: dict[str, int] = {}
    result = []
    for i in range(count):
        unit = units[i % len(units)]
        day = _WORKING_DAYS[i * len(_WORKING_DAYS) // count]
        organ = rng.choice(issuers[unit])
        start = last_number.get(organ.code)
        number = (start if start is not None else rng.randint(0, 40)) + rng.randint(1, 3)
        last_number[organ.code] = number
        result.append(_seed_document(rng, organ, str(number), day, unit))
    return result


def duplicate_roads(docs: Sequence[SeedDocument], fraction: float, seed: int) -> list[int]:
    """Indices (ascending) of the documents that also travel by a second road.

    About `fraction` (0 to 1) of them, chosen deterministically for `seed`.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be between 0 and 1")
    chosen = random.Random(seed).sample(range(len(docs)), round(len(docs) * fraction))
    return sorted(chosen)


def _seed_document(
    rng: random.Random, organ: _Organ, number: str, day: dt.date, unit: str
) -> SeedDocument:
    type_name, abbr, subjects = _TYPES[
        bisect.bisect(_TYPE_WEIGHTS, rng.random() * _TYPE_WEIGHTS[-1])
    ]
    if abbr is None:
        notation = f"{organ.abbr}-{rng.choice(organ.offices)}"
        due_on = day + dt.timedelta(days=rng.randint(7, 20)) if rng.random() < 0.3 else None
    else:
        notation = f"{abbr}-{organ.abbr}"
        due_on = None
    subject = rng.choice(subjects).format(m=day.month, q=(day.month - 1) // 3 + 1)
    files = _files(rng, organ, number, notation, abbr, day)
    document = Document(
        issuer=Organ(code=organ.code, name=organ.name),
        number=number,
        notation=notation,
        issued_on=day,
        place=organ.place,
        type_name=type_name,
        subject=subject,
        signer=_signer(rng, organ),
        priority=_PRIORITIES[bisect.bisect(_PRIORITY_WEIGHTS, rng.random() * 100)],
        due_on=due_on,
        recipients=_recipients(rng, organ, unit),
        attachments=pdf_attachments(files),
    )
    return SeedDocument(document=document, files=files, unit=unit)


def _signer(rng: random.Random, organ: _Organ) -> Signer:
    roster = _ROSTERS[organ.code]
    if rng.random() < 0.35:
        competence = f"TM. {organ.collective}" if organ.collective else organ.for_head
        return Signer(competence=competence, position=organ.head, name=roster[0])
    return Signer(
        competence=f"KT. {organ.for_head}", position=organ.deputy, name=rng.choice(roster[1:])
    )


def _recipients(rng: random.Random, issuer: _Organ, unit: str) -> tuple[Organ, ...]:
    home = _BY_CODE.get(unit)
    picks = {rng.choice(ORGANS) for _ in range(rng.randint(0, 2))}
    extra = sorted((o for o in picks if o.code not in (issuer.code, unit)), key=lambda o: o.code)
    return (
        Organ(code=unit, name=home.name if home else None),
        *(Organ(code=o.code, name=o.name) for o in extra),
    )


def _files(
    rng: random.Random, organ: _Organ, number: str, notation: str, abbr: str | None, day: dt.date
) -> dict[str, bytes]:
    # Named like a scanner station names them: distinct across organs sharing a notation.
    symbol = f"{number}-{notation} ({organ.place})"
    main = f"{symbol}.pdf" if abbr is None else f"{abbr} {symbol}.pdf"
    names = [main, f"Phụ lục {symbol}.pdf"] if rng.random() < 0.25 else [main]
    return {
        name: _pdf(f"{organ.code} So {number}/{notation} ngay {day.isoformat()} tep {index}")
        for index, name in enumerate(names, start=1)
    }


def _pdf(text: str) -> bytes:
    """A one-page PDF 1.4 showing `text` (ASCII-folded), with a correct cross-reference table."""
    line = text.translate(_ASCII).encode("ascii", "replace")
    stream = b"BT /F1 12 Tf 72 770 Td (" + line + b") Tj ET"
    objects = (
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]"
        b"/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>",
        b"<</Length %d>>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for index, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (index, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_attachments(files: Mapping[str, bytes]) -> tuple[Attachment, ...]:
    """The attachments (PDF, hashed, no blob yet) of `files`: name → bytes, in order."""
    return tuple(
        Attachment(
            name=name,
            content_type="application/pdf",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        for name, data in files.items()
    )
