"""Three daemons on one PostgreSQL database, killed and restarted while documents flow: every
document reaches the home system exactly once, and /status on any of them shows the cluster."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from simulators.tdoffice import TdofficeSim
from tests.cluster.conftest import DaemonProcess, cluster_config, free_port, fresh_pg_url
from tests.e2e.harness import UNIT, delivered_symbols, make_doc, wait_until
from tests.store.pg_server import PgServer

INSTANCES = ("i1", "i2", "i3")
SOURCES = ("s1", "s2", "s3")
BATCHES = (range(0, 30), range(30, 60), range(60, 90))
TOTAL = 90
LEASE_TTL_S = 3.0
SECOND_ROAD_EVERY = 6  # every sixth document also arrives by a second source


def _feed(sources: dict[str, TdofficeSim], numbers: range) -> int:
    """Publish documents (some by two roads); returns how many source records that made."""
    records = 0
    names = list(sources)
    for i in numbers:
        doc, files = make_doc(i)
        sources[names[i % 3]].add_document(doc, files, unit=UNIT)
        records += 1
        if i % SECOND_ROAD_EVERY == 0:
            sources[names[(i + 1) % 3]].add_document(doc, files, unit=UNIT)
            records += 1
    return records


async def _delivered(home: TdofficeSim, count: int, what: str) -> None:
    await wait_until(lambda: len(home.received) >= count, timeout_s=120, what=what)


async def _settled(daemon: DaemonProcess, records: int) -> dict[str, Any]:
    """/status once the whole cluster's work is done, as this instance reports it."""
    last: dict[str, Any] = {}

    async def done() -> bool:
        nonlocal last
        last = await daemon.status() or {}
        totals = last.get("totals", {})
        return (
            totals.get("received") == records
            and totals.get("pending") == 0
            and all(lease["live"] for lease in last["cluster"]["leases"])
        )

    await wait_until(done, timeout_s=60, what=f"{daemon.name} to show the finished cluster")
    return last


async def _owns_everything(daemon: DaemonProcess) -> None:
    async def owns() -> bool:
        status = await daemon.status() or {"cluster": {"leases": []}}
        leases = status["cluster"]["leases"]
        return len(leases) == 4 and all(
            lease["owner"] == daemon.name and lease["live"] for lease in leases
        )

    await wait_until(owns, timeout_s=30, what=f"{daemon.name} to hold every lease")


def _check_cluster_view(status: dict[str, Any], name: str, records: int) -> None:
    totals = status["totals"]
    duplicates = records - TOTAL
    assert (totals["documents"], totals["duplicates"]) == (TOTAL, duplicates), totals
    assert (totals["delivered"], totals["dead"], totals["quarantined"]) == (TOTAL, 0, 0), totals
    assert totals["unprocessed"] == 0
    cluster = status["cluster"]
    assert cluster["instance"] == name
    owners = {lease["resource"]: lease["owner"] for lease in cluster["leases"]}
    assert set(owners) == {"processor", *(f"source:{s}" for s in SOURCES)}
    assert set(owners.values()) <= set(INSTANCES)
    (unit,) = status["units"]
    assert sum(s["received"] for s in unit["sources"]) == records


async def test_three_instances_survive_kills_and_deliver_each_document_once(
    tmp_path: Path, pg_server: PgServer, daemons: list[DaemonProcess]
) -> None:
    """SIGKILL at different moments, restarts, sources read by two roads: the home system gets
    each of 90 documents exactly once, and every instance's /status shows the same cluster."""
    pg_url = await fresh_pg_url(pg_server)
    s1, s2, s3 = (TdofficeSim(api_key=f"k{n}", seed=n) for n in (1, 2, 3))
    home = TdofficeSim(api_key="home", seed=4)
    async with s1, s2, s3, home:
        home.faults.error_rate = 0.1  # deliveries are retried now and then
        sources = dict(zip(SOURCES, (s1, s2, s3), strict=True))
        for name in INSTANCES:
            config = cluster_config(
                tmp_path / name / "data",
                database=pg_url,
                port=free_port(),
                sources=sources,
                home=home,
                instance=name,
                lease_ttl=LEASE_TTL_S,
            )
            daemons.append(DaemonProcess.write(name, tmp_path / name, config))
        i1, i2, i3 = daemons
        records = _feed(sources, BATCHES[0])
        await asyncio.gather(*(d.start() for d in daemons))

        await _delivered(home, 12, "first deliveries")
        await i1.kill()  # mid-flow, whatever it held
        records += _feed(sources, BATCHES[1])
        await _delivered(home, 35, "deliveries after the first kill")
        await i2.kill()
        await i1.start()
        await _delivered(home, 50, "deliveries after the second kill")
        records += _feed(sources, BATCHES[2])
        await i3.kill()
        await _owns_everything(i1)  # alone now: it takes every source and matching over
        await i2.start()
        await _delivered(home, 75, "deliveries with two instances")
        await i3.start()
        await _delivered(home, TOTAL, "every document")
        await asyncio.sleep(1.5)  # anything delivered twice would arrive now

        symbols = delivered_symbols(home)
        assert len(symbols) == len(set(symbols)) == TOTAL, "every document exactly once"
        for daemon in daemons:
            _check_cluster_view(await _settled(daemon, records), daemon.name, records)
        assert await asyncio.gather(*(d.signal(signal.SIGTERM) for d in daemons)) == [0, 0, 0]


async def test_three_live_instances_share_the_sources(
    tmp_path: Path, pg_server: PgServer, daemons: list[DaemonProcess]
) -> None:
    """With three instances alive, each pulls one of the three sources (fair shares)."""
    pg_url = await fresh_pg_url(pg_server)
    s1, s2, s3 = (TdofficeSim(api_key=f"k{n}", seed=n) for n in (1, 2, 3))
    home = TdofficeSim(api_key="home", seed=4)
    async with s1, s2, s3, home:
        sources = dict(zip(SOURCES, (s1, s2, s3), strict=True))
        for name in INSTANCES:
            config = cluster_config(
                tmp_path / name / "data",
                database=pg_url,
                port=free_port(),
                sources=sources,
                home=home,
                instance=name,
                lease_ttl=LEASE_TTL_S,
            )
            daemons.append(DaemonProcess.write(name, tmp_path / name, config))
        for daemon in daemons:
            await daemon.start()

        async def shared() -> bool:
            status = await daemons[0].status() or {"cluster": {"leases": []}}
            owners = {
                lease["resource"]: lease["owner"]
                for lease in status["cluster"]["leases"]
                if lease["resource"].startswith("source:") and lease["live"]
            }
            return len(owners) == 3 and set(owners.values()) == set(INSTANCES)

        await wait_until(shared, timeout_s=45, what="the sources shared out")
        records = _feed(sources, range(0, 12))
        await _delivered(home, 12, "documents from every source")
        status = await daemons[1].status() or {}
        assert {i["name"] for i in status["cluster"]["instances"] if i["live"]} == set(INSTANCES)
        assert records == 14
