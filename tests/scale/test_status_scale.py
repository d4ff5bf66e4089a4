"""/status at province scale: a shared axis node shown truthfully for each unit it serves,
and the summary, filters and pages of /status, through a running daemon."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.harness import make_doc, wait_until

# two districts: 000.00.00.H49 (one unit) and 000.12.33.H49 (two communes)
UNITS = ("000.00.33.H49", "001.12.33.H49", "002.12.33.H49")
DISTRICT = "000.12.33.H49"


def _config(tmp_path: Path, axis: VxpSim, home: TdofficeSim) -> Any:
    system_id, secret = next(iter(axis.systems.items()))
    units = [
        {
            "id": unit,
            "name": f"Đơn vị {n}",
            "sources": [
                {
                    "name": f"u{n}-vxp",
                    "profile": "vxp",
                    "base_url": axis.base_url,
                    "system_id": system_id,
                    "secret": secret,
                    "poll_interval": 0.3,
                }
            ],
            "sinks": [
                {
                    "name": f"u{n}-home",
                    "profile": "tdoffice",
                    "base_url": home.base_url,
                    "api_key": home.api_key,
                }
            ],
        }
        for n, unit in enumerate(UNITS)
    ]
    raw = {"bridge": {"data_dir": str(tmp_path / "data")}, "http": {"listen": "127.0.0.1:0"}}
    return parse_config({**raw, "units": units}, {})


async def _get(daemon: Daemon, query: str = "", status: int = 200) -> dict[str, Any]:
    url = f"http://127.0.0.1:{daemon.http.port}/status{query}"
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        assert resp.status == status, await resp.text()
        return await resp.json() if status == 200 else {"text": await resp.text()}


async def test_shared_node_per_unit_and_status_pages(tmp_path: Path) -> None:
    async with VxpSim() as axis, TdofficeSim(api_key="home") as home:
        for i, units in enumerate(([UNITS[0], UNITS[1]], [UNITS[2]], [UNITS[0]])):
            doc, files = make_doc(40 + i)
            axis.add_document(doc, files, units=units)
        async with build_daemon(_config(tmp_path, axis, home)) as daemon:
            await wait_until(lambda: len(home.received) == 4, what="four deliveries")
            snap = await _get(daemon)

            # one node, serving three units, each unit's source showing it and its own count
            (node,) = snap["nodes"]
            assert node["name"] == "u0-vxp" and node["units"] == list(UNITS)
            assert node["received"] == {UNITS[0]: 2, UNITS[1]: 1, UNITS[2]: 1}
            assert node["state"] == "ok"
            for card in snap["units"]:
                (source,) = card["sources"]
                assert source["state"] == "ok", "served by the node, not disabled"
                assert source["node"] == {"name": "u0-vxp", "units": 3}
                assert source["received"] == node["received"][card["id"]]
                assert source["received"] == card["figures"]["received"]
            received = sum(s["received"] for u in snap["units"] for s in u["sources"])
            assert received == snap["totals"]["received"] == 4

            # the summary first, whatever the filters
            page = await _get(daemon, f"?area={DISTRICT}&limit=1")
            assert page["summary"]["units"] == 3
            assert page["summary"]["by_state"]["ok"] == 3
            areas = {a["area"]: a["units"] for a in page["summary"]["areas"]}
            assert areas == {"000.00.00.H49": 1, DISTRICT: 2}
            # a district, a page at a time, in code order
            assert [u["id"] for u in page["units"]] == [UNITS[1]]
            assert page["page"]["matched"] == 2 and page["page"]["next_cursor"] == UNITS[1]
            assert page["units"][0]["area"] == DISTRICT and page["units"][0]["state"] == "ok"
            assert page["totals"]["received"] == 2, "the district's units, not the page's"
            nxt = await _get(daemon, f"?area={DISTRICT}&limit=1&cursor={UNITS[1]}")
            assert [u["id"] for u in nxt["units"]] == [UNITS[2]]
            assert nxt["page"]["next_cursor"] is None
            leases = [row["resource"] for row in nxt["cluster"]["leases"]]
            assert "source:u0-vxp" not in leases, "the node's lease is its first unit's"
            # one unit on demand, and a state filter
            one = await _get(daemon, f"?unit={UNITS[0]}")
            assert [u["id"] for u in one["units"]] == [UNITS[0]]
            assert one["units"][0]["sources"][0]["received"] == 2
            assert (await _get(daemon, "?state=failing"))["units"] == []
            assert len((await _get(daemon, "?state=ok"))["units"]) == 3
            for key in ("version", "ready", "tasks", "totals", "disk", "cluster", "alerts"):
                assert key in page, f"the contract's {key} stays"
            bad = await _get(daemon, "?state=sideways", status=400)
            assert "state" in bad["text"]
            assert "limit" in (await _get(daemon, "?limit=0", status=400))["text"]
