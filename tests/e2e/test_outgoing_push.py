"""An outbox's signed webhooks (`document.issued` …) at /hooks/{outbox}: the item is stored and
sent without waiting for the next poll."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bridge.app import build_daemon, parse_config
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.harness import make_doc, wait_until
from tests.e2e.outgoing_world import AXIS_OK, INTERNAL_A, SENDER, TableResolver, config_dict


async def test_an_issued_document_pushed_is_sent_at_once(tmp_path: Path) -> None:
    async with (
        TdofficeSim(api_key="o1") as office,
        TdofficeSim(api_key="ha") as home_a,
        VxpSim() as node,
    ):
        raw = config_dict(tmp_path, office, {INTERNAL_A: home_a}, node)
        outbox = raw["units"][0]["outboxes"][0]
        outbox["poll_interval"] = 3600  # read once at start: what comes later is pushed
        outbox["webhook_secret"] = office.outbox.webhook_secret
        async with build_daemon(parse_config(raw, {}), resolver=TableResolver()) as daemon:

            def read_once() -> bool:
                health = daemon.health_of("tc-out")
                return health is not None and health.state == "ok"

            await wait_until(read_once, what="the outbox read once")
            office.outbox.webhook_url = f"http://127.0.0.1:{daemon.http.port}/hooks/tc-out"
            doc, files = make_doc(7)
            doc = doc.model_copy(
                update={
                    "issuer": doc.issuer.model_copy(update={"code": SENDER}),
                    "issued_on": dt.date(2026, 3, 2),
                }
            )
            to = [{"organId": c, "organName": None, "email": None} for c in (AXIS_OK, INTERNAL_A)]
            pushed = office.outbox.issue(doc, files, to, unit=SENDER)
            await wait_until(
                lambda: (
                    {r["recipient"]: r["state"] for r in office.outbox.log_of(pushed)}
                    == {AXIS_OK: "sent", INTERNAL_A: "registered"}
                ),
                timeout_s=15,
                what="the pushed document sent on the axis and into the unit",
            )
            await office.outbox.settle()
        assert len(home_a.received) == 1
        assert (
            node.sending.count(next(iter(node.sending.sent_log)).sender_doc_id or "", AXIS_OK) == 1
        )
