"""`lienthong demo` and `lienthong simulate`: simulators of every profile, wired to the daemon.

The demo serves two units (a district and one of its communes). Each receives on every
profile that has a simulator; a quarter of the documents travel by two roads, so the page
shows documents, duplicates and deliveries within seconds. Each unit's home system is a
tdoffice simulator. After the first batch the demo lives on (`simulators/trickle.py`): a new
document every few seconds, and among them a secret one, an unreadable record, a refusal by
the home system that becomes a dead letter, a revision, a revocation and a near miss held for
review.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import structlog

from adapters import registry
from bridge.app import parse_config, serve
from simulators import factories
from simulators.demo_data import ORGANS, generate
from simulators.trickle import Trickle, refusing
from simulators.wiring import WIRING

log = structlog.get_logger(__name__)

DEMO_UNITS = (
    ("000.00.33.H49", "Ủy ban nhân dân huyện Vân Đồn"),
    ("000.15.33.H49", "Ủy ban nhân dân xã Bình Dân"),
)
SLUGS = {"000.00.33.H49": "vandon", "000.15.33.H49": "binhdan"}
PLACES = {"000.00.33.H49": "UBND huyện Vân Đồn", "000.15.33.H49": "UBND xã Bình Dân"}
TRICKLED = 2000  # documents kept for the trickle: at one every 3 s, well over an hour
ROAD_TITLES = {
    "tdoffice": "TDOffice",
    "folder": "Thư mục quét",
    "moffice": "M-Office",
    "voffice": "vOffice",
    "idesk": "iDesk",
    "vxp": "Trục liên thông VXP",
    "mailbox": "Hộp thư công vụ",
}


async def _start(sim: Any, port: int = 0) -> str:
    result = await sim.start("127.0.0.1", port) if _takes_host(sim) else await sim.start()
    return str(result)


def _takes_host(sim: Any) -> bool:
    params = inspect.signature(sim.start).parameters
    return "host" in params


async def build_demo(
    stack: AsyncExitStack, data_dir: Path, port: int, documents: int
) -> tuple[dict[str, Any], Trickle]:
    """Start the simulators, seed them, and return the raw configuration dict and the trickle
    that keeps feeding them."""
    profiles = registry()
    sims = factories()
    roads = [
        name
        for name in ("tdoffice", "folder", "moffice", "voffice", "idesk", "vxp", "mailbox")
        if name in profiles and name in sims and profiles[name].source_settings
    ]
    units_cfg = []
    sims_by_unit: dict[str, list[tuple[str, Any]]] = {}
    for unit_id, unit_name in DEMO_UNITS:
        sources = []
        sims_by_unit[unit_id] = []
        for road in roads:
            sim = _make_sim(sims[road], road, data_dir / "demo-inbox" / unit_id)
            if road == "vxp":
                _seed_directory(sim)
            await _start(sim)
            stack.push_async_callback(sim.close)
            sims_by_unit[unit_id].append((road, sim))
            sources.append(
                {
                    "name": f"{SLUGS[unit_id]}-{road}",
                    "title": f"{ROAD_TITLES.get(road, road)} {PLACES[unit_id]}",
                    "profile": road,
                    "poll_interval": 2,
                    **WIRING[road](sim),
                }
            )
        home = sims["tdoffice"](7)
        home.validator = refusing()
        await _start(home)
        stack.push_async_callback(home.close)
        sink = {
            "name": f"{SLUGS[unit_id]}-home",
            "title": f"TDOffice {PLACES[unit_id]}",
            "profile": "tdoffice",
            **WIRING["tdoffice"](home),
        }
        units_cfg.append({"id": unit_id, "name": unit_name, "sources": sources, "sinks": [sink]})
    units = [u for u, _ in DEMO_UNITS]
    seeds = generate(seed=2026, count=documents + TRICKLED, units=units)
    _seed(sims_by_unit, seeds[:documents])
    raw = {
        "bridge": {"data_dir": str(data_dir), "shutdown_grace": 5},
        "http": {"listen": f"127.0.0.1:{port}"},
        "units": units_cfg,
    }
    return raw, Trickle(sims_by_unit, seeds[documents:])


def _seed_directory(sim: Any) -> None:
    """The axis node's organ directory: every organ of the demo, each with its node."""
    for number, organ in enumerate(ORGANS, start=1):
        sim.directory.put(str(number), organ.code, organ.name, center_code=f"qn.{number:02d}")


def _make_sim(factory: Any, road: str, folder: Path) -> Any:
    if road == "folder":
        folder.mkdir(parents=True, exist_ok=True)
        return factory(1, folder)
    return factory(1)


def _seed(sims_by_unit: dict[str, list[tuple[str, Any]]], seeds: list[Any]) -> None:
    """Give each document to one road of its unit, and every fourth also to a second road."""
    for i, seed in enumerate(seeds):
        sims = sims_by_unit[seed.unit]
        first = sims[i % len(sims)][1]
        first.add_document(seed.document, seed.files, unit=seed.unit)
        if i % 4 == 0 and len(sims) > 1:
            second = sims[(i + 1) % len(sims)][1]
            second.add_document(seed.document, seed.files, unit=seed.unit)


async def run_demo(*, port: int, data_dir: Path, documents: int) -> int:
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        folder = await asyncio.to_thread(data_dir.resolve)
        raw, trickle = await build_demo(stack, folder, port, documents)
        config = parse_config(raw, {})
        print(f"lienthong demo: http://127.0.0.1:{port}/  (Ctrl-C để dừng / to stop)", flush=True)
        living = asyncio.create_task(trickle.run(), name="demo-trickle")
        try:
            return await serve(config)
        finally:
            living.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await living


async def run_simulator(profile: str, *, port: int, seed: int) -> int:
    factory = factories().get(profile)
    if factory is None:
        print(f"không có giả lập cho hồ sơ / no simulator for profile: {profile}")
        return 1
    folder = (
        Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="lienthong-sim-"))
        if profile == "folder"
        else Path()
    )
    sim = _make_sim(factory, profile, folder)
    if profile == "folder":
        await sim.start()
        url = str(sim.base_url)
    else:
        url = str(await sim.start("127.0.0.1", port))
    for s in generate(seed=seed, count=20, units=[DEMO_UNITS[0][0]]):
        sim.add_document(s.document, s.files, unit=s.unit)
    keys = WIRING[profile](sim)  # the simulator's own demo credentials, to wire an adapter by hand
    print(f"{profile} simulator: {url}  {keys}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(asyncio.CancelledError):
        await stop.wait()
    await sim.close()
    return 0
