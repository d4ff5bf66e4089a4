"""The outgoing documents as operators of some units read them: another unit's document is not
found, the units' own are listed; a viewer may read but not retry or cancel; the sender's
operator cancels, audited under its name; /status's outbound block counts its units only."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import aiohttp

from bridge.app import build_daemon, parse_config
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.harness import make_doc, wait_until
from tests.e2e.outgoing_world import AXIS_OK, INTERNAL_A, SENDER, TableResolver, config_dict

TOKENS = {"sender": "tok-sender", "commune": "tok-commune", "viewer": "tok-viewer"}


def _operators() -> list[dict[str, Any]]:
    units = {"sender": [SENDER], "commune": [INTERNAL_A], "viewer": [SENDER]}
    return [
        {
            "name": name,
            "token_sha256": hashlib.sha256(token.encode()).hexdigest(),
            "units": units[name],
            "role": "viewer" if name == "viewer" else "operator",
        }
        for name, token in TOKENS.items()
    ]


async def _call(port: int, who: str, method: str, path: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {TOKENS[who]}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"http://127.0.0.1:{port}{path}", headers=headers) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def test_outgoing_scoped_to_the_operators_units(tmp_path: Path) -> None:
    async with (
        TdofficeSim(api_key="o1") as office,
        TdofficeSim(api_key="ha") as home_a,
        VxpSim() as node,
    ):
        doc, files = make_doc(1)
        doc = doc.model_copy(
            update={
                "issuer": doc.issuer.model_copy(update={"code": SENDER}),
                "issued_on": dt.date(2026, 3, 2),
            }
        )
        to = [{"organId": c, "organName": None, "email": None} for c in (INTERNAL_A, AXIS_OK)]
        main = office.outbox.issue(doc, files, to, unit=SENDER)
        raw = config_dict(tmp_path, office, {INTERNAL_A: home_a}, node)
        raw["operators"] = _operators()
        async with build_daemon(parse_config(raw, {}), resolver=TableResolver()) as daemon:
            await wait_until(
                lambda: (
                    {r["recipient"]: r["state"] for r in office.outbox.log_of(main)}.get(AXIS_OK)
                    == "sent"
                ),
                what="sent on the axis",
            )
            port = daemon.http.port
            status, body = await _call(port, "commune", "GET", "/outgoing")
            assert status == 200 and body["items"] == []
            assert (await _call(port, "commune", "GET", "/outgoing/1"))[0] == 404
            cancel = f"/outgoing/1/recipients/{AXIS_OK}/cancel"
            assert (await _call(port, "commune", "POST", cancel))[0] == 404
            assert (await _call(port, "viewer", "POST", cancel))[0] == 403
            status, body = await _call(port, "sender", "GET", "/outgoing")
            assert status == 200 and [d["document_id"] for d in body["items"]] == [main]
            status, snap = await _call(port, "commune", "GET", "/status")
            assert snap["outbound"]["documents"] == 0
            status, done = await _call(port, "sender", "POST", cancel)
            assert status == 200 and done["state"] == "undeliverable"
            assert (await _call(port, "sender", "POST", cancel))[0] == 409  # already on paper
            trail = await daemon.store.audit_trail()
            assert [
                (a["actor"], a["action"]) for a in trail if a["action"].startswith("outgoing")
            ] == [("sender", "outgoing_cancel")]
