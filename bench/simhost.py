"""`python -m bench.simhost SCENARIO`: the simulators of one benchmark, in their own process.

Prints one JSON line (each source's wiring, the home sink's, the control URL), then serves
until SIGTERM. The control API reads the clock of the simulators themselves, so times from a
source's first request to the home sink's last create, or from a webhook POST to the create
it causes, are measured on one clock:

- `GET /stats`: creates at home, first source request and last create (monotonic seconds),
  this process's CPU seconds;
- `POST /push {url, secret, rate, duration_s, seed, wait_s}`: signed document webhooks at
  `rate` per second; answers with each event's latency to its create at home (ms), for those
  created within `wait_s` (30) seconds of the last POST;
- `POST /big {mb}`: one document with a file of `mb` MiB, served by the tdoffice source;
- `POST /home {down}`: the home sink answers 503 to everything (or stops doing so); the
  stats then say when it came back (`home_up_s`) and its first create after that
  (`first_create_after_up_s`);
- `POST /faults {error_rate, throttle_rate}`: every source simulator fails that share of all
  its requests (listings, files, bundles, receipts, logins) with 500/503, or 429 with
  `Retry-After: 1` (also `--error-rate`, `--throttle-rate` from the start).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import signal
import time
from collections.abc import Coroutine, Sequence
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from adapters.tdoffice import webhook
from bench.common import UNIT
from bench.legacy_fonts import tcvn3, vni
from schemas import Attachment, Document, Organ
from simulators.demo_data import SeedDocument, duplicate_roads, generate
from simulators.idesk import IdeskSim
from simulators.moffice import MofficeSim
from simulators.server import SimServer
from simulators.tdoffice import TdofficeSim
from simulators.voffice import VofficeSim
from simulators.vxp import VxpSim
from simulators.wiring import WIRING

CREATE_PATH = "/api/v2/documents/incoming"
LEGACY_ROADS = ("moffice", "idesk")  # the profiles whose old records carry TCVN3/VNI text
Key = tuple[str, str, str]


def _key(issuer_code: Any, number: Any, notation: Any) -> Key:
    return (str(issuer_code), str(number), str(notation))


class Host:
    """The simulators of one scenario and what the control API reports about them."""

    def __init__(self, sources: dict[str, SimServer], home: TdofficeSim) -> None:
        self.sources = sources
        self.home = home
        self.first_source_s: float | None = None
        self.last_create_s: float | None = None
        self.creates = 0
        self.revised = 0
        self.last_write_s: float | None = None
        self.created_at: dict[Key, float] = {}
        self.track_keys = False
        self.home_up_s: float | None = None
        self.first_create_after_up_s: float | None = None
        for sim in (*sources.values(), home):
            sim.record_bodies = False
        for sim in sources.values():
            sim.app.on_response_prepare.append(self._on_source_response)
        home.app.on_response_prepare.append(self._on_home_response)

    async def _on_source_response(self, request: web.Request, resp: web.StreamResponse) -> None:
        if self.first_source_s is None:
            self.first_source_s = time.monotonic()

    async def _on_home_response(self, request: web.Request, resp: web.StreamResponse) -> None:
        if request.method == "PATCH" and resp.status == 200:
            self.revised += 1
            self.last_write_s = time.monotonic()
        if request.method != "POST" or request.path != CREATE_PATH or resp.status != 201:
            return
        now = time.monotonic()
        self.last_write_s = now
        self.creates += 1
        self.last_create_s = now
        if self.home_up_s is not None and self.first_create_after_up_s is None:
            self.first_create_after_up_s = now
        if self.track_keys:
            body = orjson.loads(await request.read())
            issuer = body.get("issuer") or {}
            key = _key(issuer.get("organId"), body.get("codeNumber"), body.get("codeNotation"))
            self.created_at.setdefault(key, now)

    async def forget_requests(self) -> None:
        """Recorded requests are for tests; a long benchmark drops them to stay small."""
        while True:
            await asyncio.sleep(5)
            for sim in (*self.sources.values(), self.home):
                sim.requests.clear()

    def stats(self) -> dict[str, Any]:
        return {
            "home_created": self.creates,
            "home_received": len(self.home.received),
            "home_revised": self.revised,
            "last_write_s": self.last_write_s,
            "first_source_s": self.first_source_s,
            "last_create_s": self.last_create_s,
            "now_s": time.monotonic(),
            "cpu_s": time.process_time(),
            "home_up_s": self.home_up_s,
            "first_create_after_up_s": self.first_create_after_up_s,
            "source_faults": {n: dict(s.faults.counts) for n, s in self.sources.items()},
        }

    def set_home(self, down: bool) -> None:
        """The home sink down (503 to all) or back; coming back starts the resume clock."""
        was_down, self.home.faults.down = self.home.faults.down, down
        if was_down and not down:
            self.home_up_s, self.first_create_after_up_s = time.monotonic(), None

    def set_faults(self, error_rate: float, throttle_rate: float) -> None:
        """Every source simulator fails these shares of its requests (429 with Retry-After 1)."""
        for sim in self.sources.values():
            sim.faults.set_rates(error_rate=error_rate, throttle_rate=throttle_rate)
            sim.faults.retry_after_s = 1

    async def push(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send `rate * duration_s` signed document.created events on schedule."""
        source = self.sources["tdoffice"]
        assert isinstance(source, TdofficeSim)
        rate, duration = float(body["rate"]), float(body["duration_s"])
        seeds = generate(int(body.get("seed", 7)), round(rate * duration), units=[UNIT])
        events = [
            (s, source.documents[source.add_document(s.document, s.files, unit=UNIT)])
            for s in seeds
        ]
        self.track_keys = True
        sent: dict[Key, float] = {}
        statuses: list[int] = []
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            start = time.monotonic() + 0.2
            tasks = []
            for i, (seed, data) in enumerate(events):
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                key = _key(seed.document.issuer.code, seed.document.number, seed.document.notation)
                tasks.append(asyncio.create_task(
                    _send(session, str(body["url"]), str(body["secret"]), data, key, sent, statuses)
                ))  # fmt: skip
            await asyncio.gather(*tasks)
        wait_s = float(body.get("wait_s", 30))  # longer while a backlog is caught up too
        await _until(lambda: all(k in self.created_at for k in sent), timeout_s=wait_s)
        latencies = [
            (self.created_at[k] - t0) * 1000 for k, t0 in sent.items() if k in self.created_at
        ]
        return {
            "sent": len(sent),
            "answered_2xx": sum(200 <= s < 300 for s in statuses),
            "delivered": len(latencies),
            "latencies_ms": latencies,
        }

    def add_big(self, size_mb: int) -> dict[str, Any]:
        """One document whose only file (a PDF of `size_mb` MiB) the tdoffice source serves."""
        block = os.urandom(1024 * 1024)
        data = b"%PDF-1.4\n" + block * size_mb + b"\n%%EOF\n"
        doc = Document(
            issuer=Organ(code="000.00.05.H49", name="Sở Tài chính tỉnh Quảng Ninh"),
            number="999",
            notation="STC-NS",
            issued_on=dt.date(2026, 3, 2),
            type_name="Công văn",
            subject="V/v gửi hồ sơ quét dung lượng lớn",
            attachments=(
                Attachment(
                    name="ho-so-quet.pdf",
                    content_type="application/pdf",
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                ),
            ),
        )
        source = self.sources["tdoffice"]
        assert isinstance(source, TdofficeSim)
        return {"documentId": source.add_document(doc, {"ho-so-quet.pdf": data}, unit=UNIT)}


