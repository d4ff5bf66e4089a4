"""Issuers written in several forms by several roads, on a real store: a Decree 30 short form
and the full name are one issuer, the full name is what the document keeps, and names are
resolved from the organ directory and from names learned at run time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.dedup import Matcher
from bridge.normalize import OrganDirectory
from bridge.store import SqliteStore
from schemas import Organ
from tests.dedup.helpers import Desk, attachment, document

PAIRS = [
    ("HND huyện Vân Đồn", "Hội Nông dân huyện Vân Đồn"),
    ("BHXH huyện Vân Đồn", "Bảo hiểm xã hội huyện Vân Đồn"),
    ("Phòng NV huyện Vân Đồn", "Phòng Nội vụ huyện Vân Đồn"),
    ("Phòng VH&TT huyện Vân Đồn", "Phòng Văn hóa và Thông tin huyện Vân Đồn"),
    ("Bộ TC", "Bộ Tài chính"),
    ("Bộ NV", "Bộ Nội vụ"),
    ("Điện lực Quảng Ninh", "Công ty Điện lực Quảng Ninh"),
    ("HND HUYỆN VÂN ĐỒN", "Hội Nông dân huyện Vân Đồn"),
]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "store.sqlite3") as opened:
        yield opened


@pytest.mark.parametrize("short_first", [True, False], ids=["short-first", "full-first"])
@pytest.mark.parametrize(("short", "full"), PAIRS, ids=[p[0] for p in PAIRS])
async def test_short_and_full_issuer_are_one_document(
    store: SqliteStore, short: str, full: str, short_first: bool
) -> None:
    """Number, notation and date agree, only the issuer's spelling differs: one document,
    which keeps the full name whichever road came first."""
    desk = Desk(store)
    names = [short, full] if short_first else [full, short]
    first = await desk.feed(document(issuer=Organ(name=names[0])))
    second = await desk.feed(document(issuer=Organ(name=names[1])))
    assert second.outcome == "duplicate" and second.document_id == first.document_id
    # resolved before matching (a full name seen earlier) or matched by the convention
    assert {"issuer_name", "issuer_name_short"} & set(second.decision["matched"])
    row = await store.document(first.document_id or 0)
    assert row is not None and row.document.issuer.name == full


async def test_short_form_of_another_organ_stays_apart(store: SqliteStore) -> None:
    """Other initials or another place: two documents, the look-alike recorded as near."""
    desk = Desk(store)
    first = await desk.feed(document(issuer=Organ(name="Bộ Tư pháp")))
    second = await desk.feed(document(issuer=Organ(name="Bộ TC")))
    third = await desk.feed(document(issuer=Organ(name="Phòng Nội vụ huyện Tiểu Cần")))
    fourth = await desk.feed(document(issuer=Organ(name="Phòng NV huyện Vân Đồn")))
    ids = {o.document_id for o in (first, second, third, fourth)}
    assert len(ids) == 4
    assert second.decision["near"] == [{"candidate": first.document_id, "differed": ["issuer"]}]


async def test_directory_names_a_short_issuer_by_its_code(store: SqliteStore) -> None:
    """A record with a code and a short name gets the directory's full name for that code."""
    directory = OrganDirectory.from_entries([{"code": "000.00.00.G12", "name": "Bộ Tài chính"}])
    desk = Desk(store, Matcher(store, lambda u: ["home"], directory))
    outcome = await desk.feed(document(issuer=Organ(code="000.00.00.G12", name="Bộ TC")))
    row = await store.document(outcome.document_id or 0)
    assert row is not None and row.document.issuer.name == "Bộ Tài chính"


