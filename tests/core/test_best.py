"""The ranking of the best of every road (`bridge.best`): which road's value a field keeps."""

from __future__ import annotations

import datetime as dt
import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.best import (
    Lesson,
    best_issuer,
    best_of,
    correction_note,
    foreign_characters,
    legacy_writing_of,
    name_rank,
)
from bridge.normalize.directory import OrganDirectory
from bridge.normalize.legacy import TCVN3_TABLE
from schemas import Document, Organ, Signer

TO_TCVN3 = {letter: chr(byte) for byte, letter in TCVN3_TABLE.items()}
SUBJECT = "về việc triển khai kế hoạch chuyển đổi số năm 2024"
CODE = "000.00.31.H59"


def tcvn3(text: str) -> str:
    return "".join(TO_TCVN3.get(char, char) for char in text)


def vni(text: str) -> str:
    """`text` typed with a VNI font (only the letters the test subjects use)."""
    table = {
        "ề": "eà",
        "ế": "eá",
        "ệ": "eä",
        "ể": "eå",
        "ạ": "aï",
        "đ": "ñ",
        "ổ": "oå",
        "ố": "oá",
        "ă": "aê",
    }
    return "".join(table.get(char, char) for char in text)


def doc(**fields: object) -> Document:
    values: dict[str, object] = {
        "issuer": Organ(code=None, name="Ủy ban nhân dân huyện Tiểu Cần"),
        "number": "12",
        "notation": "UBND-VP",
        "issued_on": dt.date(2024, 3, 5),
        "subject": SUBJECT,
    }
    values.update(fields)
    return Document.model_validate(values)


def test_an_organ_code_wins_over_a_name_alone_whichever_road_came_first() -> None:
    with_code = Organ(code=CODE, name="Ủy ban nhân dân huyện Tiểu Cần")
    without = Organ(code=None, name="Ủy ban nhân dân huyện Tiểu Cần")
    assert best_issuer(without, with_code) == with_code
    assert best_issuer(with_code, without) == with_code


def test_a_full_name_wins_over_a_short_one() -> None:
    """Unknown abbreviations and a dropped generic head lose to the full name."""
    for short, full in (
        ("HND huyện Tiểu Cần", "Hội Nông dân huyện Tiểu Cần"),
        ("BHXH huyện Tiểu Cần", "Bảo hiểm xã hội huyện Tiểu Cần"),
        ("Phòng VH&TT", "Phòng Văn hóa và Thông tin"),
        ("Điện lực Trà Vinh", "Công ty Điện lực Trà Vinh"),
    ):
        assert name_rank(full) > name_rank(short), (short, full)
        assert best_issuer(Organ(name=short), Organ(code=CODE, name=full)).name == full
        assert best_issuer(Organ(code=CODE, name=full), Organ(name=short)).name == full


def test_the_directory_name_of_the_code_wins() -> None:
    directory = OrganDirectory.from_entries([{"code": CODE, "name": "Hội Nông dân huyện Cầu Kè"}])
    longer = Organ(code=CODE, name="Hội Nông dân huyện Cầu Kè tỉnh Trà Vinh cũ")
    listed = Organ(code=CODE, name="Hội Nông dân huyện Cầu Kè")
    assert best_issuer(longer, listed, directory).name == "Hội Nông dân huyện Cầu Kè"
    assert best_issuer(listed, longer, directory).name == "Hội Nông dân huyện Cầu Kè"


def test_the_current_code_wins_over_a_previous_one() -> None:
    directory = OrganDirectory.from_entries(
        [{"code": "000.00.17.H59", "name": "Sở Tài chính tỉnh Trà Vinh", "previous": [CODE]}]
    )
    old, new = Organ(code=CODE, name="Sở Tài chính"), Organ(code="000.00.17.H59", name="Sở TC")
    assert best_issuer(old, new, directory).code == "000.00.17.H59"
    assert best_issuer(new, old, directory).code == "000.00.17.H59"


