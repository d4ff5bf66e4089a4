"""The outbox rule: which rows a decision's wanted deliveries become, given the rows so far."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.outbox import NewDelivery, needs_existing, outbox_rows


def test_a_create_is_always_owed() -> None:
    assert outbox_rows([("u1", "home", "create", 1)]) == [NewDelivery("u1", "home", "create", 1)]


def test_an_update_needs_a_create_at_that_sink() -> None:
    wanted = [("u1", "home", "update", 2), ("u1", "other", "update", 2)]
    existing = [("u1", "home", "create", "delivered")]
    assert outbox_rows(wanted, existing) == [NewDelivery("u1", "home", "update", 2)]


def test_nothing_changes_at_a_sink_whose_create_was_cancelled() -> None:
    existing = [("u1", "home", "create", "cancelled")]
    for op in ("update", "revoke", "correct"):
        assert outbox_rows([("u1", "home", op, 2)], existing) == []


def test_a_create_made_by_the_same_decision_counts() -> None:
    wanted = [("u1", "home", "create", 1), ("u1", "home", "revoke", 1)]
    assert [r.op for r in outbox_rows(wanted)] == ["create", "revoke"]


def test_the_first_create_decides() -> None:
    """A create asked for again does not revive a cancelled one (the store ignores it)."""
    existing = [("u1", "home", "create", "cancelled")]
    wanted = [("u1", "home", "create", 1), ("u1", "home", "update", 2)]
    assert [r.op for r in outbox_rows(wanted, existing)] == ["create"]


def test_corrections_are_numbered_after_those_made_and_carry_the_note() -> None:
    existing = [
        ("u1", "home", "create", "delivered"),
        ("u1", "home", "correct", "delivered"),
        ("u1", "other", "create", "delivered"),
    ]
    wanted = [
        ("u1", "home", "correct", 9),
        ("u1", "home", "correct", 9),
        ("u1", "other", "correct", 9),
    ]
    rows = outbox_rows(wanted, existing, note="số: A taught")
    assert [(r.sink, r.revision, r.note) for r in rows] == [
        ("home", 2, "số: A taught"),
        ("home", 3, "số: A taught"),
        ("other", 1, "số: A taught"),
    ]


def test_only_corrections_carry_the_note() -> None:
    existing = [("u1", "home", "create", "delivered")]
    rows = outbox_rows([("u1", "home", "update", 2)], existing, note="n")
    assert rows == [NewDelivery("u1", "home", "update", 2, None)]


def test_existing_rows_are_needed_only_beyond_creates() -> None:
    assert not needs_existing([("u1", "home", "create", 1), ("u2", "home", "create", 1)])
    assert needs_existing([("u1", "home", "create", 1), ("u1", "home", "update", 2)])


_SINKS = st.sampled_from([("u1", "home"), ("u1", "other"), ("u2", "home")])
_OPS = st.sampled_from(["create", "update", "revoke", "correct"])
_STATES = st.sampled_from(["pending", "delivered", "dead", "cancelled"])


@given(
    st.lists(st.tuples(_SINKS, _OPS, st.integers(1, 5))),
    st.lists(st.tuples(_SINKS, _OPS, _STATES)),
)
def test_no_change_is_owed_where_nothing_was_created(
    wanted: list[tuple[tuple[str, str], str, int]],
    existing: list[tuple[tuple[str, str], str, str]],
) -> None:
    """Every row that is not a create goes to a sink holding a create not cancelled, made
    before it or by the same decision."""
    flat_existing = [(u, s, op, state) for (u, s), op, state in existing]
    rows = outbox_rows([(u, s, op, rev) for (u, s), op, rev in wanted], flat_existing)
    first: dict[tuple[str, str], str] = {}
    for u, s, op, state in flat_existing:
        if op == "create":
            first.setdefault((u, s), state)
    for row in rows:
        if row.op == "create":
            first.setdefault((row.unit, row.sink), "pending")
        else:
            assert first.get((row.unit, row.sink), "cancelled") != "cancelled"
