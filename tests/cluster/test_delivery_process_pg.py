"""Deliveries in a process of their own on PostgreSQL: the child claims and delivers from the
shared database (and its blobs) while the daemon pulls and matches."""

from __future__ import annotations

from pathlib import Path

from bridge.app import build_daemon, load_config
from simulators.tdoffice import TdofficeSim
from tests.cluster.conftest import cluster_config, free_port, fresh_pg_url
from tests.e2e.harness import UNIT, delivered_symbols, make_doc, toml_of, wait_until
from tests.store.pg_server import PgServer


async def test_the_delivery_process_delivers_from_postgresql(
    tmp_path: Path, pg_server: PgServer
) -> None:
    async with TdofficeSim(api_key="src") as source, TdofficeSim(api_key="home") as home:
        total = 25
        for i in range(total):
            doc, files = make_doc(i)
            source.add_document(doc, files, unit=UNIT)
        cfg = cluster_config(
            tmp_path / "data",
            database=await fresh_pg_url(pg_server),
            port=free_port(),
            sources={"src": source},
            home=home,
        )
        cfg["bridge"]["delivery_process"] = True
        config_path = tmp_path / "lienthong.toml"
        config_path.write_text(toml_of(cfg), encoding="utf-8")
        async with build_daemon(load_config(config_path), config_path) as daemon:
            assert daemon.delivery_child is not None and daemon.delivery_child.pid is not None
            await wait_until(
                lambda: len(home.received) >= total, timeout_s=60, what="every document at home"
            )
            health = daemon.endpoints["home"].health
            await wait_until(lambda: health.count > 0, timeout_s=10, what="the child's health")
        symbols = delivered_symbols(home)
        assert len(symbols) == total and len(set(symbols)) == total
