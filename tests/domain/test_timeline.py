"""A document's timeline: entries from every kind of row, in time order, ties in causal order."""

from __future__ import annotations

from typing import Any

from bridge.domain.timeline import timeline, without

T0 = "2026-03-06T08:00:00.000+00:00"
T1 = "2026-03-06T08:00:01.000+00:00"
T2 = "2026-03-06T15:00:02.000+07:00"  # 08:00:02 UTC: another offset still sorts by the instant
T3 = "2026-03-06T08:00:03.000+00:00"


def test_every_kind_in_time_order() -> None:
    rows: dict[str, list[dict[str, Any]]] = {
        "records": [
            {"id": 2, "source": "td", "unit": "u1", "external_id": "e2", "received_at": T2,
             "outcome": "duplicate", "decision": {"rule": "triple", "candidate": 7,
                                                   "corrected": [{"field": "subject"}]}},
            {"id": 1, "source": "vxp", "unit": "u1", "external_id": "e1", "received_at": T0,
             "outcome": "document", "decision": {"rule": "new"}},
        ],
        "deliveries": [
            {"id": 5, "sink": "home", "unit": "u1", "op": "create", "revision": 1,
             "state": "delivered", "attempts": 2, "last_error": None, "remote_id": "R-1",
             "created_at": T0, "done_at": T1, "note": None},
            {"id": 6, "sink": "home", "unit": "u1", "op": "correct", "revision": 1,
             "state": "pending", "attempts": 1, "last_error": "503", "remote_id": None,
             "created_at": T2, "done_at": None, "note": "trích yếu từ td"},
        ],
        "home": [{"sink": "home", "status": "done", "note": None, "updated_at": T3}],
        "sent": [{"source": "vxp", "code": "01", "description": "đã nhận", "state": "pending",
                  "created_at": T1, "sent_at": None, "last_error": None}],
        "audit": [{"id": 1, "at": T3, "actor": "lan", "action": "split",
                   "target": "document:7", "detail": {}}],
    }  # fmt: skip
    entries = timeline(rows)
    assert [(e["kind"], e["at"]) for e in entries] == [
        ("record", T0),
        ("decision", T0),
        ("delivery_queued", T0),
        ("delivery_done", T1),
        ("status_out", T1),
        ("record", T2),
        ("decision", T2),
        ("delivery_queued", T2),
        ("action", T3),
        ("status_in", T3),
        ("delivery_retrying", None),
    ]
    assert entries[3]["remote_id"] == "R-1" and entries[3]["attempts"] == 2
    assert entries[6]["corrected"] == [{"field": "subject"}] and entries[6]["candidate"] == 7
    assert entries[7]["op"] == "correct" and entries[7]["note"] == "trích yếu từ td"
    assert entries[-1]["last_error"] == "503"


def test_pending_without_attempts_has_no_result_and_bad_times_go_last() -> None:
    rows: dict[str, list[dict[str, Any]]] = {
        "deliveries": [
            {"id": 1, "sink": "home", "unit": "u1", "op": "create", "revision": 1,
             "state": "pending", "attempts": 0, "created_at": "not a time"},
        ],
        "records": [{"id": 1, "source": "td", "received_at": "2026-03-06T08:00:00",
                     "outcome": None, "decision": None}],
    }  # fmt: skip
    entries = timeline(rows)
    assert [e["kind"] for e in entries] == ["record", "delivery_queued"]


def test_a_home_status_never_goes_before_the_delivery_it_is_about() -> None:
    """The home's clock counts seconds: its "received" reads earlier than our delivery."""
    early = "2026-03-06T14:59:59+07:00"  # 07:59:59 UTC, before the delivery at 08:00:01
    rows: dict[str, list[dict[str, Any]]] = {
        "deliveries": [
            {"id": 1, "sink": "home", "unit": "u1", "op": "create", "revision": 1,
             "state": "delivered", "attempts": 1, "remote_id": "R", "created_at": T0,
             "done_at": T1},
        ],
        "home": [
            {"sink": "home", "status": "received", "updated_at": early},
            {"sink": "other", "status": "received", "updated_at": early},
        ],
    }  # fmt: skip
    entries = timeline(rows)
    assert [(e["kind"], e.get("sink"), e["at"]) for e in entries] == [
        ("status_in", "other", early),  # no delivery to that sink here: its own time
        ("delivery_queued", "home", T0),
        ("delivery_done", "home", T1),
        ("status_in", "home", early),
    ]


def test_empty() -> None:
    assert timeline({}) == []


def test_without_the_endpoints_an_operator_does_not_see() -> None:
    entries = [
        {"at": T0, "kind": "record", "source": "commune-td"},
        {"at": T0, "kind": "record", "source": "district-td"},
        {"at": T1, "kind": "delivery_queued", "sink": "district-home"},
        {"at": T2, "kind": "action", "actor": "lan"},
    ]
    assert without(entries, set()) == entries
    assert without(entries, {"district-td", "district-home"}) == [entries[0], entries[3]]
