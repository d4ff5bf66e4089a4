"""Search as clerks type, on both backends: without diacritics, any separators, exact first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.store.postgres import PostgresStore
from bridge.store.search import fold_search, query_key
from bridge.store.sqlite import SqliteStore
from tests.store.conftest import Store, document, new_document_outcome, raw

# Subjects of the corpus style, typed by a clerk without marks.
_DOCS: list[tuple[str, str, str, str]] = [
    # number, notation, subject, type
    ("18", "QĐ-SYT", "Về việc cải cách hành chính năm 2024", "Quyết định"),
    ("1335", "UBND-HC", "Về việc họp giao ban tháng 3", "Công văn"),
    ("335", "UBND-HC", "Kế hoạch đào tạo cán bộ", "Kế hoạch"),
    ("7", "TB-VP", "Thông báo lịch trực Tết", "Thông báo"),
]


async def _fill(store: Store) -> dict[str, int]:
    ids = await store.save_records([raw(f"r{i}") for i in range(len(_DOCS))])
    by_number: dict[str, int] = {}
    for rid, (number, notation, subject, type_name) in zip(ids, _DOCS, strict=True):
        doc = document(number, subject).model_copy(
            update={"notation": notation, "type_name": type_name}
        )
        document_id = await store.apply(new_document_outcome(rid, doc, triple=f"h55|{number}|2024"))
        assert document_id is not None
        by_number[number] = document_id
    return by_number


async def _hits(store: Store, q: str | None, **kw: Any) -> list[tuple[int, bool]]:
    args: dict[str, Any] = {"unit": None, "q": q, "state": None, "limit": 50, "before": None}
    args.update(kw)
    return [(r.id, r.exact) for r in await store.search_documents(**args)]


async def test_clerk_spellings_find_the_document(store: Store) -> None:
    """No marks, Đ typed as D, spaces for separators, the type name: each finds its document."""
    ids = await _fill(store)
    assert await _hits(store, "18/QD-SYT") == [(ids["18"], True)]
    assert await _hits(store, "cai cach") == [(ids["18"], True)]
    assert await _hits(store, "CẢI CÁCH hành chính") == [(ids["18"], True)]
    assert await _hits(store, "1335 UBND HC") == [(ids["1335"], True)]
    assert await _hits(store, "1335 – ubnd/hc") == [(ids["1335"], True)]
    assert await _hits(store, "quyet dinh") == [(ids["18"], True)]
    assert await _hits(store, "thông báo") == [(ids["7"], True)]


async def test_a_number_matches_exactly_first_and_says_partial(store: Store) -> None:
    """335/UBND-HC is exact for 335 and only partial for 1335, which comes after it."""
    ids = await _fill(store)
    assert await _hits(store, "335/UBND-HC") == [(ids["335"], True), (ids["1335"], False)]
    assert await _hits(store, "Số: 1335/UBND-HC") == [(ids["1335"], True)]
    # Paging keeps the order across the exact/partial boundary.
    (first,) = await _hits(store, "335/UBND-HC", limit=1)
    rest = await _hits(store, "335/UBND-HC", before=first[0], before_rank=0)
    assert rest == [(ids["1335"], False)]
    assert await _hits(store, "335/UBND-HC", before=ids["1335"], before_rank=1) == []


async def test_no_query_lists_the_latest_but_not_merged(store: Store) -> None:
    """Without a query the newest documents come first; a merged one only when asked for."""
    ids = await _fill(store)
    newest_first = sorted(ids.values(), reverse=True)
    assert [i for i, _ in await _hits(store, None)] == newest_first
    assert [i for i, _ in await _hits(store, "/ -")] == newest_first
    assert await store.merge_documents(ids["18"], ids["7"], "test")
    assert ids["7"] not in [i for i, _ in await _hits(store, None)]
    assert [i for i, _ in await _hits(store, None, state="merged")] == [ids["7"]]


_SEPARATOR = st.sampled_from(["/", "-", " ", " / ", " – ", "—", "_", "  "])


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(a=_SEPARATOR, b=_SEPARATOR, upper=st.booleans())
def test_any_separators_give_the_symbols_key(a: str, b: str, upper: bool) -> None:
    """Whatever separators and case a clerk uses, the query key is the stored symbol's."""
    text = f"18{a}QĐ{b}SYT"
    text = text.upper() if upper else text.lower()
    stored = fold_search("18/QĐ-SYT")
    assert query_key(text) == stored == "18 qd syt"


@given(st.text(max_size=60))
def test_folding_is_idempotent_and_mark_free(text: str) -> None:
    """fold_search never raises, is idempotent, and leaves no Vietnamese mark or Đ."""
    key = fold_search(text)
    assert fold_search(key) == key
    assert not set(key) & set("đĐàáảãạăâêôơưÀÁ")


_OLD_KEY = "về việc cải cách 18/qđ-syt"  # as keys were before migration 9


async def _old_document(store: Store) -> int:
    (rid,) = await store.save_records([raw("old")])
    doc = document("18", "Về việc cải cách hành chính").model_copy(update={"notation": "QĐ-SYT"})
    document_id = await store.apply(new_document_outcome(rid, doc))
    assert document_id is not None
    return document_id


async def test_upgrade_rekeys_documents_stored_before(tmp_path: Path) -> None:
    """SQLite: a store written before migration 9 finds old documents the new way on opening."""
    path = tmp_path / "old.sqlite3"
    async with SqliteStore(path) as store:
        doc_id = await _old_document(store)
    async with aiosqlite.connect(path) as db:
        await db.execute("UPDATE documents SET search_key = ?", (_OLD_KEY,))
        await db.execute("DELETE FROM schema_version WHERE version >= 9")
        await db.commit()
    async with SqliteStore(path) as store:
        assert await _hits(store, "cai cach") == [(doc_id, True)]
        assert await _hits(store, "18 QD SYT") == [(doc_id, True)]


async def test_upgrade_rekeys_documents_stored_before_pg(pg_url: str) -> None:
    """PostgreSQL: the same upgrade, in the migration's transaction."""
    async with PostgresStore(pg_url) as store:
        doc_id = await _old_document(store)
    conn = await asyncpg.connect(pg_url, timeout=10)
    try:
        await conn.execute("UPDATE documents SET search_key = $1", _OLD_KEY)
        await conn.execute("DELETE FROM schema_version WHERE version >= 9 AND version < 1000")
    finally:
        await conn.close()
    async with PostgresStore(pg_url) as store:
        assert await _hits(store, "cai cach") == [(doc_id, True)]
        assert await _hits(store, "18 QD SYT") == [(doc_id, True)]
