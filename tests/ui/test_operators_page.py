"""The page of a commune clerk: the commune's card and documents only, and the clerk's name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from bridge.domain.alerts import AlertKind, AlertRecord
from tests.e2e.two_units import COMMUNE, DISTRICT, NAMES, TOKENS, TwoUnits, two_units
from tests.ui.test_page import WAIT_MS, browser

__all__ = ["browser"]  # the Chromium fixture


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[TwoUnits]:
    async with two_units(tmp_path) as running:
        yield running


async def test_commune_clerk_sees_only_the_commune(setup: TwoUnits, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{setup.base}/?token={TOKENS['commune']}")

    await expect(page.locator("#operator")).to_have_text(f"Đang đăng nhập: {NAMES['commune']}")
    await expect(page.locator(f".unit[data-unit='{COMMUNE}']")).to_be_visible()
    await expect(page.locator(".unit")).to_have_count(1)
    await expect(page.locator(f".unit[data-unit='{DISTRICT}']")).to_have_count(0)

    await page.click("#tab-documents")
    await page.click("#search button[type=submit]")
    docs = page.locator("#docs a.doclink")
    await expect(docs).to_have_count(3)  # its two and the one addressed to both
    text = await page.locator("#docs").inner_text()
    assert "110/" in text and "100/" not in text
    for subject in setup.subjects[DISTRICT]:
        assert subject not in await page.content()

    await page.click("#tab-dead")
    await expect(page.locator("#dead tr.dead-letter")).to_have_count(1)
    await page.click("#tab-audit")
    await expect(page.locator("#audit")).not_to_contain_text(NAMES["district"])

    await page.click("#lang")
    await expect(page.locator("#operator")).to_have_text(f"Signed in as {NAMES['commune']}")
    assert errors == [], f"script errors on the page: {errors}"
    await context.close()


async def test_alerts_sent_show_in_the_banner(setup: TwoUnits, browser: Browser) -> None:
    """An alert firing (sent by mail or webhook) is named in the page's banner, in the clerk's
    language, and only to the operators of its unit."""
    detail = {"endpoint": "bd-source", "units": [[COMMUNE, NAMES["commune"]]]}
    await setup.daemon.store.save_alerts(
        [
            AlertRecord(
                "road:bd-source",
                AlertKind.ROAD_DOWN,
                True,
                "2026-12-07T03:00:00+00:00",
                detail=detail,
            )
        ]
    )
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    await page.goto(f"{setup.base}/?token={TOKENS['commune']}")
    banner = page.locator("#banner")
    await expect(banner).to_contain_text(
        "Đã gửi cảnh báo (thư, webhook): đường nhận/chuyển hỏng lâu"
    )
    await page.click("#lang")
    await expect(banner).to_contain_text("Alert sent (mail, webhook): road down too long")
    await page.goto(f"{setup.base}/?token={TOKENS['district']}")
    await expect(page.locator(".unit")).to_have_count(1)
    await expect(banner).not_to_contain_text("road down too long")
    await context.close()
