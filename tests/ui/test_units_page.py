"""The status page with sixty units in a real browser: the summary of units by state first,
a district chosen, and the units a page at a time."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from bridge.app import build_daemon, parse_config
from tests.ui.test_page import TOKEN, WAIT_MS, browser  # noqa: F401 (the fixture)

UNITS = [f"{i % 30 + 1:03d}.{i // 30 + 1:02d}.33.H49" for i in range(60)]


async def test_summary_filters_and_pages_of_units(tmp_path: Path, browser: Browser) -> None:  # noqa: F811
    units = [
        {
            "id": unit,
            "name": f"Xã {unit}",
            "sinks": [{"name": f"s{n}", "profile": "folder", "path": str(tmp_path / f"o{n}")}],
        }
        for n, unit in enumerate(UNITS)
    ]
    raw = {
        "bridge": {"data_dir": str(tmp_path / "data")},
        "http": {"listen": "127.0.0.1:0", "token": TOKEN},
        "units": units,
    }
    async with build_daemon(parse_config(raw, {})) as daemon:
        page = await (await browser.new_context(locale="vi-VN")).new_page()
        page.set_default_timeout(WAIT_MS)
        await page.goto(f"http://127.0.0.1:{daemon.http.port}/?token={TOKEN}")
        await expect(page.locator("#unit-summary")).to_be_visible()
        await expect(page.locator("#unit-states")).to_contain_text("60 đơn vị")
        await expect(page.locator("#units .unit")).to_have_count(50)
        await expect(page.locator("#page-info")).to_have_text("Đơn vị 1–50 trong 60")
        await page.click("#page-next")
        await expect(page.locator("#units .unit")).to_have_count(10)
        await expect(page.locator("#page-info")).to_have_text("Đơn vị 51–60 trong 60")
        await page.click("#page-prev")
        await expect(page.locator("#units .unit")).to_have_count(50)
        # one district: thirty communes, one page
        await page.select_option("#area-filter", "000.02.33.H49")
        await expect(page.locator("#units .unit")).to_have_count(30)
        await expect(page.locator("#units .unit").first).to_have_attribute(
            "data-unit", "001.02.33.H49"
        )
        await expect(page.locator("#pager")).to_be_hidden()
        # by state: every folder sink answers, so "failing" has none
        await page.select_option("#unit-state-filter", "failing")
        await expect(page.locator("#units .unit")).to_have_count(0)
        await page.select_option("#unit-state-filter", "ok")
        await expect(page.locator("#units .unit")).to_have_count(30)
        await page.click("#lang")
        await expect(page.locator("#unit-states")).to_contain_text("60 units")
