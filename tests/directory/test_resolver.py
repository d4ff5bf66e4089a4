"""The resolver's answers beside the merger itself: a district with no single successor, names
learned from records, names borne by two organs, and the codes a unit answers to in `To`
during a transition."""

from __future__ import annotations

import datetime as dt

from bridge.dedup.issuers import IssuerNames
from bridge.normalize import OrganDirectory
from bridge.normalize.organ_history import DirectoryEntry, Successor
from schemas import Document, Organ

DISTRICT, EAST, WEST = "000.00.33.H49", "000.08.33.H49", "000.15.33.H49"
JULY = dt.datetime(2025, 7, 1)


def _axis() -> OrganDirectory:
    directory = OrganDirectory()
    directory.refresh(
        [
            DirectoryEntry(
                "33", DISTRICT, "Ủy ban nhân dân huyện Vân Đồn", center_code="N33", version=1
            ),
            DirectoryEntry(
                "33",
                DISTRICT,
                "Ủy ban nhân dân huyện Vân Đồn",
                deleted=True,
                modified=JULY,
                version=4,
            ),
            DirectoryEntry(
                "8",
                EAST,
                "Ủy ban nhân dân xã Đông Xá",
                old_codes=(DISTRICT,),
                center_code="N8",
                version=2,
            ),
            DirectoryEntry(
                "15",
                WEST,
                "Ủy ban nhân dân xã Bình Dân",
                old_codes=(DISTRICT,),
                center_code="N15",
                version=3,
            ),
        ]
    )
    return directory


def test_a_district_has_no_single_successor() -> None:
    found = _axis().resolve_at(DISTRICT, dt.date(2025, 8, 1))
    assert found.code == DISTRICT and found.deleted and not found.has_node
    assert set(found.successors) == {EAST, WEST} and found.successor is None
    assert "nhiều cơ quan kế thừa / several successors" in found.reason
    before = _axis().resolve_at(DISTRICT, dt.date(2025, 6, 30))
    assert before.successors == () and "trước ngày sáp nhập 2025-07-01" in before.reason


def test_names_by_directory_then_learned_then_decree_30() -> None:
    directory = _axis()
    assert directory.resolve_at("UBND xã Đông Xá").code == EAST  # Decree 30 spelling
    unknown = directory.resolve_at("Ban Quản lý dự án Đầu tư xây dựng Vân Đồn")
    assert unknown.code is None and "không rõ cơ quan" in unknown.reason
    names = IssuerNames(directory)
    names.learn(
        Document(
            issuer=Organ(code="000.20.33.H49", name="Ban Quản lý dự án Đầu tư xây dựng Vân Đồn"),
            number="1",
            notation="BQLDA",
            issued_on=dt.date(2025, 8, 1),
        )
    )
    learned = directory.resolve_at("Ban Quản lý dự án Đầu tư xây dựng Vân Đồn")
    assert learned.code == "000.20.33.H49" and not learned.known
    assert "tên học từ văn bản / name learned from records" in learned.reason


def test_a_name_two_organs_bear_resolves_to_none() -> None:
    directory = OrganDirectory.from_entries(
        [
            {"code": "000.06.33.H49", "name": "Ủy ban nhân dân thị trấn Cái Rồng"},
            {"code": "000.25.30.H58", "name": "Ủy ban nhân dân thị trấn Cái Rồng"},
        ]
    )
    found = directory.resolve_at("UBND thị trấn Cái Rồng")
    assert found.code is None and "nhiều cơ quan mang tên này" in found.reason


def test_a_unit_answers_to_its_old_and_new_codes() -> None:
    old, new = "000.00.12.H49", "000.00.17.H49"
    directory = OrganDirectory()
    directory.set_successors([Successor(old, new, dt.date(2025, 3, 1))])
    today = dt.date(2025, 3, 2)
    # configured with its new code: a message to the old one reaches it
    assert directory.unit_for(old, [new], today) == new
    # still configured with the old code: a message to the new one reaches it
    assert directory.unit_for(new, [old], today) == old
    assert directory.unit_for(new, [old], dt.date(2025, 2, 1)) == old  # announced ahead
    assert directory.unit_for("000.00.05.H49", [old, new], today) is None
    # either code format
    assert directory.unit_for("H49.12.00.000", [new], today) == new


def test_both_code_formats_name_one_organ_known_or_not() -> None:
    empty = OrganDirectory()
    assert empty.same_organ("H59.31.00.000", "000.00.31.H59", dt.date(2025, 1, 1))
    assert not empty.same_organ("H59.31.00.000", "000.00.32.H59", dt.date(2025, 1, 1))
    assert _axis().same_organ("H49.33.08.000", EAST, dt.date(2025, 1, 1))
