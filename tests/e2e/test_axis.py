"""The axis through the daemon: one node for two units, one acknowledgement, status back to senders."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from adapters.vxp.edxml import emit_status
from adapters.vxp.mapping import format_document_id
from adapters.vxp.message import OrganInfo, ResponseFor, StatusMessage
from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from bridge.snapshot import snapshot
from schemas import DocumentRef
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.harness import make_doc, wait_until

UNITS = ("000.00.33.H49", "000.15.33.H49")
HOOK_SECRET = "hook-secret-xyz"


def _config(tmp_path: Path, axis: VxpSim, homes: list[TdofficeSim]) -> Any:
    system_id, secret = next(iter(axis.systems.items()))
    units = []
    for unit, home, slug in zip(UNITS, homes, ("vandon", "binhdan"), strict=True):
        units.append(
            {
                "id": unit,
                "name": slug,
                "sources": [
                    {
                        "name": f"{slug}-vxp",
                        "profile": "vxp",
                        "base_url": axis.base_url,
                        "system_id": system_id,
                        "secret": secret,
                        "poll_interval": 0.3,
                    }
                ],
                "sinks": [
                    {
                        "name": f"{slug}-home",
                        "profile": "tdoffice",
                        "base_url": home.base_url,
                        "api_key": home.api_key,
                        # binhdan's home pushes its status; vandon's is asked
                        **({"webhook_secret": HOOK_SECRET} if slug == "binhdan" else {}),
                        "status_poll_interval": 0.3,
                    }
                ],
            }
        )
    return parse_config(
        {
            "bridge": {"data_dir": str(tmp_path / "data")},
            "http": {"listen": "127.0.0.1:0"},
            "units": units,
        },
        {},
    )


def _codes(axis: VxpSim, unit: str) -> list[str]:
    return [
        m.status_code or ""
        for m in axis.sent
        if isinstance(m, StatusMessage) and m.sender.organ_id == unit
    ]


async def test_one_message_for_two_units_and_status_back(tmp_path: Path) -> None:
    """Both units get the document, the axis hears one `done`, and each sender status follows home."""
    async with (
        VxpSim() as axis,
        TdofficeSim(api_key="h1") as home1,
        TdofficeSim(api_key="h2") as home2,
    ):
        doc, files = make_doc(7)
        doc_id = axis.add_document(doc, files, units=list(UNITS))
        async with build_daemon(_config(tmp_path, axis, [home1, home2])) as daemon:
            await wait_until(
                lambda: len(home1.received) == 1 and len(home2.received) == 1, what="both homes"
            )
            await wait_until(
                lambda: _codes(axis, UNITS[0]) and _codes(axis, UNITS[1]), what="01 from each unit"
            )
            assert [a for a in axis.acks if a[0] == doc_id] == [(doc_id, "done")]
            assert _codes(axis, UNITS[0])[0] == "01" and _codes(axis, UNITS[1])[0] == "01"
            assert sum(len(u["sources"]) for u in (await _status(daemon))["units"]) == 2

            remote1 = next(iter(home1.received))
            home1.set_status(remote1, "processing")  # polled
            await wait_until(lambda: "05" in _codes(axis, UNITS[0]), what="05 mirrored by polling")
            remote2 = next(iter(home2.received))
            url = f"http://127.0.0.1:{daemon.http.port}/hooks/binhdan-home"
            data = {
                "documentId": remote2,
                "status": "done",
                "updatedAt": "2026-12-02T09:00:00+07:00",
            }
            code = await home2.push(
                url, "document.status_changed", data, HOOK_SECRET, event_id="ev-1"
            )
            assert 200 <= code < 300
            await wait_until(
                lambda: "06" in _codes(axis, UNITS[1]), what="06 mirrored from the webhook"
            )
            forged = await home2.push(
                url, "document.status_changed", data, "wrong-secret", max_attempts=1
            )
            stale = await home2.push(
                url,
                "document.status_changed",
                data,
                HOOK_SECRET,
                timestamp=int(time.time()) - 400,
                max_attempts=1,
            )
        assert forged == 401 and stale == 401
        assert _codes(axis, UNITS[1]).count("06") == 1
        asked = [r for r in home2.requests if r.method == "GET" and r.path.endswith("/status")]
        assert asked == [], "a home system that pushes its status is never asked"
        assert [r for r in home1.requests if r.path.endswith("/status")], "the other is asked"


async def test_take_back_revokes_at_home_and_answers_15(tmp_path: Path) -> None:
    """A sender's take-back (13) revokes the delivered document at home and is answered 15."""
    async with (
        VxpSim() as axis,
        TdofficeSim(api_key="h1") as home1,
        TdofficeSim(api_key="h2") as home2,
    ):
        doc, files = make_doc(8)
        axis.add_document(doc, files, unit=UNITS[0])
        async with build_daemon(_config(tmp_path, axis, [home1, home2])):
            await wait_until(lambda: len(home1.received) == 1, what="delivery")
            ref = DocumentRef(
                issuer=doc.issuer, number=doc.number, notation=doc.notation, issued_on=doc.issued_on
            )
            take_back = StatusMessage(
                sender=OrganInfo(organ_id=doc.issuer.code),
                response_for=ResponseFor(
                    organ_id=doc.issuer.code, code=doc.symbol, document_id=format_document_id(ref)
                ),
                status_code="13",
                description="Lấy lại để sửa trích yếu",
            )
            axis.add_raw(
                emit_status(take_back),
                to=[UNITS[0]],
                message_type="status",
                sender=doc.issuer.code or "",
            )
            await wait_until(lambda: home1.revocations, what="revocation at home")
            await wait_until(lambda: "15" in _codes(axis, UNITS[0]), what="15 to the sender")
        assert list(home1.revocations) == list(home1.received)


async def _status(daemon: Daemon) -> dict[str, Any]:
    return await snapshot(daemon.store, daemon)
