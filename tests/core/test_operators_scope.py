"""A token scoped to one unit sees and changes nothing of another unit, on every endpoint.

The routes are read from the application itself: an endpoint added later is tested here too,
and fails until it filters by the token's units (or is named below as open by design).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
import pytest_asyncio

from bridge.domain.alerts import AlertKind, AlertRecord
from bridge.http.server import build_app
from bridge.services import Services
from tests.e2e.two_units import (
    COMMUNE,
    DISTRICT,
    NAMES,
    TwoUnits,
    shared_document,
    two_units,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

OPEN = {  # open by design: no token, no unit data (health probes, webhooks, the empty page)
    ("GET", "/"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/hooks/{name}"),
}
ROUTES = sorted(
    {
        (route.method, route.resource.canonical)
        for route in build_app(cast(Services, None)).router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    - OPEN
)
ID_KINDS = (
    ("/documents/", "document"),
    ("/dead-letters/", "dead"),
    ("/quarantine/", "quarantine"),
    ("/outgoing/", "outgoing"),  # none sent here: any id is another unit's or none (404)
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def setup(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TwoUnits]:
    async with two_units(Path(tmp_path_factory.mktemp("two-units"))) as running:
        yield running


def _path(canonical: str, ids: dict[str, int]) -> str:
    """The route with the district's rows (or endpoints) in its placeholders."""

    def fill(match: re.Match[str]) -> str:
        if match[1] == "id":
            kind = next((k for prefix, k in ID_KINDS if canonical.startswith(prefix)), None)
            assert kind, f"{canonical}: name the kind of row its {{id}} is in ID_KINDS"
            return str(ids.get(kind, 1))
        if match[1] == "code":  # a recipient of an outgoing document
            return DISTRICT
        if match[1] == "name":
            return "vd-home" if "sink" in canonical else "vd-source"
        raise AssertionError(f"{canonical}: fill its {{{match[1]}}} in this test")

    return re.sub(r"\{(\w+)\}", fill, canonical)


def _district_markers(setup: TwoUnits) -> list[str]:
    return [DISTRICT, "vd-source", "vd-home", NAMES["district"], *setup.subjects[DISTRICT]]


async def _audit_size(setup: TwoUnits) -> int:
    status, body = await setup.call("admin", "GET", "/audit?limit=1000")
    assert status == 200
    return len(json.loads(body)["items"])


@pytest.mark.parametrize(("method", "route"), ROUTES)
async def test_commune_clerk_sees_and_changes_nothing_of_the_district(
    setup: TwoUnits, method: str, route: str
) -> None:
    ids = setup.ids[DISTRICT]
    path = _path(route, ids)
    before = await _audit_size(setup)
    body: Any = None
    if method == "POST":
        body = {"record_id": ids["record"], "other_id": setup.ids[COMMUNE]["document"]}
    status, text = await setup.call("commune", method, path, body)
    assert status < 500, text
    for marker in _district_markers(setup):
        assert marker not in text, f"{method} {path} shows the district's {marker!r}"
    if method != "GET":
        assert status in (403, 404), f"{method} {path} let the commune act: {status} {text}"
    assert await _audit_size(setup) == before, f"{method} {path} changed something"


async def test_commune_clerk_sees_the_commune(setup: TwoUnits) -> None:
    """The filtering keeps the commune's own rows: its card, documents, dead letter, held record."""
    status, text = await setup.call("commune", "GET", "/status")
    snap = json.loads(text)
    assert status == 200 and [u["id"] for u in snap["units"]] == [COMMUNE]
    assert snap["totals"]["documents"] == 3 and snap["totals"]["dead"] == 1
    assert snap["totals"]["received"] == 4 and snap["totals"]["quarantined"] == 1
    status, text = await setup.call("commune", "GET", "/documents")
    held = setup.subjects[COMMUNE][1]  # the secret one, in quarantine: no document yet
    shared = shared_document()[0].subject
    assert sorted(d["subject"] for d in json.loads(text)["items"]) == sorted(
        [shared, *(s for s in setup.subjects[COMMUNE] if s != held)]
    )
    status, text = await setup.call(
        "commune", "GET", f"/documents/{setup.ids[COMMUNE]['document']}"
    )
    assert status == 200
    _, text = await setup.call("commune", "GET", "/dead-letters")
    assert [d["id"] for d in json.loads(text)["items"]] == [setup.ids[COMMUNE]["dead"]]
    _, text = await setup.call("commune", "GET", "/quarantine")
    assert [q["id"] for q in json.loads(text)["items"]] == [setup.ids[COMMUNE]["quarantine"]]
    status, text = await setup.call("commune", "GET", "/whoami")
    assert json.loads(text) == {"name": NAMES["commune"], "units": [COMMUNE], "role": "operator"}


