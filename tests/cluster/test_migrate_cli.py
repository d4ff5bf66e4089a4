"""`lienthong migrate-store`: a deployment moves from SQLite to PostgreSQL and carries on there."""

from __future__ import annotations

import asyncio
import hashlib
import signal
import sys
from pathlib import Path
from typing import Any

from bridge.store import SqliteStore
from simulators.tdoffice import TdofficeSim
from tests.cluster.conftest import ROOT, DaemonProcess, cluster_config, free_port, fresh_pg_url
from tests.e2e.harness import UNIT, delivered_symbols, make_doc, wait_until
from tests.store.conftest import raw
from tests.store.pg_server import PgServer

BEFORE, PENDING = 8, 3  # delivered before the move; stored while the home system was down
TOTALS = ("received", "documents", "duplicates", "quarantined", "delivered", "pending", "dead")


async def _cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _totals(daemon: DaemonProcess) -> dict[str, Any]:
    status = await daemon.status()
    assert status is not None
    return {k: status["totals"][k] for k in TOTALS}


async def _wait_totals(daemon: DaemonProcess, **expected: int) -> None:
    async def reached() -> bool:
        status = await daemon.status()
        totals = status["totals"] if status else {}
        return all(totals.get(k) == v for k, v in expected.items())

    await wait_until(reached, timeout_s=60, what=f"/status totals {expected}")


def _files_intact(home: TdofficeSim, expected: dict[str, str]) -> bool:
    """Every file the home system received has the bytes the source served (by name)."""
    for body in home.received.values():
        for att in body["attachments"]:
            stored = home.files[att["fileId"]]
            if expected.get(stored.name) != stored.sha256:
                return False
    return True


async def _run_on_sqlite(
    tmp_path: Path, source: TdofficeSim, home: TdofficeSim, daemons: list[DaemonProcess]
) -> tuple[Path, dict[str, Any]]:
    """A SQLite daemon delivers BEFORE documents, then stores PENDING while home is down."""
    data = tmp_path / "sqlite-data"
    config = cluster_config(
        data, database="sqlite", port=free_port(), sources={"src": source}, home=home
    )
    daemon = DaemonProcess.write("sqlite", tmp_path, config)
    daemons.append(daemon)
    await daemon.start()
    await wait_until(lambda: len(home.received) == BEFORE, timeout_s=60, what="first deliveries")
    home.faults.down = True
    for i in range(BEFORE, BEFORE + PENDING):
        source.add_document(*make_doc(i), unit=UNIT)
    await _wait_totals(daemon, received=BEFORE + PENDING, pending=PENDING, delivered=BEFORE)
    totals = await _totals(daemon)
    assert await daemon.signal(signal.SIGTERM) == 0
    return data / "lienthong.sqlite3", totals


async def test_migrate_store_then_carry_on_on_postgresql(
    tmp_path: Path, pg_server: PgServer, daemons: list[DaemonProcess]
) -> None:
    """After migrate-store, a daemon on PostgreSQL (with an empty data folder) shows the same
    totals, resumes from the migrated cursor without re-reading or redelivering anything, and
    delivers what was pending with its files intact, served from PostgreSQL blobs."""
    pg_url = await fresh_pg_url(pg_server)
    expected: dict[str, str] = {}
    source, home = TdofficeSim(api_key="src"), TdofficeSim(api_key="home")
    async with source, home:
        for i in range(BEFORE + PENDING + 1):
            doc, files = make_doc(i)
            expected |= {name: hashlib.sha256(b).hexdigest() for name, b in files.items()}
            if i < BEFORE:
                source.add_document(doc, files, unit=UNIT)
        path, before = await _run_on_sqlite(tmp_path, source, home, daemons)

        code, out, err = await _cli("migrate-store", "--from", f"sqlite:{path}", "--to", pg_url)
        assert code == 0, err
        assert f"records: {BEFORE + PENDING}" in out and f"blobs: {BEFORE + PENDING}" in out

        config = cluster_config(
            tmp_path / "pg-data",
            database=pg_url,
            port=free_port(),
            sources={"src": source},
            home=home,
            instance="after-move",
        )
        daemon = DaemonProcess.write("postgres", tmp_path, config)
        daemons.append(daemon)
        seen = len(source.requests)
        await daemon.start()
        await wait_until(daemon.answers, timeout_s=60, what="the PostgreSQL daemon")
        await wait_until(
            lambda: len(source.requests) > seen + 1, timeout_s=30, what="a pull from the source"
        )
        assert await _totals(daemon) == before
        pulls = [r for r in source.requests[seen:] if r.path.endswith("/inbox")]
        assert pulls and all("cursor" in r.query for r in pulls), "resumed from the cursor"

        home.faults.down = False
        doc, files = make_doc(BEFORE + PENDING)
        source.add_document(doc, files, unit=UNIT)
        total = BEFORE + PENDING + 1
        await wait_until(lambda: len(home.received) == total, timeout_s=90, what="all delivered")
        await asyncio.sleep(1.0)  # anything delivered twice would arrive now
        symbols = delivered_symbols(home)
        assert len(symbols) == len(set(symbols)) == total
        assert _files_intact(home, expected)
        await _wait_totals(daemon, received=total, delivered=total, pending=0)
        assert await daemon.signal(signal.SIGTERM) == 0


async def test_migrate_store_refuses_with_a_one_line_reason(
    tmp_path: Path, pg_server: PgServer
) -> None:
    """Exit 1 with one Vietnamese/English line for a non-empty target and an unreachable server."""
    pg_url = await fresh_pg_url(pg_server)
    path = tmp_path / "lienthong.sqlite3"
    code, _, err = await _cli("migrate-store", "--from", f"sqlite:{path}", "--to", pg_url)
    assert code == 1 and "no such file" in err and len(err.strip().splitlines()) == 1
    async with SqliteStore(path) as store:
        await store.save_records([raw("a")])
    assert (await _cli("migrate-store", "--from", f"sqlite:{path}", "--to", pg_url))[0] == 0
    code, _, err = await _cli("migrate-store", "--from", f"sqlite:{path}", "--to", pg_url)
    assert code == 1 and "target is not empty" in err and "đã có dữ liệu" in err
    assert len(err.strip().splitlines()) == 1
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/lienthong"
    code, _, err = await _cli("migrate-store", "--from", f"sqlite:{path}", "--to", nowhere)
    assert code == 1 and "cannot connect" in err and len(err.strip().splitlines()) == 1
