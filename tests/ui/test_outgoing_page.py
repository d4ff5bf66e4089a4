"""The "Văn bản đi / Outgoing" view in a real browser: per document and recipient the road,
the state, the last code and the time since sending; the paper tasks; cancel from the page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from playwright.async_api import Browser, expect

from bridge.app import build_daemon, parse_config
from simulators.smtp import SmtpSim
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.harness import make_doc, wait_until
from tests.e2e.outgoing_world import (
    AXIS_OK,
    INTERNAL_A,
    LOCKED,
    NOWHERE,
    SENDER,
    TableResolver,
    config_dict,
)
from tests.ui.test_page import WAIT_MS, browser

__all__ = ["browser"]
TOKEN = "out-ui-token"


async def test_outgoing_view_shows_roads_and_cancels(tmp_path: Path, browser: Browser) -> None:
    async with (
        TdofficeSim(api_key="o1") as office,
        TdofficeSim(api_key="ha") as home_a,
        VxpSim() as node,
        SmtpSim() as smtp,
    ):
        node.sending.refuse[LOCKED] = "23"
        smtp.dead.add("bdt@dead.tv.gov.vn")
        doc, files = make_doc(1)
        doc = doc.model_copy(
            update={
                "issuer": doc.issuer.model_copy(update={"code": SENDER}),
                "issued_on": dt.date(2026, 3, 2),
            }
        )
        to = [
            {"organId": c, "organName": None, "email": None}
            for c in (INTERNAL_A, AXIS_OK, LOCKED, NOWHERE)
        ]
        main = office.outbox.issue(doc, files, to, unit=SENDER)
        raw = config_dict(tmp_path, office, {INTERNAL_A: home_a}, node, smtp)
        raw["http"]["token"] = TOKEN
        daemon = build_daemon(parse_config(raw, {}), resolver=TableResolver())
        async with daemon:
            await wait_until(
                lambda: (
                    {r["recipient"]: r["state"] for r in office.outbox.log_of(main)}
                    == {
                        INTERNAL_A: "registered",
                        AXIS_OK: "sent",
                        LOCKED: "sent",
                        NOWHERE: "undeliverable",
                    }
                ),
                timeout_s=20,
                what="every road taken",
            )
            context = await browser.new_context(viewport={"width": 1366, "height": 768})
            page = await context.new_page()
            page.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"http://127.0.0.1:{daemon.http.port}/?token={TOKEN}")
            await page.click("#tab-outgoing")
            rows = page.locator("tr.out-recipient")
            await expect(rows).to_have_count(4)
            await expect(page.locator("tr.out-recipient", has_text=LOCKED)).to_contain_text(
                "thư công vụ"
            )
            axis_row = page.locator("tr.out-recipient", has_text=AXIS_OK)
            await expect(axis_row).to_contain_text("trục liên thông")
            await expect(axis_row).to_contain_text("sent")
            await expect(page.locator("#paper li")).to_have_count(1)
            await axis_row.locator("button.out-cancel").click()
            await expect(axis_row).to_contain_text("undeliverable")
            await expect(page.locator("#paper li")).to_have_count(2)
            assert errors == [], errors
            await wait_until(
                lambda: (
                    [
                        (r["road"], r["state"], r["detail"])
                        for r in office.outbox.log_of(main)
                        if r["recipient"] == AXIS_OK
                    ][-2:]
                    == [
                        ("axis", "failed", "Người vận hành hủy"),
                        ("paper", "undeliverable", "Gửi bản giấy"),
                    ]
                ),
                what="the cancel reported",
            )
            trail = await daemon.store.audit_trail()
            assert any(a["action"] == "outgoing_cancel" for a in trail)
