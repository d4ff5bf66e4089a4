"""A road that joins a delivered document late, through the daemon against the real
simulators: its edXML sender hears 01 and then every status the home system already reported,
in order, once each; and the organ code it carries corrects the home copy with a PATCH."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from adapters.vxp.message import StatusMessage
from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from schemas import Document, Organ
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.harness import UNIT, make_doc, wait_until

HOME = "vandon-home"
AXIS_ROAD = "vandon-vxp"


def _config(tmp_path: Path, source: TdofficeSim, axis: VxpSim, home: TdofficeSim) -> Any:
    system_id, secret = next(iter(axis.systems.items()))
    return parse_config(
        {
            "bridge": {"data_dir": str(tmp_path / "data")},
            "http": {"listen": "127.0.0.1:0"},
            "units": [
                {
                    "id": UNIT,
                    "name": "vandon",
                    "sources": [
                        {
                            "name": "vandon-td",
                            "profile": "tdoffice",
                            "base_url": source.base_url,
                            "api_key": source.api_key,
                            "poll_interval": 0.3,
                        },
                        {
                            "name": AXIS_ROAD,
                            "profile": "vxp",
                            "base_url": axis.base_url,
                            "system_id": system_id,
                            "secret": secret,
                            "poll_interval": 0.3,
                        },
                    ],
                    "sinks": [
                        {
                            "name": HOME,
                            "profile": "tdoffice",
                            "base_url": home.base_url,
                            "api_key": home.api_key,
                            "status_poll_interval": 0.3,
                        }
                    ],
                }
            ],
        },
        {},
    )


def _codes(axis: VxpSim) -> list[str]:
    return [m.status_code or "" for m in axis.sent if isinstance(m, StatusMessage)]


@dataclass
class Scene:
    daemon: Daemon
    axis: VxpSim
    home: TdofficeSim
    doc: Document
    files: dict[str, bytes]
    remote_id: str
    document_id: int


@asynccontextmanager
async def _delivered_without_code(tmp_path: Path) -> AsyncIterator[Scene]:
    """A document delivered home from a road that named its issuer without the organ code;
    the home has since reported it received (on create) and assigned."""
    source, axis, home = TdofficeSim(api_key="src"), VxpSim(), TdofficeSim(api_key="home")
    async with source, axis, home:
        doc, files = make_doc(7)
        source.add_document(
            doc.model_copy(update={"issuer": Organ(name=doc.issuer.name)}), files, unit=UNIT
        )
        async with build_daemon(_config(tmp_path, source, axis, home)) as daemon:
            await wait_until(lambda: len(home.received) == 1, what="the first road delivered")
            remote_id = next(iter(home.received))
            assert home.received[remote_id]["issuer"]["organId"] is None
            store = daemon.store
            (row,) = await store.search_documents(
                unit=None, q=None, state=None, limit=5, before=None
            )

            def reported(*statuses: str) -> Callable[[], Awaitable[bool]]:
                async def check() -> bool:
                    home_statuses = (await store.statuses_of(row.id))["home"]
                    return tuple(s["status"] for s in home_statuses) == statuses

                return check

            await wait_until(reported("received"), what="received reported by home")
            home.set_status(remote_id, "assigned")
            await wait_until(reported("received", "assigned"), what="assigned reported by home")
            yield Scene(daemon, axis, home, doc, files, remote_id, row.id)


async def test_a_late_edxml_road_hears_01_then_every_status_already_reported(
    tmp_path: Path,
) -> None:
    """01 on arrival, then 03 and 04 that home reported before the road joined, in order and
    once each; a status reported afterwards (05) follows them."""
    async with _delivered_without_code(tmp_path) as scene:
        scene.axis.add_document(scene.doc, scene.files, unit=UNIT)
        await wait_until(lambda: "04" in _codes(scene.axis), what="04 to the late road")
        scene.home.set_status(scene.remote_id, "processing")
        await wait_until(lambda: "05" in _codes(scene.axis), what="05 mirrored afterwards")
        assert _codes(scene.axis) == ["01", "03", "04", "05"]
        sent = (await scene.daemon.store.statuses_of(scene.document_id))["sent"]
        assert [(s["source"], s["code"]) for s in sent] == [
            (AXIS_ROAD, "01"),
            (AXIS_ROAD, "03"),
            (AXIS_ROAD, "04"),
            (AXIS_ROAD, "05"),
        ]
        assert len(scene.home.received) == 1


async def test_a_later_road_with_the_organ_code_corrects_the_home_copy_with_a_patch(
    tmp_path: Path,
) -> None:
    """The code the edXML road carries reaches home as a PATCH of the same version with a note
    naming the road, and GET /documents/{id} shows the corrected issuer and the correction."""
    async with _delivered_without_code(tmp_path) as scene:
        scene.axis.add_document(scene.doc, scene.files, unit=UNIT)
        await wait_until(lambda: scene.home.revisions.get(scene.remote_id), what="the PATCH")
        (patch,) = scene.home.revisions[scene.remote_id]
        code, name = scene.doc.issuer.code, scene.doc.issuer.name
        assert patch["issuer"] == {"organId": code, "organName": name}
        assert patch["version"] == 1
        assert patch["note"].startswith(f"Bổ sung theo đường {AXIS_ROAD}: mã cơ quan ban hành")
        assert f"completed from road {AXIS_ROAD}: issuer code «{code}»" in patch["note"]
        assert len(scene.home.received) == 1
        assert scene.home.received[scene.remote_id]["issuer"]["organId"] == code
        assert len(scene.home.calls("PATCH", "/api/v2/documents/")) == 1

        url = f"http://127.0.0.1:{scene.daemon.http.port}/documents/{scene.document_id}"
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 200
            body = await resp.json()
    assert body["document"]["issuer"] == {"code": code, "name": name}
    (taught,) = body["corrections"]["taught"]
    assert taught["source"] == AXIS_ROAD
    assert taught["fields"] == [{"field": "issuer.code", "value": code, "road": AXIS_ROAD}]
    (correction,) = body["corrections"]["deliveries"]
    assert correction["op"] == "correct" and correction["state"] == "delivered"
    assert correction["note"] == patch["note"]