def test_a_readable_text_wins_over_the_same_text_in_a_legacy_font() -> None:
    for legacy in (tcvn3(SUBJECT), vni(SUBJECT)):
        assert legacy != SUBJECT
        assert legacy_writing_of(legacy, SUBJECT)
        assert not legacy_writing_of(SUBJECT, legacy)
        best, lessons = best_of(doc(subject=legacy), doc(), "vxp-node")
        assert best.subject == SUBJECT
        assert lessons == (Lesson("subject", SUBJECT, "vxp-node"),)
        assert best_of(doc(), doc(subject=legacy), "mail")[1] == ()


def test_legacy_residue_counts_as_foreign() -> None:
    assert foreign_characters("Quy\u00b8t \u00ae\u00deNH") > 0
    assert foreign_characters("QЗUBND") == 1  # a Cyrillic look-alike
    assert foreign_characters("Ủy ban nhân dân huyện Tiểu Cần – “Đợt 2”") == 0


def test_a_subject_that_differs_in_substance_is_never_corrected() -> None:
    """A disagreement between roads is recorded by matching, not sent as a correction."""
    other = doc(subject="Về việc báo cáo tình hình thực hiện nhiệm vụ quý I")
    assert best_of(doc(), other, "mail") == (doc(), ())


def test_missing_fields_are_filled_and_named() -> None:
    richer = doc(
        type_name="Công văn",
        signer=Signer(position="Phó Chủ tịch", name="Trần Văn B"),
        due_on=dt.date(2024, 4, 1),
        issuer=Organ(code=CODE, name="UBND huyện Tiểu Cần"),
    )
    best, lessons = best_of(doc(), richer, "td")
    assert best.type_name == "Công văn" and best.due_on == dt.date(2024, 4, 1)
    assert best.signer is not None and best.signer.name == "Trần Văn B"
    assert best.issuer == Organ(code=CODE, name="Ủy ban nhân dân huyện Tiểu Cần")
    assert [lesson.field for lesson in lessons] == ["issuer.code", "type_name", "signer", "due_on"]
    assert best_of(best, richer, "td") == (best, ())  # nothing new the second time


def test_the_note_names_the_road_and_what_it_taught_vietnamese_first() -> None:
    note = correction_note([Lesson("issuer.code", CODE, "travinh-vxp")])
    vietnamese, english = note.split(" / ")
    assert vietnamese == f"Bổ sung theo đường travinh-vxp: mã cơ quan ban hành «{CODE}»"
    assert english == f"completed from road travinh-vxp: issuer code «{CODE}»"


NAMES = st.sampled_from(
    ["HND huyện Tiểu Cần", "Hội Nông dân huyện Tiểu Cần", "Hội nông dân huyện Tiểu Cần"]
)
WRITINGS = st.builds(
    lambda code, name, subject: doc(issuer=Organ(code=code, name=name), subject=subject),
    st.sampled_from([None, CODE]),
    NAMES,
    st.sampled_from([SUBJECT, tcvn3(SUBJECT), vni(SUBJECT), "V/v " + SUBJECT[8:]]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(WRITINGS, min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_the_best_is_the_same_whatever_order_the_roads_arrive_in(
    writings: list[Document], random: object
) -> None:
    """Folding the roads in any order gives the same document: the home copy converges."""
    shuffled = list(writings)
    random.shuffle(shuffled)  # type: ignore[attr-defined]

    def fold(roads: list[Document]) -> Document:
        return functools.reduce(lambda known, new: best_of(known, new, "r")[0], roads[1:], roads[0])

    first, second = fold(writings), fold(shuffled)
    assert first == second
    assert (first.issuer.code == CODE) == any(w.issuer.code == CODE for w in writings)
    assert foreign_characters(first.subject) == 0 or all(w.subject != SUBJECT for w in writings)
