"""Hypothesis: documents of every organ form, each written by several roads (M-Office,
TDOffice, V-Office, iDesk, edXML, mail) with the corpus README's variant classes combined (legacy fonts,
abbreviations and short forms, capitals, dashes, spacing, padded codes, mail subjects), arrive
in random orders on a real store: every document is one document, no two documents merge."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import json
import tempfile
import unicodedata
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import registry
from adapters.mailbox.mapping import media_type_for
from adapters.mailbox.settings import AddressBookEntry
from adapters.vxp.edxml import emit_document, parse_message
from adapters.vxp.message import Code, EdxmlMessage, PromulgationInfo
from bridge.normalize.legacy import TCVN3_TABLE
from bridge.store import SqliteStore
from schemas import RawRecord
from tests.corpus_path import CORPUS
from tests.dedup.helpers import Desk


@dataclass(frozen=True)
class OrganForms:
    code: str | None
    full: str
    forms: tuple[str, ...]  # how roads write it: short forms, capitals, old tones, NFD


ORGANS = (
    OrganForms(
        "000.00.33.H49",
        "Ủy ban nhân dân huyện Vân Đồn",
        ("UBND huyện Vân Đồn", "UBND H. VÂN ĐỒN", "ỦY BAN NHÂN DÂN HUYỆN VÂN ĐỒN"),
    ),
    OrganForms(
        "000.14.33.H49", "Hội Nông dân huyện Vân Đồn", ("HND huyện Vân Đồn", "HND HUYỆN VÂN ĐỒN")
    ),
    OrganForms("000.24.33.H59", "Hội Nông dân huyện Tiểu Cần", ("HND huyện Tiểu Cần",)),
    OrganForms("000.15.33.H49", "Bảo hiểm xã hội huyện Vân Đồn", ("BHXH huyện Vân Đồn",)),
    OrganForms("000.03.33.H49", "Phòng Nội vụ huyện Vân Đồn", ("Phòng NV huyện Vân Đồn",)),
    OrganForms("000.05.33.H49", "Phòng Tư pháp huyện Vân Đồn", ("PHÒNG TƯ PHÁP HUYỆN VÂN ĐỒN",)),
    OrganForms(
        "000.04.33.H49",
        "Phòng Văn hóa và Thông tin huyện Vân Đồn",
        ("Phòng VH&TT huyện Vân Đồn", "Phòng Văn hoá và Thông tin huyện Vân Đồn"),
    ),
    OrganForms("000.00.00.G12", "Bộ Tài chính", ("Bộ TC", "BỘ TÀI CHÍNH")),
    OrganForms("000.00.00.G05", "Bộ Tư pháp", ("BỘ TƯ PHÁP",)),
    OrganForms("000.00.00.G14", "Bộ Nội vụ", ("Bộ NV",)),
    OrganForms(
        None, "Công ty Điện lực Quảng Ninh", ("Điện lực Quảng Ninh", "CÔNG TY ĐIỆN LỰC QUẢNG NINH")
    ),
    OrganForms("000.00.01.H49", "Văn phòng Tỉnh ủy", ("Văn phòng tỉnh ủy", "VĂN PHÒNG TỈNH ỦY")),
    OrganForms("000.00.12.H49", "Sở Tài chính tỉnh Quảng Ninh", ("Sở TC tỉnh Quảng Ninh",)),
)
NB_HYPHEN = "\u2011"
NOTATIONS = ("UBND-VP", "QĐ-UBND", "KH-HND", "BC-BHXH", "TB-PNV", "HD-BTC", "TTĐT-VP")
SUBJECT = "V/v triển khai kế hoạch chuyển đổi số năm {year}"


@dataclass(frozen=True)
class Doc:
    organ: OrganForms
    number: int
    notation: str
    day: dt.date


@dataclass(frozen=True)
class Road:
    profile: str  # moffice, tdoffice, vxp, mailbox
    name_form: int  # 0: full name, 4: in a TCVN3 font, else one of OrganForms.forms
    code_form: int  # 0: as is, 1: lowercase, 2: padded, 3: none
    symbol_form: int
    date_form: int


_TCVN3_BYTE = {letter: chr(byte) for byte, letter in TCVN3_TABLE.items()}


def _tcvn3(text: str) -> str:
    """`text` typed in a TCVN3 font and read back as Latin-1 (capital toned letters do not
    exist in TCVN3: they are typed in lower case)."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char in _TCVN3_BYTE:
            out.append(_TCVN3_BYTE[char])
        else:
            out.append(_TCVN3_BYTE.get(char.lower(), char))
    return "".join(out)


def _name(doc: Doc, road: Road) -> str:
    if road.name_form == 0:
        return doc.organ.full
    if road.name_form == 4:  # legacy font
        return _tcvn3(doc.organ.full)
    return doc.organ.forms[(road.name_form - 1) % len(doc.organ.forms)]


def _code(doc: Doc, road: Road) -> str | None:
    code = doc.organ.code
    if code is None or road.code_form == 3:
        return None
    return [code, code.lower(), f" {code} "][road.code_form]


