"""Per-unit figures add up to the totals, a document lists every home system it reached, the
Prometheus names follow the conventions, and /throughput buckets the last hours."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until

UNIT_B = "000.15.33.H49"
HOME_A, HOME_B = "TDOffice UBND huyện Vân Đồn", "TDOffice UBND xã Bình Dân"


@dataclass
class TwoUnits:
    """A running daemon over two units; document 0 is addressed to both."""

    daemon: Daemon
    home_a: TdofficeSim
    home_b: TdofficeSim
    token: str | None = None

    async def get(self, path: str) -> Any:
        url = f"http://127.0.0.1:{self.daemon.http.port}{path}"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
            assert resp.status == 200, (path, resp.status, await resp.text())
            if resp.content_type == "application/json":
                return await resp.json()
            return await resp.text()


def two_unit_config(
    data: Path,
    src_a: TdofficeSim,
    src_b: TdofficeSim,
    home_a: TdofficeSim,
    home_b: TdofficeSim,
    dropper: FolderDropper,
) -> dict[str, Any]:
    """Unit A (tdoffice and a folder road, home A) and unit B (tdoffice, home B), titled."""
    raw = config_dict(data, src_a, home_a, dropper)
    raw["units"][0]["sinks"][0]["title"] = HOME_A
    raw["units"].append(
        {
            "id": UNIT_B,
            "name": "UBND xã Bình Dân",
            "sources": [
                {
                    "name": "bd-tdoffice",
                    "title": "TDOffice xã Bình Dân (nhận)",
                    "profile": "tdoffice",
                    "base_url": src_b.base_url,
                    "api_key": src_b.api_key,
                    "poll_interval": 0.3,
                }
            ],
            "sinks": [
                {
                    "name": "bd-home",
                    "title": HOME_B,
                    "profile": "tdoffice",
                    "base_url": home_b.base_url,
                    "api_key": home_b.api_key,
                }
            ],
        }
    )
    return raw


@asynccontextmanager
async def running_two_units(tmp_path: Path, token: str | None = None) -> AsyncIterator[TwoUnits]:
    """The two-unit daemon, settled: five records taken in, four deliveries made."""
    async with (
        TdofficeSim(api_key="a") as src_a,
        TdofficeSim(api_key="b") as src_b,
        TdofficeSim(api_key="ha") as home_a,
        TdofficeSim(api_key="hb") as home_b,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        both, files = make_doc(0)
        src_a.add_document(both, files, unit=UNIT)
        dropper.add_document(both, files, unit=UNIT)  # a duplicate in unit A
        src_b.add_document(both, files, unit=UNIT_B)  # the same document, addressed to B
        src_a.add_document(*make_doc(1), unit=UNIT)
        src_b.add_document(*make_doc(2), unit=UNIT_B)
        raw = two_unit_config(tmp_path / "data", src_a, src_b, home_a, home_b, dropper)
        if token:
            raw["http"]["token"] = token
        async with build_daemon(parse_config(raw, {})) as daemon:
            run = TwoUnits(daemon, home_a, home_b, token)

            async def settled() -> bool:
                t = (await run.get("/status"))["totals"]
                return bool(t["received"] == 5 and t["delivered"] == 4 and t["pending"] == 0)

            await wait_until(settled, timeout_s=30, what="five records, four deliveries")
            yield run


@pytest.fixture
async def two_units(tmp_path: Path) -> AsyncIterator[TwoUnits]:
    async with running_two_units(tmp_path) as run:
        yield run


async def test_units_figures_add_up_to_the_totals(two_units: TwoUnits) -> None:
    status = await two_units.get("/status")
    figures = {u["id"]: u["figures"] for u in status["units"]}
    assert (figures[UNIT]["documents"], figures[UNIT]["duplicates"]) == (2, 1)
    assert (figures[UNIT_B]["documents"], figures[UNIT_B]["duplicates"]) == (2, 0)
    for key, value in status["totals"].items():
        assert value == sum(f[key] for f in figures.values()), key
    assert status["totals"]["documents"] == 4 and status["totals"]["duplicates"] == 1
    sinks = {k["name"]: k["title"] for u in status["units"] for k in u["sinks"]}
    assert sinks == {"vd-home": HOME_A, "bd-home": HOME_B}
    sources = {s["name"]: s for u in status["units"] for s in u["sources"]}
    assert sources["vd-tdoffice"]["title"] == "vd-tdoffice"  # no title: the name
    assert all(s["backlog"] == 0 for s in sources.values())


async def test_a_document_lists_both_home_systems(two_units: TwoUnits) -> None:
    found = (await two_units.get("/documents?q=100/STC-NS"))["items"]
    assert len(found) == 1
    reached = found[0]["delivered_to"]
    assert sorted((d["sink"], d["system_name"]) for d in reached) == [
        ("bd-home", HOME_B),
        ("vd-home", HOME_A),
    ]
    assert all(d["remote_id"] and d["at"] for d in reached)
    detail = await two_units.get(f"/documents/{found[0]['id']}")
    assert detail["delivered_to"] == reached
    assert len(two_units.home_a.received) == 2 and len(two_units.home_b.received) == 2


async def test_metrics_follow_prometheus_names_and_types(two_units: TwoUnits) -> None:
    text = await two_units.get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    # the parser names a counter without its _total suffix
    for name in ("records_received", "documents", "duplicates", "deliveries"):
        assert families[f"lienthong_{name}"].type == "counter", name
    for name in ("deliveries_pending", "quarantined", "dead_letters"):
        assert families[f"lienthong_{name}"].type == "gauge", name
    assert families["lienthong_last_success_timestamp_seconds"].type == "gauge"
    assert families["lienthong_ingest_to_delivered_seconds"].type == "histogram"

    def samples(family: str) -> dict[tuple[tuple[str, str], ...], float]:
        return {
            tuple(sorted(s.labels.items())): s.value
            for s in families[family].samples
            if not s.name.endswith("_created")
        }

    docs = samples("lienthong_documents")
    assert docs == {(("unit", UNIT),): 2.0, (("unit", UNIT_B),): 2.0}
    assert samples("lienthong_duplicates")[(("unit", UNIT),)] == 1.0
    results = {dict(k)["result"] for k in samples("lienthong_deliveries")}
    assert results == {"delivered", "dead"}  # finished only; pending is the gauge
    assert samples("lienthong_deliveries_pending") == {
        (("sink", "vd-home"), ("unit", UNIT)): 0.0,
        (("sink", "bd-home"), ("unit", UNIT_B)): 0.0,
    }
    last_ok = samples("lienthong_last_success_timestamp_seconds")
    assert (("endpoint", "vd-home"),) in last_ok and last_ok[(("endpoint", "vd-home"),)] > 1e9


async def test_throughput_buckets_the_last_day(two_units: TwoUnits) -> None:
    body = await two_units.get("/throughput?hours=24")
    buckets = body["buckets"]
    assert body["hours"] == 24 and len(buckets) == 24
    assert sum(b["received"] for b in buckets) == 5
    assert sum(b["delivered"] for b in buckets) == 4
    assert buckets[-1]["pending"] == 0
    fine = await two_units.get("/throughput?hours=1&step=10")
    assert len(fine["buckets"]) == 6 and sum(b["received"] for b in fine["buckets"]) == 5
