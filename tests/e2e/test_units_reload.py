"""A unit added to the units table while the daemon runs starts receiving from real
simulators without a restart; a unit disabled there stops; the others go on untouched, the
axis node they share included (it takes the new set of units as it runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bridge.unit_table import write_table
from simulators.demo_data import generate
from simulators.moffice import MofficeSim
from simulators.vxp import DEFAULT_SECRET, DEFAULT_SYSTEM, VxpSim
from tests.faults.harness import DaemonProcess, running, wait_until

A, B = "000.01.01.H49", "000.01.02.H49"
COLUMNS = ["code", "name", "area", "enabled", "moffice.username", "vxp.system_id"]
COLUMNS += ["home.profile", "home.path"]


def _row(tmp: Path, code: str, enabled: bool = True) -> dict[str, str]:
    return {
        "code": code,
        "name": f"Ủy ban nhân dân xã {code[-6:-4]}",
        "area": "Vân Đồn",
        "enabled": "true" if enabled else "false",
        "moffice.username": "vanthu",
        "vxp.system_id": DEFAULT_SYSTEM,
        "home.profile": "folder",
        "home.path": str(tmp / "out" / code),
    }


def _delivered(tmp: Path, code: str) -> int:
    folder = tmp / "out" / code
    return len(list(folder.glob("*.json"))) if folder.is_dir() else 0


def _events(daemon: DaemonProcess, event: str) -> list[dict[str, Any]]:
    found = []
    for line in daemon.log_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == event:
            found.append(entry)
    return found


def _add(sim: MofficeSim, code: str, count: int, seed: int, first: int = 0) -> None:
    """The documents `first`… of the series `seed` gives `code` (one series, so a later call
    with a higher `count` adds new documents, not duplicates)."""
    for s in generate(seed=seed, count=count, units=[code])[first:]:
        sim.add_document(s.document, s.files, unit=code)


def _on_axis(axis: VxpSim, code: str, seed: int) -> None:
    """A document for `code` by the axis alone (its own series: never one of M-Office's)."""
    (doc,) = generate(seed=seed, count=1, units=[code])
    axis.add_document(doc.document, doc.files, unit=code)


async def test_units_added_and_disabled_in_the_table_while_running(tmp_path: Path) -> None:
    async with running(MofficeSim(seed=1)) as mo, running(VxpSim(seed=1)) as axis:
        _add(mo, A, 3, seed=1)
        _add(mo, B, 2, seed=2)
        daemon = DaemonProcess(tmp_path, {"units": []})
        daemon.config_path.write_text(
            f'[bridge]\ndata_dir = "{daemon.data_dir}"\nshutdown_grace = 5\n'
            'units_table = "units.csv"\nunits_check_interval = 0.3\n'
            f'[http]\nlisten = "127.0.0.1:{daemon.port}"\n'
            "[defaults]\npoll_interval = 0.2\n"
            f'[defaults.moffice]\nbase_url = "{mo.base_url}"\npassword = "{mo.password}"\n'
            f'[defaults.vxp]\nbase_url = "{axis.base_url}"\nsecret = "{DEFAULT_SECRET}"\n',
            encoding="utf-8",
        )
        table = tmp_path / "units.csv"
        write_table(table, COLUMNS, [_row(tmp_path, A)])
        await daemon.start()
        try:
            await wait_until(lambda: _delivered(tmp_path, A) == 3, timeout_s=30, what="A's 3")
            assert _delivered(tmp_path, B) == 0
            pid = daemon.proc.pid if daemon.proc else None

            write_table(table, COLUMNS, [_row(tmp_path, A), _row(tmp_path, B)])
            await wait_until(lambda: _events(daemon, "reloaded"), timeout_s=30, what="reload")
            _on_axis(axis, B, seed=100)  # the node serves B now: its message is B's
            await wait_until(lambda: _delivered(tmp_path, B) == 3, timeout_s=30, what="B's 3")
            assert daemon.proc is not None and daemon.proc.returncode is None
            assert daemon.proc.pid == pid
            (added,) = _events(daemon, "reloaded")
            assert added["stopped"] == []
            assert sorted(added["started"]) == [f"{B}-home", f"{B}-moffice"]
            assert added["units_changed"] == [f"{A}-vxp"], "the node took B as it ran"
            started = [e["name"] for e in _events(daemon, "endpoint_started")]
            assert all(started.count(f"{A}-{road}") == 1 for road in ("moffice", "vxp", "home"))

            write_table(table, COLUMNS, [_row(tmp_path, A, enabled=False), _row(tmp_path, B)])
            await wait_until(
                lambda: len(_events(daemon, "reloaded")) == 2, timeout_s=30, what="reload"
            )
            disabled = _events(daemon, "reloaded")[1]
            # the node was named after A's vxp source: it goes on under B's
            assert sorted(disabled["stopped"]) == [f"{A}-home", f"{A}-moffice", f"{A}-vxp"]
            assert disabled["started"] == [f"{B}-vxp"]
            _add(mo, A, 4, seed=1, first=3)  # one more document each
            _add(mo, B, 3, seed=2, first=2)
            await wait_until(lambda: _delivered(tmp_path, B) == 4, timeout_s=30, what="B's 4th")
            assert _delivered(tmp_path, A) == 3, "a disabled unit receives nothing more"
            status = await daemon.get_json("/status")
            assert [u["id"] for u in status["units"]] == [B], "a disabled unit is not run"

            broken = {**_row(tmp_path, B), "home.profile": "tdofice"}
            write_table(table, COLUMNS, [_row(tmp_path, A, enabled=False), broken])
            await wait_until(
                lambda: _events(daemon, "reload_refused"), timeout_s=30, what="refused"
            )
            (refused,) = _events(daemon, "reload_refused")
            assert any(
                f"units[{B}].sinks[{B}-home].profile" in e and "units.csv dòng 3" in e
                for e in refused["errors"]
            ), refused
            _add(mo, B, 4, seed=2, first=3)
            await wait_until(
                lambda: _delivered(tmp_path, B) == 5, timeout_s=30, what="B on the old table"
            )
        finally:
            assert await daemon.stop() == 0
