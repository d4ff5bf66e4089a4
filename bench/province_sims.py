"""`python -m bench.province_sims --units N`: the systems of a whole province in one process.

One simulator per profile hosts every unit (tdoffice by an API key per unit, M-Office by its
`unit` parameter, V-Office by `organ`, iDesk by `UnitCode`, one axis node for all), and one
tdoffice is the home system of every unit (by an API key per unit). The units and their keys
are those of `bench.province_config`. Prints one JSON line (the unit codes, each road's base
URL, the control URL), then serves until SIGTERM. What arrives is counted per second on the machine's monotonic clock (the
benchmark reads the same clock), not kept request by request:

- `GET /stats?since=S&until=U`: listings (one per source poll; the busiest second and the
  total), requests to the sources, requests to the home system and its status questions
  (busiest second), creates at home, documents created twice, this process's CPU seconds;
- `POST /burst {docs, seed}`: `docs` documents, to the units in turn, each by one road (the
  five roads in turn), with their files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web

from bench.province_config import home_key, province_units, td_key
from bench.simhost import until_stopped
from bridge.app import run_loop
from bridge.unit_table import HOME
from simulators.demo_data import generate
from simulators.idesk import IdeskSim
from simulators.moffice import MofficeSim
from simulators.server import SimServer
from simulators.tdoffice import TdofficeSim
from simulators.voffice import VofficeSim
from simulators.vxp import VxpSim

ROADS = ("tdoffice", "moffice", "voffice", "idesk", "vxp")
CREATE_PATH = "/api/v2/documents/incoming"
LISTINGS = {  # the request that starts a source's poll, by profile
    "tdoffice": ("GET", "/api/v2/documents/inbox"),
    "moffice": ("GET", "/api/v1/incoming"),
    "voffice": ("GET", "/api/documents/received"),
    "idesk": ("POST", "GetIncomingDocuments"),  # matched in the SOAPAction header
    "vxp": ("POST", "/getReceivedEdocList"),
}


class Province:
    """The simulators and the per-second counts of what reaches them."""

    def __init__(self, units: list[str], seed: int) -> None:
        self.units = units
        self.seed = seed
        self.sources: dict[str, SimServer] = {
            "tdoffice": TdofficeSim(seed=seed, api_key="province-source"),
            "moffice": MofficeSim(seed=seed),
            "voffice": VofficeSim(seed=seed),
            "idesk": IdeskSim(seed=seed),
            "vxp": VxpSim(seed=seed),
        }
        tdoffice = self.sources["tdoffice"]
        assert isinstance(tdoffice, TdofficeSim)
        self.home = TdofficeSim(seed=seed + 1, api_key="province-home")
        for unit in units:
            tdoffice.api_keys[td_key(unit)] = unit
            self.home.api_keys[home_key(unit)] = unit
        self.listings: Counter[int] = Counter()
        self.source_requests: Counter[int] = Counter()
        self.home_requests: Counter[int] = Counter()
        self.home_status: Counter[int] = Counter()
        self.creates = 0
        self.created: Counter[tuple[str, str, str]] = Counter()
        self.bursts = 0
        for road, sim in self.sources.items():
            sim.record_bodies = False
            sim.app.on_response_prepare.append(self._counter(road))
        self.home.record_bodies = False
        self.home.app.on_response_prepare.append(self._on_home)

    def _counter(self, road: str) -> Any:
        method, mark = LISTINGS[road]

        async def count(request: web.Request, resp: web.StreamResponse) -> None:
            second = int(time.monotonic())
            self.source_requests[second] += 1
            where = request.headers.get("SOAPAction", "") if road == "idesk" else request.path
            if request.method == method and where.endswith(mark):
                self.listings[second] += 1

        return count

    async def _on_home(self, request: web.Request, resp: web.StreamResponse) -> None:
        second = int(time.monotonic())
        self.home_requests[second] += 1
        if request.method == "GET" and request.path.endswith("/status"):
            self.home_status[second] += 1
        if request.method == "POST" and request.path == CREATE_PATH and resp.status == 201:
            self.creates += 1
            body = orjson.loads(await request.read())
            issuer = body.get("issuer") or {}
            key = (
                str(issuer.get("organId")),
                str(body.get("codeNumber")),
                str(body.get("codeNotation")),
            )
            self.created[key] += 1

    def burst(self, docs: int, seed: int) -> dict[str, Any]:
        """`docs` documents, to the units in turn, each by one road in turn."""
        made = generate(seed, docs, units=self.units)
        for i, d in enumerate(made):
            road = ROADS[i % len(ROADS)]
            sim: Any = self.sources[road]
            if road == "vxp":
                sim.add_document(d.document, d.files, units=[d.unit])
            else:
                sim.add_document(d.document, d.files, unit=d.unit)
        voffice = self.sources["voffice"]
        assert isinstance(voffice, VofficeSim)
        for doc_id, doc in voffice.docs.items():  # zipped ahead, as a real server stores them
            if doc.bundle is None:
                doc.bundle = voffice.build_bundle(doc_id)
        self.bursts += docs
        return {"added": docs, "now_s": time.monotonic()}

    def stats(self, since: float, until: float) -> dict[str, Any]:
        def window(counts: Counter[int]) -> dict[str, int]:
            picked = [n for s, n in counts.items() if since <= s < until]
            return {"max_per_s": max(picked, default=0), "total": sum(picked)}

        return {
            "listings": window(self.listings),
            "listings_per_second": {
                str(s): n for s, n in sorted(self.listings.items()) if since <= s < until
            },
            "source_requests": window(self.source_requests),
            "home_requests": window(self.home_requests),
            "home_status": window(self.home_status),
            "creates": self.creates,
            "created_documents": len(self.created),
            "created_twice": sum(1 for n in self.created.values() if n > 1),
            "burst_documents": self.bursts,
            "cpu_s": time.process_time(),
            "now_s": time.monotonic(),
        }

    async def forget_requests(self) -> None:
        """The base simulators keep every request for tests; drop them to stay small."""
        while True:
            await asyncio.sleep(5)
            for sim in (*self.sources.values(), self.home):
                sim.requests.clear()

    def wiring(self) -> dict[str, Any]:
        urls = {road: sim.base_url for road, sim in self.sources.items()}
        return {"units": self.units, "urls": {**urls, HOME: self.home.base_url}}


def control_app(province: Province) -> web.Application:
    async def stats(request: web.Request) -> web.Response:
        since = float(request.query.get("since", 0))
        until = float(request.query.get("until", 1e18))
        return web.json_response(province.stats(since, until))

    async def burst(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(province.burst(int(body["docs"]), int(body.get("seed", 11))))

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_post("/burst", burst)
    return app


async def serve(args: argparse.Namespace) -> None:
    province = Province([u.code for u in province_units(args.units)], args.seed)
    control = SimServer()
    control.app = control_app(province)
    for sim in (*province.sources.values(), province.home, control):
        await sim.start()
    print(json.dumps({**province.wiring(), "control": control.base_url}), flush=True)
    servers = (control, *province.sources.values(), province.home)
    await until_stopped(servers, province.forget_requests())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.province_sims")
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    run_loop(serve(args))  # on uvloop where it is installed
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