async def test_a_document_of_both_units_shows_the_communes_roads_only(setup: TwoUnits) -> None:
    """Addressed to both: the commune's clerk reads it with the commune's record and delivery,
    and no name of the district's source or home system."""
    _, text = await setup.call("commune", "GET", "/documents?q=120")
    (found,) = json.loads(text)["items"]
    assert found["roads"] == ["dx-source"]
    status, text = await setup.call("commune", "GET", f"/documents/{found['id']}")
    body = json.loads(text)
    assert status == 200 and "vd-source" not in text and "vd-home" not in text
    assert [r["unit"] for r in body["records"]] == [COMMUNE]
    assert [d["sink"] for d in body["deliveries"]] == ["dx-home"]
    _, text = await setup.call("admin", "GET", f"/documents/{found['id']}")
    assert sorted(r["unit"] for r in json.loads(text)["records"]) == sorted([DISTRICT, COMMUNE])


async def test_another_units_document_is_not_found_not_forbidden(setup: TwoUnits) -> None:
    status, text = await setup.call(
        "commune", "GET", f"/documents/{setup.ids[DISTRICT]['document']}"
    )
    assert status == 404 and "không có văn bản này / no such document" in text
    status, text = await setup.call("commune", "GET", f"/documents?unit={DISTRICT}")
    assert status == 400 and DISTRICT in text  # the unit it asked for, and no other
    status, text = await setup.call("commune", "GET", "/metrics")
    assert status == 403 and " / " in text


async def test_merge_of_another_units_document_into_ones_own_is_refused(setup: TwoUnits) -> None:
    before = await _audit_size(setup)
    own, other = setup.ids[COMMUNE]["document"], setup.ids[DISTRICT]["document"]
    status, _ = await setup.call("commune", "POST", f"/documents/{own}/merge", {"other_id": other})
    assert status == 404
    assert await _audit_size(setup) == before


async def test_viewer_reads_but_cannot_act(setup: TwoUnits) -> None:
    status, _ = await setup.call("viewer", "GET", "/quarantine")
    assert status == 200
    before = await _audit_size(setup)
    qid = setup.ids[COMMUNE]["quarantine"]
    status, text = await setup.call("viewer", "POST", f"/quarantine/{qid}/retry")
    assert status == 403 and "chỉ được xem" in text and "may read but not act" in text
    assert await _audit_size(setup) == before


async def test_audit_row_names_the_operator(setup: TwoUnits) -> None:
    """The district clerk's replay is in the trail under the clerk's name, which only the
    district and the admin read; the shared token still works, and reads every unit."""
    status, text = await setup.call("admin", "GET", "/audit")
    rows = json.loads(text)["items"]
    assert status == 200
    assert [(r["actor"], r["action"]) for r in rows] == [(NAMES["district"], "replay")]
    _, text = await setup.call("district", "GET", "/audit")
    assert [r["actor"] for r in json.loads(text)["items"]] == [NAMES["district"]]
    _, text = await setup.call("admin", "GET", "/status")
    assert [u["id"] for u in json.loads(text)["units"]] == [DISTRICT, COMMUNE]
    _, text = await setup.call("admin", "GET", "/whoami")
    assert json.loads(text)["units"] is None


async def test_wrong_or_missing_token_is_refused(setup: TwoUnits) -> None:
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            async with http.get(setup.base + "/status", headers=headers) as resp:
                assert resp.status == 401
                assert (await resp.json())["error"] == "cần mã truy cập / bearer token required"


async def test_alerts_of_another_unit_are_not_listed(setup: TwoUnits) -> None:
    """/status lists to the commune clerk the alerts of the commune's roads only; the growth of
    dead letters (counted over every unit) is for tokens of every unit."""
    store = setup.daemon.store
    kept = await store.alerts()

    def road(name: str, unit: str) -> AlertRecord:
        detail = {"endpoint": name, "units": [[unit, ""]]}
        return AlertRecord(f"road:{name}", AlertKind.ROAD_DOWN, True, "2026-12-07", detail=detail)

    growth = AlertRecord("dead_letters", AlertKind.DEAD_LETTERS, True, "2026-12-07")
    await store.save_alerts([road("vd-source", DISTRICT), road("bd-source", COMMUNE), growth])
    try:
        _, text = await setup.call("commune", "GET", "/status")
        assert [a["key"] for a in json.loads(text)["alerts"]] == ["road:bd-source"]
        _, text = await setup.call("admin", "GET", "/status")
        assert len(json.loads(text)["alerts"]) == 3
    finally:
        ended = [dataclasses.replace(a, firing=False) for a in await store.alerts()]
        await store.save_alerts([*ended, *kept])