def _symbol(doc: Doc, road: Road, *, whole: bool) -> str:
    n, nota = doc.number, doc.notation
    forms = [
        f"{n}/{nota}",
        f"Số: {n:04d}/{nota}",
        f"{n} /{nota.replace('-', ' - ')}",
        f"{n}/{nota.replace('-', '–')}",
        f"{n}/{nota.replace('-', NB_HYPHEN)}",
        f"{n}/{nota.replace('Đ', 'Ð')}",
        unicodedata.normalize("NFD", f"Số {n}/{nota}"),
    ]
    if whole:  # a field that holds only the symbol: lowercase, spaced, legacy Đ
        forms += [f"Số:{n}/ {nota.lower().replace('-', ' - ')}", f"{n}/{nota.replace('Đ', 'Ñ')}"]
    return forms[road.symbol_form % len(forms)]


def _date(doc: Doc, road: Road) -> str:
    d = doc.day
    return [d.strftime("%d/%m/%Y"), f"{d.day}-{d.month}-{d.year}", d.isoformat()][
        road.date_form % 3
    ]


def _raw(n: int, media_type: str, payload: bytes) -> RawRecord:
    return RawRecord(
        source=f"road-{n}",
        unit="000.00.33.H49",
        external_id=str(n),
        version="1",
        media_type=media_type,
        payload=payload,
        received_at=dt.datetime.now(dt.UTC),
    )


def _moffice(n: int, doc: Doc, road: Road) -> RawRecord:
    item = {
        "id": n,
        "so_ky_hieu": _symbol(doc, road, whole=True),
        "ngay_ban_hanh": _date(doc, road),
        "co_quan_ban_hanh": _name(doc, road),
        "ma_co_quan": _code(doc, road),
        "trich_yeu": SUBJECT.format(year=doc.day.year),
    }
    return _raw(n, "application/json", json.dumps(item, ensure_ascii=False).encode())


def _tdoffice(n: int, doc: Doc, road: Road) -> RawRecord:
    notation = [doc.notation, doc.notation.lower(), doc.notation.replace("-", " – ")][
        road.symbol_form % 3
    ]
    item = {
        "documentId": f"td-{n}",
        "codeNumber": f"{doc.number:03d}" if road.symbol_form % 2 else str(doc.number),
        "codeNotation": notation,
        "promulgationDate": doc.day.isoformat(),
        "issuer": {"organId": _code(doc, road), "organName": _name(doc, road)},
        "subject": SUBJECT.format(year=doc.day.year),
        "priority": 0,
        "confidentiality": 0,
        "version": 1,
        "state": "active",
    }
    return _raw(n, "application/json", json.dumps(item, ensure_ascii=False).encode())


def _template() -> EdxmlMessage:
    message = parse_message((CORPUS / "vxp" / "016.edxml").read_bytes())
    assert isinstance(message, EdxmlMessage)
    return dataclasses.replace(message, manifest=(), attachments=(), signature=None)


TEMPLATE = _template()


def _vxp(n: int, doc: Doc, road: Road) -> RawRecord:
    notation = [doc.notation, doc.notation.replace("-", "—").replace("Đ", "Ð")][
        road.symbol_form % 2
    ]
    code = _code(doc, road)
    message = dataclasses.replace(
        TEMPLATE,
        sender=dataclasses.replace(
            TEMPLATE.sender,
            organ_id=code,
            organ_name=_name(doc, road),
            organization_in_charge=None,
        ),
        document_id=f"{(code or '').strip()},{doc.day:%Y/%m/%d},{doc.number}/{doc.notation}"
        if code
        else None,
        code=Code(number=str(doc.number), notation=notation),
        promulgation=PromulgationInfo(place="Vân Đồn", date=doc.day.strftime("%Y/%m/%d")),
        subject=SUBJECT.format(year=doc.day.year),
    )
    return _raw(n, "application/vnd.edxml+xml", emit_document(message))


def _mail(n: int, doc: Doc, road: Road) -> RawRecord:
    msg = EmailMessage()
    msg["From"] = f"Văn thư {_name(doc, road)} <vt{n}@example.gov.vn>"
    msg["To"] = "vanthu@vandon.gov.vn"
    msg["Message-ID"] = f"<{n}@example.gov.vn>"
    symbol = _symbol(doc, road, whole=False)
    msg["Subject"] = f"{symbol} ngày {doc.day:%d/%m/%Y} {SUBJECT.format(year=doc.day.year)}"
    msg.set_content("Kính gửi: Văn thư.\nXin gửi văn bản kèm theo.")
    code = doc.organ.code if road.code_form != 3 else None
    entry = AddressBookEntry(code=code) if code else None
    # unfolded: CPython folds a display name at a space between two encoded-words, which
    # RFC 2047 readers (ours included) drop
    return _raw(n, media_type_for(entry), msg.as_bytes(policy=UNFOLDED))


def _voffice(n: int, doc: Doc, road: Road) -> RawRecord:
    """A V-Office document that names its symbol only in the printed `display`."""
    item = {
        "id": f"VO-{n}",
        "registration": {"display": _symbol(doc, road, whole=True)},
        "issuedOn": doc.day.isoformat(),
        "issuer": {"code": _code(doc, road), "name": _name(doc, road)},
        "summary": SUBJECT.format(year=doc.day.year) + ".",
        "modified": f"{doc.day.isoformat()}T08:00:00+07:00",
    }
    return _raw(n, "application/json", json.dumps(item, ensure_ascii=False).encode())


