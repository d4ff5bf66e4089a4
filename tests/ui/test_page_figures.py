"""The page in a real browser: each unit card's figures add up to the totals (a document
addressed to both units counts in each), systems appear by their names, the document answers
with both home systems, and the 24-hour chart draws what /throughput says."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.api.test_figures import HOME_A, HOME_B, UNIT_B, running_two_units
from tests.e2e.harness import UNIT
from tests.ui import test_page
from tests.ui.test_page import TOKEN, WAIT_MS

browser = test_page.browser  # the page tests' Chromium fixture
KEYS = ("documents", "duplicates", "pending", "dead", "quarantined")


async def _figure(page: Page, unit: str, key: str) -> int:
    text = await page.locator(
        f".unit[data-unit='{unit}'] .unit-figures [data-key='{key}'] b"
    ).inner_text()
    return int(text)


async def test_unit_figures_add_up_to_the_totals(tmp_path: Path, browser: Browser) -> None:
    async with running_two_units(tmp_path, TOKEN) as run:
        page = await (await browser.new_context(locale="vi-VN")).new_page()
        page.set_default_timeout(WAIT_MS)
        await page.goto(f"http://127.0.0.1:{run.daemon.http.port}/?token={TOKEN}")
        await expect(page.locator("#total-documents")).to_have_text("4")
        await expect(
            page.locator(f".unit[data-unit='{UNIT}'] .unit-figures [data-key='duplicates'] b")
        ).to_have_text("1")
        for key in KEYS:
            total = int(await page.locator(f"#total-{key}").inner_text())
            units = [await _figure(page, u, key) for u in (UNIT, UNIT_B)]
            assert sum(units) == total, (key, units, total)
        assert [await _figure(page, u, "documents") for u in (UNIT, UNIT_B)] == [2, 2]
        await expect(page.locator(".endpoint[data-name='vd-home'] b").first).to_have_text(HOME_A)
        await expect(page.locator(".endpoint[data-name='bd-home'] b").first).to_have_text(HOME_B)
        await expect(page.locator("#throughput svg rect.received")).to_have_count(24)
        await expect(page.locator("#tp-received")).to_have_text("5")
        await expect(page.locator("#tp-delivered")).to_have_text("4")
        await expect(page.locator("#throughput h2")).to_have_text("24 giờ qua")

        found = (await run.get("/documents?q=100/STC-NS"))["items"][0]
        await page.click("#tab-documents")
        await page.click(f"#docs .doclink[data-id='{found['id']}']")
        answer = page.locator("#doc-answer")
        await expect(answer).to_contain_text(HOME_A)
        await expect(answer).to_contain_text(HOME_B)
        await page.click("#lang")
        await expect(page.locator("#throughput h2")).to_have_text("Last 24 hours")
