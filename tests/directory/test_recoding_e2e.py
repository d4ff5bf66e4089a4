"""Identity across a re-coding, end to end: the axis node serves a directory in which two
communes merged on 1 July 2025, the daemon syncs it, and documents arrive on the axis.

Two former communes' "15/BC-UBND" of 30 June stay two documents; a document dated after the
merger under an old code joins the successor's; one under the old code dated before keeps the
old organ. A message addressed to the unit's old code reaches the unit."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import aiohttp

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from schemas import Attachment, Document, Organ
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.harness import pdf_bytes, wait_until

UNIT, UNIT_OLD = "000.00.17.H59", "000.00.12.H59"
A, B, C = "000.01.31.H59", "000.02.31.H59", "000.03.31.H59"
NAMES = {
    A: "Ủy ban nhân dân xã An Phú",
    B: "Ủy ban nhân dân xã Bình Phú",
    C: "Ủy ban nhân dân xã Phú Hòa",
}
MERGER = dt.datetime(2025, 7, 1)


def _serve_directory(axis: VxpSim) -> None:
    d = axis.directory
    d.put("100", "000.00.00.H59", "Ủy ban nhân dân tỉnh Trà Vinh", is_agency=False)
    d.put("1", A, NAMES[A], pid="100", center_code="N1")
    d.put("2", B, NAMES[B], pid="100", center_code="N2")
    d.put(
        "9",
        UNIT,
        "Sở Khoa học và Công nghệ tỉnh Trà Vinh",
        pid="100",
        center_code="N9",
        old_codes=(UNIT_OLD,),
        modified=MERGER,
    )
    d.put("3", C, NAMES[C], pid="100", center_code="N3", old_codes=(A, B), modified=MERGER)
    d.delete("1", MERGER)
    d.delete("2", MERGER)


def _doc(issuer: str, number: str, day: dt.date, files: str) -> tuple[Document, dict[str, bytes]]:
    data = pdf_bytes(files)
    att = Attachment(
        name=f"{number}.pdf",
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    doc = Document(
        issuer=Organ(code=issuer, name=NAMES[issuer]),
        number=number,
        notation="BC-UBND",
        issued_on=day,
        type_name="Báo cáo",
        subject=f"Báo cáo tình hình số {number}",
        recipients=(Organ(code=UNIT),),
        attachments=(att,),
    )
    return doc, {att.name: data}


def _config(tmp_path: Path, axis: VxpSim, home: TdofficeSim) -> Any:
    system_id, secret = next(iter(axis.systems.items()))
    return parse_config(
        {
            "bridge": {"data_dir": str(tmp_path / "data")},
            "http": {"listen": "127.0.0.1:0"},
            "directory": {"axis": "skhcn-vxp", "sync_interval": 3600},
            "units": [
                {
                    "id": UNIT,
                    "name": "Sở Khoa học và Công nghệ",
                    "sources": [
                        {
                            "name": "skhcn-vxp",
                            "profile": "vxp",
                            "base_url": axis.base_url,
                            "system_id": system_id,
                            "secret": secret,
                            "poll_interval": 0.3,
                        }
                    ],
                    "sinks": [
                        {
                            "name": "skhcn-home",
                            "profile": "tdoffice",
                            "base_url": home.base_url,
                            "api_key": home.api_key,
                        }
                    ],
                }
            ],
        },
        {},
    )


async def test_identity_across_the_merger(tmp_path: Path) -> None:
    async with VxpSim() as axis, TdofficeSim(api_key="home") as home:
        _serve_directory(axis)
        async with build_daemon(_config(tmp_path, axis, home)) as daemon:
            await wait_until(lambda: _synced(daemon), what="the directory synced from the axis")
            june, july = dt.date(2025, 6, 30), dt.date(2025, 7, 5)
            ids = {}
            # two former communes, same number and date before the merger
            ids["a15"] = axis.add_document(*_doc(A, "15", june, "a15"), unit=UNIT_OLD)
            ids["b15"] = axis.add_document(*_doc(B, "15", june, "b15"), unit=UNIT)
            # after the merger: the successor's document, and one under the old code
            ids["c20"] = axis.add_document(*_doc(C, "20", july, "c20"), unit=UNIT)
            ids["a20"] = axis.add_document(*_doc(A, "20", july, "a20"), unit=UNIT)
            # before the merger: the old code keeps the old organ
            ids["a16"] = axis.add_document(*_doc(A, "16", june, "a16"), unit=UNIT)
            ids["c16"] = axis.add_document(*_doc(C, "16", june, "c16"), unit=UNIT)
            await wait_until(lambda: len(axis.acks) == 6, what="every message acknowledged")
            await wait_until(lambda: len(home.received) == 5, what="five documents at home")
            await wait_until(_processed(daemon), what="every record decided")
            by_doc = {d: r for d, r in (await _records(daemon)).items()}
            base = f"http://127.0.0.1:{daemon.http.port}"
            async with aiohttp.ClientSession() as http:
                before = await _get(http, f"{base}/directory?q={A}&at=2025-06-30")
                after = await _get(http, f"{base}/directory?q={A}&at=2025-07-01")
                by_name = await _get(http, f"{base}/directory?q=xa an phu")
                async with http.get(f"{base}/directory?at=30/06/2025") as bad:
                    bad_status = bad.status
                status = await _get(http, f"{base}/status")
                async with http.get(f"{base}/metrics") as response:
                    metrics = await response.text()
        assert before["resolved"]["code"] == A and before["resolved"]["deleted"]
        assert after["resolved"]["code"] == C and after["resolved"]["since"] == "2025-07-01"
        assert "2025-07-01" in after["resolved"]["reason"]
        organ = before["organs"][0]
        assert (organ["code"], organ["successor"], organ["successor_from"]) == (A, C, "2025-07-01")
        assert organ["deleted"] and not organ["has_node"] and organ["other_form"] == "H59.31.01.000"
        assert [o["code"] for o in by_name["organs"]] == [A]  # without diacritics, any case
        assert bad_status == 400
        block = status["directory"]
        assert block["organs"] == 3 and block["version"] == axis.directory.version
        assert block["last_error"] is None and block["synced_at"]
        assert "lienthong_directory_organs 3.0" in metrics
        assert "lienthong_directory_sync_failing 0.0" in metrics
        assert sorted(a[1] for a in axis.acks) == ["done"] * 6  # the old To reached the unit
        docs = {key: by_doc[doc_id] for key, doc_id in ids.items()}
        assert docs["a15"]["document"] != docs["b15"]["document"]
        assert docs["a20"]["document"] == docs["c20"]["document"]
        joined = docs["a20"] if docs["a20"]["outcome"] == "duplicate" else docs["c20"]
        assert joined["outcome"] == "duplicate"
        assert "issuer_code_alias" in joined["decision"]["matched"]
        assert docs["a16"]["document"] != docs["c16"]["document"]
        assert len(home.received) == 5


async def _get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _synced(daemon: Daemon) -> bool:
    return (await daemon.store.directory_state())["version"] is not None


def _processed(daemon: Daemon) -> Any:
    async def check() -> bool:
        return not await daemon.store.unprocessed()

    return check


async def _records(daemon: Daemon) -> dict[str, dict[str, Any]]:
    """Each axis record (by its docId) with its document, outcome and decision."""
    found: dict[str, dict[str, Any]] = {}
    for record_id in range(1, 50):
        record = await daemon.store.record(record_id)
        if record is None:
            continue
        found[record.raw.external_id.split(":")[0]] = {
            "document": record.document_id,
            "outcome": record.outcome,
            "decision": record.decision or {},
        }
    return found


async def test_a_merger_synced_while_running_reaches_the_matcher(tmp_path: Path) -> None:
    """The directory changes on the axis while the daemon runs: the next sync (no restart)
    makes a document under the old code dated after the merger join the successor's."""
    async with VxpSim() as axis, TdofficeSim(api_key="home") as home:
        d = axis.directory
        d.put("9", UNIT, "Sở Khoa học và Công nghệ tỉnh Trà Vinh", center_code="N9")
        d.put("1", A, NAMES[A], center_code="N1")
        d.put("3", C, NAMES[C], center_code="N3")
        raw = _config(tmp_path, axis, home)
        config = raw.model_copy(
            update={"directory": raw.directory.model_copy(update={"sync_interval": 0.3})}
        )
        async with build_daemon(config) as daemon:
            await wait_until(lambda: _synced(daemon), what="the first sync")
            july = dt.date(2025, 7, 5)
            before = [
                axis.add_document(*_doc(A, "30", july, "a30"), unit=UNIT),
                axis.add_document(*_doc(C, "30", july, "c30"), unit=UNIT),
            ]
            await wait_until(lambda: len(home.received) == 2, what="two documents, not merged")
            d.put("3", C, NAMES[C], center_code="N3", old_codes=(A,), modified=MERGER)
            d.delete("1", MERGER)
            version = d.version
            await wait_until(
                lambda: _version_is(daemon, version), what="the merger synced while running"
            )
            after = [
                axis.add_document(*_doc(A, "31", july, "a31"), unit=UNIT),
                axis.add_document(*_doc(C, "31", july, "c31"), unit=UNIT),
            ]
            await wait_until(lambda: len(axis.acks) == 4, what="every message acknowledged")
            await wait_until(_processed(daemon), what="every record decided")
            records = await _records(daemon)
        assert records[before[0]]["document"] != records[before[1]]["document"]
        assert records[after[0]]["document"] == records[after[1]]["document"]
        assert len(home.received) == 3


async def _version_is(daemon: Daemon, version: int) -> bool:
    return bool((await daemon.store.directory_state())["version"] == version)
