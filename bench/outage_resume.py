"""How soon deliveries resume after the home system comes back from an outage.

    .venv/bin/python -m bench.outage_resume [--docs 60] [--outage 20]

A tdoffice source holds `--docs` documents; the daemon (in this process) takes them in while
the tdoffice home system answers 503 to everything for `--outage` seconds; then the home
system comes back. Reported: seconds from its return to the first and to the last document
created there, and the sink's failures counted during the outage. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bridge.app import build_daemon, parse_config
from bridge.logging import configure
from simulators.demo_data import generate
from simulators.tdoffice import TdofficeSim

UNIT = "000.00.33.H49"


def _config(data: Path, source: TdofficeSim, home: TdofficeSim) -> dict[str, Any]:
    road = {"name": "src", "profile": "tdoffice", "poll_interval": 0.5}
    road |= {"base_url": source.base_url, "api_key": source.api_key}
    sink = {"name": "home", "profile": "tdoffice", "base_url": home.base_url}
    sink["api_key"] = home.api_key
    unit = {"id": UNIT, "name": "Ủy ban nhân dân huyện Vân Đồn", "sources": [road], "sinks": [sink]}
    return {
        "bridge": {"data_dir": str(data), "shutdown_grace": 5},
        "http": {"listen": "127.0.0.1:0"},
        "units": [unit],
    }


async def run(docs: int, outage_s: float) -> dict[str, Any]:
    source, home = TdofficeSim(seed=1, api_key="src"), TdofficeSim(seed=2, api_key="home")
    await source.start()
    await home.start()
    try:
        for seed in generate(seed=16, count=docs, units=[UNIT]):
            source.add_document(seed.document, seed.files, unit=UNIT)
        home.faults.down = True
        with tempfile.TemporaryDirectory(prefix="lienthong-outage-") as tmp:
            async with build_daemon(parse_config(_config(Path(tmp), source, home), {})) as daemon:
                await asyncio.sleep(outage_s)
                failures = daemon.endpoints["home"].health.failures
                home.faults.down = False
                back = time.monotonic()
                first: float | None = None
                while len(home.received) < docs and time.monotonic() < back + 600:
                    if first is None and home.received:
                        first = time.monotonic() - back
                    await asyncio.sleep(0.05)
                last = time.monotonic() - back
    finally:
        await source.close()
        await home.close()
    return {
        "docs": docs,
        "outage_s": outage_s,
        "delivered": len(home.received),
        "sink_failures_during_outage": failures,
        "first_after_return_s": round(first if first is not None else last, 2),
        "all_after_return_s": round(last, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--outage", type=float, default=20.0)
    args = parser.parse_args()
    configure("error")
    print(json.dumps(asyncio.run(run(args.docs, args.outage))))


if __name__ == "__main__":
    main()
