"""The controls under named operators: a commune clerk pauses the commune's road under the
clerk's name; the district's roads are not there for the clerk; a viewer may not act."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.two_units import NAMES, two_units


async def test_a_clerk_controls_the_units_own_roads_only(tmp_path: Path) -> None:
    async with two_units(tmp_path) as setup:
        status, text = await setup.call("commune", "POST", "/sources/dx-source/pause")
        assert status == 200 and json.loads(text)["paused"] is True
        status, text = await setup.call("commune", "POST", "/sinks/dx-home/retry")
        assert status == 200
        for path in ("/sources/vd-source/pause", "/sources/vd-source/poll", "/sinks/vd-home/retry"):
            status, text = await setup.call("commune", "POST", path)
            assert status == 404 and "vd-" not in text, path
        status, text = await setup.call("viewer", "POST", "/sources/dx-source/resume")
        assert status == 403 and "may read but not act" in text
        _, text = await setup.call("commune", "GET", "/audit")
        rows = [(r["actor"], r["action"], r["target"]) for r in json.loads(text)["items"]]
        assert rows[:2] == [
            (NAMES["commune"], "retry_now", "sink:dx-home"),
            (NAMES["commune"], "pause", "source:dx-source"),
        ]
        _, text = await setup.call("district", "GET", "/audit")
        assert "dx-source" not in text and "dx-home" not in text
        _, text = await setup.call("district", "GET", "/status")
        assert "dx-source" not in text
        _, text = await setup.call("admin", "GET", "/status")
        sources = {s["name"]: s for u in json.loads(text)["units"] for s in u["sources"]}
        assert sources["dx-source"]["paused"] is True and sources["vd-source"]["paused"] is False
