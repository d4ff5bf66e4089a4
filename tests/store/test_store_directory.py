"""The organ directory kept by the store: each changed state appended (a deletion never
removes history), the sync's version, a failed sync keeping the last good one; both backends."""

from __future__ import annotations

import datetime as dt

from bridge.normalize.organ_history import DirectoryEntry
from tests.store.conftest import Store

A = DirectoryEntry("1", "000.01.31.H59", "Ủy ban nhân dân xã A", mail="a@tv.gov.vn", version=3)
C = DirectoryEntry("2", "000.02.31.H59", "Ủy ban nhân dân xã C", center_code="N1", version=4)


async def test_directory_history_is_appended_never_overwritten(store: Store) -> None:
    assert await store.directory_state() == {
        "organs": 0,
        "version": None,
        "synced_at": None,
        "last_error": None,
        "failed_at": None,
    }
    assert await store.directory_save([A, C], 4) == 2
    assert await store.directory_save([A, C], 4) == 0  # the same states: nothing new
    deleted = DirectoryEntry(
        "1",
        A.code,
        A.name,
        mail=A.mail,
        deleted=True,
        modified=dt.datetime(2025, 7, 1, 8, 0),
        version=5,
    )
    merged = DirectoryEntry(
        "2", C.code, C.name, center_code="N1", old_codes=("000.01.31.H59",), version=6
    )
    assert await store.directory_save([deleted, merged], 6) == 2
    history = await store.directory_history()
    assert [(e.entry_id, e.version, e.deleted) for e in history] == [
        ("1", 3, False),
        ("1", 5, True),
        ("2", 4, False),
        ("2", 6, False),
    ]
    assert history[1].modified == dt.datetime(2025, 7, 1, 8, 0)
    assert history[3].old_codes == ("000.01.31.H59",)
    current = {e.entry_id: e for e in await store.directory_entries()}
    assert current["1"].deleted and current["2"].old_codes == ("000.01.31.H59",)
    state = await store.directory_state()
    assert state["organs"] == 1 and state["version"] == 6 and state["last_error"] is None


async def test_failed_sync_keeps_the_last_good_directory(store: Store) -> None:
    await store.directory_save([A], 3)
    await store.directory_failed("Không đồng bộ được danh bạ / Directory sync failed: timeout")
    state = await store.directory_state()
    assert state["version"] == 3 and state["organs"] == 1
    assert state["last_error"].startswith("Không đồng bộ được danh bạ")
    assert [e.entry_id for e in await store.directory_history()] == ["1"]
    await store.directory_save([C], 4)  # a good sync clears the error
    state = await store.directory_state()
    assert state["last_error"] is None and state["version"] == 4 and state["organs"] == 2


async def test_failure_before_any_sync(store: Store) -> None:
    await store.directory_failed("boom")
    state = await store.directory_state()
    assert state["version"] is None and state["last_error"] == "boom"
