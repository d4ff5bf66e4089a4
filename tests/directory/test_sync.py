"""The organ directory synced from the simulated axis node while it changes between syncs: an
organ deleted with a successor, a merger announced ahead, a rename, the version going
backwards; a failed sync keeps the last good directory; a deletion never removes history."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.vxp import VxpDirectory, VxpSettings
from bridge.blobs import BlobStore
from bridge.directory_sync import FAILED, DirectorySync
from bridge.interfaces import AdapterContext
from bridge.normalize import OrganDirectory
from bridge.normalize.organ_history import Successor
from bridge.store import SqliteStore
from simulators.vxp import VxpSim

SYSTEM, SECRET = "vxp.tv.01", "directory-node-key"
A, B, C = "000.01.31.H59", "000.02.31.H59", "000.03.31.H59"
D, F, E = "000.04.31.H59", "000.06.31.H59", "000.00.12.H59"
MERGER = dt.datetime(2025, 7, 1, 0, 0)
BEFORE, ON = dt.date(2025, 6, 30), dt.date(2025, 7, 1)


@pytest.fixture
async def sim() -> AsyncIterator[VxpSim]:
    server = VxpSim(seed=3, systems={SYSTEM: SECRET})
    d = server.directory
    d.put("100", "000.00.00.H59", "Ủy ban nhân dân tỉnh Trà Vinh", is_agency=False)
    d.put("1", A, "Ủy ban nhân dân xã An Phú", pid="100", center_code="N1", mail="anphu@tv.vn")
    d.put("2", B, "Ủy ban nhân dân xã Bình Phú", pid="100", center_code="N2")
    d.put("4", D, "Ủy ban nhân dân xã Đông Hải", pid="100", center_code="N4")
    d.put("5", E, "Sở Văn hóa tỉnh Trà Vinh", pid="100", center_code="N5")
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "lienthong.sqlite3") as opened:
        yield opened


def _node(sim: VxpSim, tmp: Path) -> VxpDirectory:
    settings = VxpSettings(
        name="tv-vxp", base_url=sim.base_url, system_id=SYSTEM, secret=SECRET, timeout_s=5
    )
    return VxpDirectory(settings, AdapterContext(units=(), blobs=BlobStore(tmp / "blobs")))


def _sync(sim: VxpSim, store: SqliteStore, directory: OrganDirectory, tmp: Path) -> DirectorySync:
    return DirectorySync(store, directory, lambda: _node(sim, tmp), lambda: 3600.0)


async def _synced_after_changes(
    sim: VxpSim, store: SqliteStore, tmp: Path
) -> tuple[OrganDirectory, DirectorySync, int]:
    """The directory changed on the axis and synced once: the resolver, its sync, the version."""
    directory = OrganDirectory()
    sync = _sync(sim, store, directory, tmp)
    _change_the_directory(sim)
    assert await sync.sync_once()
    return directory, sync, (await store.directory_state())["version"]


def _change_the_directory(sim: VxpSim) -> None:
    d = sim.directory
    # two communes merged into a new one on 1 July 2025 (its own earlier code in QĐ 20 form)
    d.put(
        "3",
        C,
        "Ủy ban nhân dân xã Phú Hòa",
        pid="100",
        center_code="N3",
        old_codes=(A, B, "H59.31.99.000"),
        modified=MERGER,
    )
    d.delete("1", MERGER)
    d.delete("2", MERGER)
    # a merger announced ahead: D is not deleted yet, F names it, effective 1 September
    d.put(
        "6",
        F,
        "Ủy ban nhân dân xã Long Hải",
        pid="100",
        center_code="N6",
        old_codes=(D,),
        modified=dt.datetime(2025, 9, 1),
    )
    d.rename("5", "Sở Văn hóa, Thể thao và Du lịch tỉnh Trà Vinh", dt.datetime(2025, 8, 15, 9))


async def test_changes_between_syncs(sim: VxpSim, store: SqliteStore, tmp_path: Path) -> None:
    directory = OrganDirectory()
    sync = _sync(sim, store, directory, tmp_path)
    assert await sync.sync_once()
    first = (await store.directory_state())["version"]
    assert first == 5 and directory.resolve_at(A, ON).code == A  # nothing merged yet
    _change_the_directory(sim)
    assert await sync.sync_once()
    assert sim.directory.calls[-1] == ("getSynchronizeUnit", first)  # incremental
    state = await store.directory_state()
    assert state["version"] == sim.directory.version and state["organs"] == 5

    # deleted with a successor: the old organ before the cut-over, the successor from it on
    before, after = directory.resolve_at(A, BEFORE), directory.resolve_at(A, ON)
    assert (before.code, before.deleted, before.successor) == (A, True, C)
    assert "trước ngày sáp nhập 2025-07-01" in before.reason
    assert (after.code, after.since, after.has_node, after.deleted) == (C, ON, True, False)
    assert not directory.same_organ(A, B, BEFORE) and directory.same_organ(A, B, ON)
    assert set(directory.resolve_at(C).old_codes) >= {"H59.31.99.000"}
    assert directory.resolve_at("000.99.31.H59").code == C  # its earlier code, other format
    # announced ahead: in force on its date only
    assert directory.resolve_at(D, dt.date(2025, 8, 31)).code == D
    assert directory.resolve_at(D, dt.date(2025, 9, 1)).code == F
    assert directory.resolve_at(D, dt.date(2025, 8, 31)).has_node  # still receives
    # renamed: each name on its dates, by name too
    assert directory.resolve_at(E, dt.date(2025, 8, 1)).name == "Sở Văn hóa tỉnh Trà Vinh"
    assert (directory.resolve_at(E, dt.date(2025, 8, 15)).name or "").startswith("Sở Văn hóa, Thể")
    by_old_name = directory.resolve_at("Sở Văn hóa tỉnh Trà Vinh", dt.date(2025, 8, 1))
    assert by_old_name.code == E and "tên trong danh bạ" in by_old_name.reason
    assert directory.resolve_at("UBND xã An Phú", BEFORE).code == A  # Decree 30 spelling
    assert directory.resolve_at("UBND xã An Phú", ON).code == C
    # the configuration wins: a successor dated by hand
    directory.set_successors([Successor(A, C, dt.date(2025, 6, 15))])
    assert directory.resolve_at(A, dt.date(2025, 6, 20)).code == C
    assert directory.resolve_at(B, dt.date(2025, 6, 20)).code == B


async def test_version_backwards_reads_everything_again(
    sim: VxpSim, store: SqliteStore, tmp_path: Path
) -> None:
    directory, sync, stored = await _synced_after_changes(sim, store, tmp_path)
    history = len(await store.directory_history())
    sim.directory.restore_older()  # versions start again from 1
    sim.directory.rename("4", "Ủy ban nhân dân xã Đông Hải Mới", dt.datetime(2025, 8, 20))
    assert sim.directory.version < stored
    assert await sync.sync_once()
    assert sim.directory.calls[-2:] == [("getSynchronizeUnit", stored), ("getSynchronizeUnit", 0)]
    assert (await store.directory_state())["version"] == sim.directory.version
    assert len(await store.directory_history()) == history + 1  # the rename, nothing lost
    assert directory.resolve_at(D, dt.date(2025, 8, 19)).name == "Ủy ban nhân dân xã Đông Hải"
    assert (directory.resolve_at(D, dt.date(2025, 8, 20)).name or "").endswith("Đông Hải Mới")
    # an incremental sync afterwards asks from the new, lower version
    assert await sync.sync_once()
    assert sim.directory.calls[-1] == ("getSynchronizeUnit", sim.directory.version)


async def test_failed_sync_keeps_the_last_good_directory(
    sim: VxpSim, store: SqliteStore, tmp_path: Path
) -> None:
    directory, sync, version = await _synced_after_changes(sim, store, tmp_path)
    sim.fail["getSynchronizeUnit"] = ("2009", "Lỗi truy vấn danh bạ")
    assert not await sync.sync_once()
    state = await store.directory_state()
    assert state["version"] == version and state["last_error"].startswith(FAILED)
    assert "Lỗi truy vấn danh bạ" in state["last_error"]
    assert directory.resolve_at(A, ON).code == C  # still in force
    # a restart with the axis still failing: the stored directory is loaded
    again = OrganDirectory()
    restarted = _sync(sim, store, again, tmp_path)
    await restarted.load()
    assert not await restarted.sync_once()
    assert again.resolve_at(A, ON).code == C and again.resolve_at(A, BEFORE).code == A
    del sim.fail["getSynchronizeUnit"]
    assert await sync.sync_once()
    assert (await store.directory_state())["last_error"] is None


async def test_deletion_never_removes_history(
    sim: VxpSim, store: SqliteStore, tmp_path: Path
) -> None:
    directory = OrganDirectory()
    sync = _sync(sim, store, directory, tmp_path)
    assert await sync.sync_once()
    sim.directory.delete("1", MERGER)
    assert await sync.sync_once()
    states = [e for e in await store.directory_history() if e.entry_id == "1"]
    assert [(s.deleted, s.center_code) for s in states] == [(False, "N1"), (True, "")]
    found = directory.resolve_at(A, BEFORE)
    assert found.known and found.deleted and found.name == "Ủy ban nhân dân xã An Phú"
    assert not found.has_node and found.mail == "anphu@tv.vn"
    # no successor named: the old code stays the old organ, deleted, on any date
    assert directory.resolve_at(A, dt.date(2026, 1, 1)).code == A


async def test_agencies_lists_the_organs_not_deleted(sim: VxpSim, tmp_path: Path) -> None:
    _change_the_directory(sim)
    async with _node(sim, tmp_path) as node:
        listed = await node.agencies()
    assert {e.code for e in listed} == {"000.00.00.H59", C, D, E, F}
    merged = next(e for e in listed if e.code == C)
    assert merged.old_codes == (A, B, "H59.31.99.000") and not merged.deleted
