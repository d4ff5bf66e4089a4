"""Store throughput on both backends: pages stored, decisions applied, deliveries drained.

    .venv/bin/python -m bench.bench_store [--records N] [--pg postgresql://…]

Without --pg a throwaway PostgreSQL is started (tests/store/pg_server.py).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bridge.store import PostgresStore, SqliteStore
from schemas import Page
from tests.store.conftest import document, new_document_outcome, raw
from tests.store.pg_server import PgServer


async def run(store: SqliteStore | PostgresStore, n: int) -> dict[str, float]:
    started = time.perf_counter()
    ids: list[int] = []
    for start in range(0, n, 50):
        page = Page(records=tuple(raw(f"r{i}") for i in range(start, min(n, start + 50))))
        ids += await store.save_page("bench", page.model_copy(update={"cursor": str(start)}))
    stored = time.perf_counter()
    for i, rid in enumerate(ids):
        await store.apply(new_document_outcome(rid, document(str(i)), triple=f"t{i}"))
    applied = time.perf_counter()
    while due := await store.due_deliveries("home", 50):
        for d in due:
            await store.mark_delivered(d.id, f"R{d.id}")
    drained = time.perf_counter()
    return {
        "records_per_s": n / (stored - started),
        "applies_per_s": n / (applied - stored),
        "deliveries_per_s": n / (drained - applied),
    }


async def main(n: int, pg_url: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with SqliteStore(Path(tmp) / "bench.sqlite3") as lite:
            print("sqlite    ", {k: round(v) for k, v in (await run(lite, n)).items()})
    async with PostgresStore(pg_url) as pg:
        print("postgresql", {k: round(v) for k, v in (await run(pg, n)).items()})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--pg", default=None)
    args = parser.parse_args()
    server = None if args.pg else PgServer().start()
    try:
        asyncio.run(main(args.records, args.pg or (server.url() if server else "")))
    finally:
        if server is not None:
            server.stop()
