"""The status mirror: what a sender hears of its document's processing at home."""

from __future__ import annotations

import pytest

from bridge.domain.status_mirror import (
    EDXML_STATUS_CODES,
    StatusReply,
    hears_status,
    home_reply,
    is_final,
    is_mirrored,
    reported_in_order,
)

ORGAN = {"OrganId": "000.00.01.H55"}
REF = {"Code": "335/UBND-HC"}


def test_home_reply_uses_the_vocabulary_code_and_the_note() -> None:
    reply = home_reply("u1", ORGAN, REF, "assigned", "phòng Tổng hợp")
    assert reply == StatusReply("04", "phân công / assigned: phòng Tổng hợp", "u1", ORGAN, REF)
    assert home_reply("u1", ORGAN, REF, "done", None).description == "hoàn thành / done"


def test_the_vocabulary_is_an_input() -> None:
    codes = {"done": ("DONE", "xong / finished")}
    assert home_reply("u1", ORGAN, REF, "done", None, codes).code == "DONE"
    assert not is_mirrored("received", codes)
    with pytest.raises(KeyError):
        home_reply("u1", ORGAN, REF, "received", None, codes)


def test_which_statuses_end_the_polling_and_which_are_mirrored() -> None:
    assert is_final("done") and is_final("rejected")
    assert not is_final("processing")
    assert all(is_mirrored(s) for s in ("received", "assigned", "processing", "done"))
    assert not is_mirrored("unknown")
    assert EDXML_STATUS_CODES["rejected"][0] == "02"


def test_only_roads_that_join_the_document_hear_and_only_when_they_asked() -> None:
    first = StatusReply("01", "đã đến / arrived", "u1", ORGAN, REF)
    for outcome in ("document", "duplicate", "revision"):
        assert hears_status(outcome, [first])
        assert not hears_status(outcome, [])
    assert not hears_status("quarantined", [first])
    assert not hears_status("waiting", [first])


def test_a_late_road_hears_what_was_reported_in_the_order_of_the_home_flow() -> None:
    events = [
        ("done", "xong", 7),
        ("received", None, 3),
        ("unknown", None, 4),
        ("processing", "a", 5),
        ("processing", "b", 2),
    ]
    assert reported_in_order(events) == [
        ("received", None),
        ("processing", "b"),
        ("processing", "a"),
        ("done", "xong"),
    ]