def _idesk(n: int, doc: Doc, road: Road) -> RawRecord:
    """An iDesk `Document` element, the symbol and the name in CDATA."""
    code = _code(doc, road)
    element = (
        f"<Document><DocumentID>id-{n}</DocumentID>"
        f"<SoHieu><![CDATA[{_symbol(doc, road, whole=True)}]]></SoHieu>"
        f"<NgayBanHanh>{_date(doc, road)}</NgayBanHanh>"
        f"<CoQuanBanHanh><![CDATA[{_name(doc, road)}]]></CoQuanBanHanh>"
        + (f"<MaDinhDanh>{code}</MaDinhDanh>" if code else "")
        + f"<TrichYeu>{SUBJECT.format(year=doc.day.year)}</TrichYeu></Document>"
    )
    return _raw(n, "application/xml", element.encode())


UNFOLDED = policy.default.clone(max_line_length=998)
BUILDERS = {
    "moffice": _moffice,
    "tdoffice": _tdoffice,
    "vxp": _vxp,
    "mailbox": _mail,
    "voffice": _voffice,
    "idesk": _idesk,
}
ROADS = st.builds(
    Road,
    st.sampled_from(list(BUILDERS)),
    st.integers(0, 4),
    st.integers(0, 3),
    st.integers(0, 9),
    st.integers(0, 2),
)
DAYS = st.dates(min_value=dt.date(2023, 1, 2), max_value=dt.date(2025, 12, 30))


@st.composite
def documents(draw: st.DrawFn) -> list[Doc]:
    """Two to four documents; look-alikes on purpose: another issuer with the same number,
    notation and date, or the same issuer a year later."""
    base = Doc(
        draw(st.sampled_from(ORGANS)),
        draw(st.integers(1, 999)),
        draw(st.sampled_from(NOTATIONS)),
        draw(DAYS),
    )
    docs = [base]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["other-issuer", "other-year", "fresh"]))
        if kind == "other-issuer":
            doc = dataclasses.replace(base, organ=draw(st.sampled_from(ORGANS)))
        elif kind == "other-year":
            doc = dataclasses.replace(base, day=base.day.replace(year=base.day.year + 1))
        else:
            doc = Doc(
                draw(st.sampled_from(ORGANS)),
                draw(st.integers(1, 999)),
                draw(st.sampled_from(NOTATIONS)),
                draw(DAYS),
            )
        if doc not in docs:
            docs.append(doc)
    return docs


@st.composite
def arrivals(draw: st.DrawFn) -> list[tuple[int, Doc, Road]]:
    """Every document by two to four roads, all of them in one random arrival order."""
    out = []
    for index, doc in enumerate(draw(documents())):
        for road in draw(st.lists(ROADS, min_size=2, max_size=4)):
            out.append((index, doc, road))
    return draw(st.permutations(out))


async def _decide(
    records: list[tuple[int, RawRecord]], profiles: dict[str, str], restarts: list[int]
) -> dict[int, set[int | None]]:
    """Feed the records in order; at each index in `restarts` the store is closed and opened
    again with a new matcher (what it learned in memory is gone)."""
    adapters = registry()
    by_doc: dict[int, set[int | None]] = {}
    bounds = [0, *sorted(set(restarts)), len(records)]
    with tempfile.TemporaryDirectory() as tmp:
        for start, end in itertools.pairwise(bounds):
            async with SqliteStore(Path(tmp) / "store.sqlite3") as store:
                desk = Desk(store)
                for index, raw in records[start:end]:
                    doc = adapters[profiles[raw.source]].to_document(raw)
                    outcome = await desk.feed(doc, source=raw.source, external_id=raw.external_id)
                    assert outcome.outcome in ("document", "duplicate"), outcome.decision
                    by_doc.setdefault(index, set()).add(outcome.document_id)
    return by_doc


@settings(max_examples=100, deadline=None)
@given(arrivals(), st.lists(st.integers(1, 15), max_size=2))
def test_roads_in_any_order_give_one_document_each(
    plan: list[tuple[int, Doc, Road]], restarts: list[int]
) -> None:
    """No duplicate (each document's roads end in one document) and no false merge (two
    documents never share one), with restarts in between."""
    records, profiles = [], {}
    for n, (index, doc, road) in enumerate(plan, start=1):
        raw = BUILDERS[road.profile](n, doc, road)
        records.append((index, raw))
        profiles[raw.source] = road.profile
    by_doc = asyncio.run(_decide(records, profiles, [r for r in restarts if r < len(records)]))
    shown = [(i, d.organ.full, d.number, d.notation, d.day, r) for i, d, r in plan]
    assert all(len(ids) == 1 for ids in by_doc.values()), (by_doc, shown)
    firsts = [next(iter(ids)) for ids in by_doc.values()]
    assert len(set(firsts)) == len(firsts), by_doc