async def _send(
    session: aiohttp.ClientSession,
    url: str,
    secret: str,
    data: dict[str, Any],
    key: Key,
    sent: dict[Key, float],
    statuses: list[int],
) -> None:
    body = orjson.dumps({"event": "document.created", "data": data})
    headers = webhook.signed_headers(secret, body, event_id=hashlib.sha1(body).hexdigest())
    sent[key] = time.monotonic()
    try:
        async with session.post(url, data=body, headers=headers) as resp:
            statuses.append(resp.status)
    except (aiohttp.ClientError, TimeoutError):
        statuses.append(0)


async def _until(predicate: Any, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.05)


# ---- scenarios --------------------------------------------------------------------------


def _catchup_sources(seed: int) -> dict[str, SimServer]:
    return {
        "tdoffice": TdofficeSim(seed=seed, api_key="bench-source"),
        "moffice": MofficeSim(seed=seed),
        "voffice": VofficeSim(seed=seed),
        "idesk": IdeskSim(seed=seed),
    }


def seed_roads(
    sims: Sequence[SimServer], docs: Sequence[SeedDocument], dup_fraction: float, seed: int
) -> int:
    """Each document to one road in turn; `dup_fraction` of them also to the next road.

    Returns the number of source records served."""
    twice = set(duplicate_roads(docs, dup_fraction, seed)) if len(sims) > 1 else set()
    records = 0
    for i, d in enumerate(docs):
        roads = [sims[i % len(sims)]] + ([sims[(i + 1) % len(sims)]] if i in twice else [])
        for sim in roads:
            sim.add_document(d.document, d.files, unit=UNIT)  # type: ignore[attr-defined]
            records += 1
    return records