async def test_directory_name_resolves_a_short_name_without_code(store: SqliteStore) -> None:
    """Without a code, the one directory name the short form spells is taken."""
    directory = OrganDirectory.from_entries(
        [
            {"code": "000.04.33.H49", "name": "Phòng Văn hóa và Thông tin huyện Vân Đồn"},
            {"code": "000.05.33.H49", "name": "Phòng Văn hóa và Thông tin huyện Tiên Yên"},
        ]
    )
    desk = Desk(store, Matcher(store, lambda u: ["home"], directory))
    outcome = await desk.feed(document(issuer=Organ(name="Phòng VH&TT huyện Vân Đồn")))
    row = await store.document(outcome.document_id or 0)
    assert row is not None
    assert row.document.issuer.name == "Phòng Văn hóa và Thông tin huyện Vân Đồn"
    assert row.document.issuer.code is None  # a code is never invented from a name


async def test_names_learned_at_run_time_resolve_later_short_forms(store: SqliteStore) -> None:
    """A record carrying a code and a full name teaches it: a later document of that organ
    written short, by code or without one, is stored with the full name."""
    desk = Desk(store)
    await desk.feed(document(number="1", issuer=Organ(code="000.00.00.G12", name="Bộ Tài chính")))
    by_code = await desk.feed(
        document(number="2", issuer=Organ(code="000.00.00.g12 ", name="Bộ TC"))
    )
    await desk.feed(document(number="3", issuer=Organ(name="Công ty Điện lực Quảng Ninh")))
    by_name = await desk.feed(document(number="4", issuer=Organ(name="Điện lực Quảng Ninh")))
    for outcome, name in ((by_code, "Bộ Tài chính"), (by_name, "Công ty Điện lực Quảng Ninh")):
        assert outcome.outcome == "document"
        row = await store.document(outcome.document_id or 0)
        assert row is not None and row.document.issuer.name == name


async def test_two_full_names_a_short_form_could_spell_are_not_guessed(
    store: SqliteStore,
) -> None:
    """ "Phòng TC huyện X" could be Tài chính or Thanh tra … : it stays as written."""
    desk = Desk(store)
    await desk.feed(document(number="1", issuer=Organ(name="Phòng Tài chính huyện Vân Đồn")))
    await desk.feed(document(number="2", issuer=Organ(name="Phòng Thanh Cảnh huyện Vân Đồn")))
    outcome = await desk.feed(document(number="3", issuer=Organ(name="Phòng TC huyện Vân Đồn")))
    row = await store.document(outcome.document_id or 0)
    assert row is not None and row.document.issuer.name == "Phòng TC huyện Vân Đồn"


async def test_revision_keeps_the_full_name_and_code_an_earlier_road_taught(
    store: SqliteStore,
) -> None:
    """A later revision written short, without code, keeps what the document knew."""
    desk = Desk(store)
    first = await desk.feed(
        document(issuer=Organ(code="000.14.33.H49", name="Hội Nông dân huyện Vân Đồn"))
    )
    revised = await desk.feed(
        document(
            issuer=Organ(name="HND huyện Vân Đồn"), revision=2, attachments=(attachment("r2"),)
        )
    )
    assert revised.outcome == "revision" and revised.document_id == first.document_id
    row = await store.document(first.document_id or 0)
    assert row is not None
    assert (row.document.issuer.code, row.document.issuer.name) == (
        "000.14.33.H49",
        "Hội Nông dân huyện Vân Đồn",
    )


async def test_held_mail_teaches_its_issuer_code_when_it_joins(store: SqliteStore) -> None:
    """A mail naming no number, held for review, joins the document its files belong to and
    brings the issuer code its sender's address book gave it."""
    desk = Desk(store)
    files = (attachment("held"),)
    held = await desk.feed(
        document(
            number=None,
            notation=None,
            issued_on=None,
            issuer=Organ(code="000.00.26.H49", name="Ủy ban nhân dân xã Hạ Long"),
            attachments=files,
            review_reason="không tìm thấy số / no number",
        )
    )
    assert held.outcome == "quarantined"
    created = await desk.feed(
        document(issuer=Organ(name="UBND xã Hạ Long"), attachments=files), source="moffice"
    )
    assert await desk.matcher.absorb_held() == 1
    row = await store.document(created.document_id or 0)
    assert row is not None and row.document.issuer.code == "000.00.26.H49"
