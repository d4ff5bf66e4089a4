"""The dialect: one statement, as each backend's driver takes it."""

from __future__ import annotations

from bridge.store.dialect import POSTGRES, SQLITE


def test_sqlite_takes_numbered_placeholders_and_no_casts() -> None:
    statement = "UPDATE t SET a = $1, b = $10::float8 WHERE c = ANY($2::bigint[]) AND d = $1"
    assert SQLITE.sql(statement) == "UPDATE t SET a = ?1, b = ?10 WHERE c = ANY(?2) AND d = ?1"
    assert POSTGRES.sql(statement) == statement


def test_json_paths_and_text_are_left_alone() -> None:
    append = SQLITE.json_append("conflicts", "$2")
    assert SQLITE.sql(append) == "json_insert(conflicts, '$[#]', json(?2))"
    assert POSTGRES.json_append("c", "$2") == "c || jsonb_build_array($2::jsonb)"


def test_due_rows_are_claimed_only_where_several_instances_share_the_database() -> None:
    sqlite = SQLITE.sql(SQLITE.pick("outbox", "outbox_pending", "o.id", "o.sink = $1"))
    assert sqlite == (
        "SELECT o.id FROM outbox o INDEXED BY outbox_pending WHERE o.sink = ?1"
        " ORDER BY o.id LIMIT ?3"
    )
    claimed = POSTGRES.pick("outbox", "outbox_pending", "o.id", "o.sink = $1")
    assert "FOR UPDATE OF o SKIP LOCKED" in claimed
    assert "SET claimed_by = $4, claimed_until = $2 + $5::float8" in claimed
    assert "INDEXED BY" not in claimed


def test_boolean_literals_match_each_backends_partial_indexes() -> None:
    assert (SQLITE.false, SQLITE.true) == ("0", "1")
    assert (POSTGRES.false, POSTGRES.true) == ("FALSE", "TRUE")