def _mixed_sources(seed: int) -> dict[str, SimServer]:
    return {**_catchup_sources(seed), "vxp": VxpSim(seed=seed)}


def legacy_text(docs: list[SeedDocument], fraction: float, seed: int) -> list[SeedDocument]:
    """`fraction` of the documents with their subject typed in a legacy font (TCVN3 and VNI
    in turn); the rest as they were."""
    chosen = set(duplicate_roads(docs, fraction, seed + 1))
    out = []
    for i, d in enumerate(docs):
        if i in chosen:
            font = tcvn3 if i % 2 else vni
            doc = d.document.model_copy(update={"subject": font(d.document.subject or "")})
            d = SeedDocument(doc, d.files, d.unit)
        out.append(d)
    return out


def seed_mixed(
    sources: dict[str, SimServer], docs: list[SeedDocument], args: argparse.Namespace
) -> dict[str, int]:
    """The real mix: each document to one road in turn, `args.dup` of them by the next road
    too; legacy-font subjects on the roads that carry them; `args.revisions` of tdoffice's
    documents revised once (a second record, version 2). Returns the counts served."""
    legacy = legacy_text(docs, args.legacy, args.seed)
    names = list(sources)
    twice = set(duplicate_roads(docs, args.dup, args.seed))
    records = files = 0
    on_tdoffice: list[str] = []
    for i, d in enumerate(docs):
        roads = [names[i % len(names)]] + ([names[(i + 1) % len(names)]] if i in twice else [])
        for road in roads:
            one = legacy[i] if road in LEGACY_ROADS else d
            doc_id = sources[road].add_document(one.document, one.files, unit=UNIT)  # type: ignore[attr-defined]
            records += 1
            files += len(one.files)
            if road == "tdoffice":
                on_tdoffice.append(doc_id)
    tdoffice = sources["tdoffice"]
    assert isinstance(tdoffice, TdofficeSim)
    revised = on_tdoffice[:: max(1, round(1 / args.revisions))] if args.revisions > 0 else []
    for doc_id in revised:
        subject = str(tdoffice.documents[doc_id]["subject"])
        tdoffice.update_document(doc_id, subject=f"{subject} (sửa đổi, bổ sung)")
    return {"records": records + len(revised), "revisions": len(revised), "files": files}


def _prebuild_bundles(sim: SimServer) -> None:
    """Zip each V-Office document's files before the clock starts, as a real server serves
    stored bundles: the simulator should not be what a benchmark measures."""
    assert isinstance(sim, VofficeSim)
    for doc_id, doc in sim.docs.items():
        doc.bundle = sim.build_bundle(doc_id)


