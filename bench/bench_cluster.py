"""Throughput of one and of three instances sharing one PostgreSQL database.

    .venv/bin/python -m bench.bench_cluster [--docs 3000] [--instances 1 3] [--pg postgresql://…]

Three sources (tdoffice, moffice, voffice simulators, a quarter of the documents by two roads)
and a tdoffice home system run in this process; each daemon is its own `python -m bridge run`
process. Documents per second are counted from the first request a source answers to the last
document the home system creates, on the simulators' clock. Without `--pg` a throwaway
PostgreSQL server is started. Prints one JSON line and a one-line summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.common import UNIT, daemon, daemon_config, wait_for
from bench.simhost import Host, seed_roads
from simulators.demo_data import generate
from simulators.moffice import MofficeSim
from simulators.server import SimServer
from simulators.tdoffice import TdofficeSim
from simulators.voffice import VofficeSim
from simulators.wiring import WIRING
from tests.store.pg_server import PgServer

LEASE_TTL_S = 10.0


def _database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _fresh_database(server_url: str, name: str) -> str:
    admin = await asyncpg.connect(server_url, timeout=10)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name}")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return _database_url(server_url, name)


async def _lease_owners(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        rows = await conn.fetch("SELECT resource, owner FROM leases ORDER BY resource")
    finally:
        await conn.close()
    return {str(r[0]): str(r[1]) for r in rows}


def _host(docs: int, seed: int, dup: float) -> tuple[Host, int]:
    sources: dict[str, SimServer] = {
        "tdoffice": TdofficeSim(seed=seed, api_key="bench-source"),
        "moffice": MofficeSim(seed=seed),
        "voffice": VofficeSim(seed=seed),
    }
    records = seed_roads(list(sources.values()), generate(seed, docs, units=[UNIT]), dup, seed)
    return Host(sources, TdofficeSim(seed=seed + 1, api_key="bench-home")), records


def _config(host: Host, data_dir: Path, url: str, instance: str) -> dict[str, Any]:
    sources = [
        {"name": f"bench-{road}", "profile": road, **WIRING[road](sim)}
        for road, sim in host.sources.items()
    ]
    home = {"name": "bench-home", "profile": "tdoffice", **WIRING["tdoffice"](host.home)}
    config = daemon_config(data_dir, sources, home, poll_s=0.5)
    config["bridge"] |= {"database": url, "instance": instance, "lease_ttl": LEASE_TTL_S}
    return config


async def run_once(server_url: str, instances: int, args: argparse.Namespace) -> dict[str, Any]:
    """One timed run of `instances` daemons on a fresh database."""
    url = await _fresh_database(server_url, f"bench_cluster_{instances}")
    host, records = _host(args.docs, args.seed, args.dup)
    started = time.monotonic()
    async with AsyncExitStack() as stack:
        for sim in (*host.sources.values(), host.home):
            await sim.start()
            stack.push_async_callback(sim.close)
        janitor = asyncio.create_task(host.forget_requests())
        stack.callback(janitor.cancel)
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cluster-")))
        for n in range(instances):
            folder = work / f"i{n + 1}"
            folder.mkdir()
            config = _config(host, folder / "data", url, f"i{n + 1}")
            await stack.enter_async_context(daemon(config, folder))
        await wait_for(
            lambda: host.creates >= args.docs,
            timeout_s=args.timeout,
            what=f"{args.docs} documents at home",
            every_s=0.25,
        )
        owners = await _lease_owners(url)
    seconds = (host.last_create_s or 0.0) - (host.first_source_s or 0.0)
    return {
        "instances": instances,
        "documents": args.docs,
        "records": records,
        "created_at_home": host.creates,
        "seconds": round(seconds, 2),
        "docs_per_s": round(args.docs / seconds, 1) if seconds > 0 else None,
        "wall_s": round(time.monotonic() - started, 1),
        "lease_owners": owners,
    }


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    server = None if args.pg else PgServer().start()
    try:
        server_url = args.pg or (server.url() if server else "")
        return [await run_once(server_url, n, args) for n in args.instances]
    finally:
        if server is not None:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cluster")
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dup", type=float, default=0.25, help="share sent by two roads")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--pg", default=None, help="a server URL where databases may be created")
    args = parser.parse_args(argv)
    runs = asyncio.run(main_async(args))
    print(json.dumps({"benchmark": "cluster", "runs": runs}, ensure_ascii=False))
    print(
        "cluster: "
        + "; ".join(
            f"{r['instances']} instance(s) {r['docs_per_s']} docs/s"
            f" ({r['documents']} documents, {r['records']} records, {r['seconds']} s)"
            for r in runs
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
