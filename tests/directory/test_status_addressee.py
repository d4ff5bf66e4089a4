"""Status messages go to the organ that answers for the sender today: a document of a commune
merged since is answered to its successor, its reference keeping the code it was issued under."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from adapters import registry
from adapters.vxp.message import StatusMessage
from adapters.vxp.settings import VxpSettings
from bridge.blobs import BlobStore
from bridge.health import Health
from bridge.interfaces import AdapterContext, StatusSender
from bridge.normalize import OrganDirectory
from bridge.normalize.organ_history import Successor
from bridge.status_messages import StatusRelay
from bridge.store import Outcome, SqliteStore, StatusReply
from simulators.vxp import DEFAULT_SECRET, DEFAULT_SYSTEM, VxpSim
from tests.e2e.harness import wait_until
from tests.store.conftest import raw

UNIT = "000.00.17.H59"
A, C, OTHER = "000.01.31.H59", "000.03.31.H59", "000.09.31.H59"


async def test_status_to_a_merged_commune_reaches_its_successor(tmp_path: Path) -> None:
    directory = OrganDirectory.from_entries(
        [
            {"code": A, "name": "Ủy ban nhân dân xã An Phú"},
            {"code": C, "name": "Ủy ban nhân dân xã Phú Hòa"},
        ]
    )
    directory.set_successors([Successor(A, C, dt.date(2025, 7, 1))])
    async with VxpSim() as axis:
        settings = VxpSettings(
            name="axis",
            base_url=axis.base_url,
            system_id=DEFAULT_SYSTEM,
            secret=DEFAULT_SECRET,
            timeout_s=5,
        )
        ctx = AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))
        make_source = registry()["vxp"].make_source
        assert make_source is not None
        async with (
            SqliteStore(tmp_path / "lienthong.sqlite3") as store,
            make_source(settings, ctx) as source,
        ):
            assert isinstance(source, StatusSender)
            relay = StatusRelay(source, store, Health("axis:status", "vxp"), resolver=directory)
            for n, code in enumerate((A, OTHER), start=1):
                (rid,) = await store.save_records([raw(f"m{n}", source="axis")])
                issuer = {"code": code, "name": "Ủy ban nhân dân xã"}
                ref = {
                    "issuer": issuer,
                    "number": str(n),
                    "notation": "BC-UBND",
                    "issued_on": "2025-06-30",
                }
                reply = StatusReply("01", "đã đến / arrived", UNIT, issuer, ref)
                await store.apply(
                    Outcome(record_id=rid, outcome="waiting", decision={}, status_replies=(reply,))
                )
            stop = asyncio.Event()
            task = asyncio.create_task(relay.run(stop))
            try:
                await wait_until(lambda: len(axis.sent) == 2, timeout_s=10, what="two statuses")
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=10)
    sent = [m for m in axis.sent if isinstance(m, StatusMessage)]
    by_number = {(m.response_for.code or "").split("/")[0]: m.response_for for m in sent}
    assert by_number["1"].organ_id == C  # the successor answers for the merged commune
    assert by_number["1"].document_id == f"{A},2025/06/30,1/BC-UBND"  # issued under A
    assert by_number["2"].organ_id == OTHER  # unknown to the directory: as it came
