"""A document's timeline through the real daemon: received by two roads, delivered, corrected
by a PATCH, with the home system's statuses in and the sender's statuses out, in order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.harness import UNIT, wait_until
from tests.e2e.test_late_road import AXIS_ROAD, HOME, _delivered_without_code


def _when(entry: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["at"])


async def test_timeline_of_a_document_from_two_roads(tmp_path: Path) -> None:
    async with _delivered_without_code(tmp_path) as scene:
        scene.axis.add_document(scene.doc, scene.files, unit=UNIT)
        await wait_until(lambda: scene.home.revisions.get(scene.remote_id), what="the PATCH")
        url = f"http://127.0.0.1:{scene.daemon.http.port}/documents/{scene.document_id}"

        async def settled() -> dict[str, Any] | None:
            async with aiohttp.ClientSession() as http, http.get(url) as resp:
                body: dict[str, Any] = await resp.json()
            kinds = [e["kind"] for e in body["timeline"]]
            sent = [e for e in body["timeline"] if e["kind"] == "status_out"]
            done = kinds.count("delivery_done") == 2 and len(sent) == 3
            return body if done and all(e["state"] == "sent" for e in sent) else None

        await wait_until(settled, what="the correction delivered and the statuses sent")
        body = await settled()
    assert body is not None
    entries = body["timeline"]
    assert all(e["at"] for e in entries)
    ours = [_when(e) for e in entries if e["kind"] != "status_in"]  # home's clock aside
    assert ours == sorted(ours)
    steps = [(e["kind"], e.get("source") or e.get("sink"), e.get("op") or e.get("status") or e.get("code")) for e in entries]  # fmt: skip
    td, rest = steps[:4], steps[4:]
    assert td == [
        ("record", "vandon-td", None),
        ("decision", "vandon-td", None),
        ("delivery_queued", HOME, "create"),
        ("delivery_done", HOME, "create"),
    ]
    assert rest.index(("status_in", HOME, "received")) < rest.index(("status_in", HOME, "assigned"))
    axis = rest.index(("record", AXIS_ROAD, None))
    assert rest[axis + 1] == ("decision", AXIS_ROAD, None)
    assert rest.index(("status_in", HOME, "assigned")) < axis
    after = rest[axis + 2 :]
    assert ("delivery_queued", HOME, "correct") in after and (
        "delivery_done",
        HOME,
        "correct",
    ) in after
    assert [s for s in after if s[0] == "status_out"] == [
        ("status_out", AXIS_ROAD, "01"),
        ("status_out", AXIS_ROAD, "03"),
        ("status_out", AXIS_ROAD, "04"),
    ]
    decision = entries[4 + axis + 1]
    assert decision["outcome"] == "duplicate"
    assert [c["field"] for c in decision["corrected"]] == ["issuer.code"]
    (done,) = [e for e in entries if e["kind"] == "delivery_done" and e["op"] == "create"]
    assert done["state"] == "delivered" and done["remote_id"] == scene.remote_id
    assert len(steps) == 4 + len(rest) and len(entries) == len(set(map(str, entries)))