def _without_files(docs: list[SeedDocument]) -> list[SeedDocument]:
    return [
        SeedDocument(d.document.model_copy(update={"attachments": ()}), {}, d.unit) for d in docs
    ]


def build(args: argparse.Namespace) -> tuple[Host, dict[str, Any]]:
    """The scenario's simulators, seeded, and what the benchmark needs to know about them."""
    home = TdofficeSim(seed=args.seed + 1, api_key="bench-home")
    facts: dict[str, Any] = {}
    if args.scenario == "catchup":
        sources = _catchup_sources(args.seed)
        docs = generate(args.seed, args.docs, units=[UNIT])
        facts["records"] = seed_roads(list(sources.values()), docs, args.dup, args.seed)
        facts["documents"] = len(docs)
        _prebuild_bundles(sources["voffice"])
    elif args.scenario == "mixed":
        sources = _mixed_sources(args.seed)
        docs = generate(args.seed, args.docs, units=[UNIT])
        facts |= seed_mixed(sources, docs, args)
        facts["documents"] = len(docs)
        _prebuild_bundles(sources["voffice"])
    else:
        sources = {"tdoffice": TdofficeSim(seed=args.seed, api_key="bench-source")}
        if args.scenario == "pending":
            docs = generate(args.seed, args.docs, units=[UNIT])
            if not args.files:
                docs = _without_files(docs)
            facts["records"] = seed_roads(list(sources.values()), docs, 0.0, args.seed)
            facts["documents"] = len(docs)
            home.faults.down = True
    return Host(sources, home), facts


def control_app(host: Host) -> web.Application:
    async def stats(request: web.Request) -> web.Response:
        return web.json_response(host.stats())

    async def push(request: web.Request) -> web.Response:
        return web.json_response(await host.push(await request.json()))

    async def big(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(await asyncio.to_thread(host.add_big, int(body["mb"])))

    async def home_state(request: web.Request) -> web.Response:
        host.set_home(bool((await request.json()).get("down")))
        return web.json_response({"down": host.home.faults.down, "now_s": time.monotonic()})

    async def faults(request: web.Request) -> web.Response:
        body = await request.json()
        host.set_faults(float(body.get("error_rate", 0)), float(body.get("throttle_rate", 0)))
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_post("/push", push)
    app.router.add_post("/big", big)
    app.router.add_post("/home", home_state)
    app.router.add_post("/faults", faults)
    return app


async def serve(args: argparse.Namespace) -> None:
    host, facts = build(args)
    host.set_faults(args.error_rate, args.throttle_rate)
    control = SimServer()
    control.app = control_app(host)
    for sim in (*host.sources.values(), host.home, control):
        await sim.start()
    sources = [
        {"name": f"bench-{road}", "profile": road, **WIRING[road](sim)}
        for road, sim in host.sources.items()
    ]
    home = {"name": "bench-home", "profile": "tdoffice", **WIRING["tdoffice"](host.home)}
    print(json.dumps({"sources": sources, "home": home, "control": control.base_url, **facts}))
    await until_stopped((control, *host.sources.values(), host.home), host.forget_requests())


async def until_stopped(servers: Sequence[SimServer], janitor: Coroutine[Any, Any, None]) -> None:
    """Run `janitor` until SIGTERM or SIGINT, then close `servers`."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(janitor)
    await stop.wait()
    task.cancel()
    for sim in servers:
        await sim.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simhost")
    parser.add_argument("scenario", choices=("catchup", "mixed", "push", "pending", "big"))
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dup", type=float, default=0.25, help="share sent by two roads")
    parser.add_argument("--legacy", type=float, default=0.3, help="share in legacy fonts")
    parser.add_argument("--revisions", type=float, default=0.3, help="tdoffice share revised")
    parser.add_argument("--files", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--error-rate", type=float, default=0.0, help="sources' 500/503 share")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="sources' 429 share")
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.run(serve(args))
    except ImportError:  # pragma: no cover - uvloop is a dependency
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
