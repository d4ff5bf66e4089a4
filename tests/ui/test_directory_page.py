"""The Danh bạ cơ quan tab in a real browser: the configuration's organs and successor, what a
code meant on a date, names found as clerks type them, in both languages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from simulators.vxp import VxpSim
from tests.e2e.harness import wait_until
from tests.ui.test_page import TOKEN, WAIT_MS, browser

__all__ = ["browser"]  # the fixture, shared with the page's other browser tests

A, C = "000.01.31.H59", "000.03.31.H59"


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    """The configuration's organs and successor; the axis node refuses the directory sync."""
    axis = VxpSim()
    axis.fail["getSynchronizeUnit"] = ("2009", "Lỗi truy vấn danh bạ")
    system_id, secret = next(iter(axis.systems.items()))
    await axis.start()
    vxp = {"profile": "vxp", "base_url": axis.base_url, "system_id": system_id, "secret": secret}
    config = parse_config(
        {
            "bridge": {"data_dir": str(tmp_path / "data")},
            "http": {"listen": "127.0.0.1:0", "token": TOKEN},
            "units": [{"id": C, "sources": [{"name": "phuhoa-vxp", **vxp}]}],
            "organs": [
                {"code": A, "name": "Ủy ban nhân dân xã An Phú"},
                {"code": C, "name": "Ủy ban nhân dân xã Phú Hòa"},
            ],
            "directory": {"successors": [{"old": A, "new": C, "from": "2025-07-01"}]},
        },
        {},
    )
    try:
        async with build_daemon(config) as daemon:
            await wait_until(lambda: _failed(daemon), what="the failed directory sync")
            yield f"http://127.0.0.1:{daemon.http.port}/?token={TOKEN}"
    finally:
        await axis.close()


async def _failed(daemon: Daemon) -> bool:
    return (await daemon.store.directory_state())["last_error"] is not None


async def test_directory_tab_answers_what_a_code_meant_on_a_date(
    url: str, browser: Browser, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url)
    await expect(page.locator("#banner")).to_contain_text(
        "Không đồng bộ được danh bạ cơ quan, danh bạ cũ vẫn được dùng"
    )
    await page.click("#tab-directory")
    rows = page.locator("#directory tr.organ")
    await expect(rows).to_have_count(2)
    await expect(page.locator("#directory-sync")).to_contain_text("chưa lần nào")
    await expect(page.locator("#directory-sync .err")).to_contain_text("Lỗi truy vấn danh bạ")
    old = page.locator(f"#directory tr.organ[data-code='{A}']")
    await expect(old.locator(".successor")).to_have_text(f"{C} (từ 2025-07-01)")

    await page.fill("#directory-q", A)
    await page.fill("#directory-at", "2025-06-30")
    await page.click("#directory-form button[type=submit]")
    await expect(page.locator("#directory-answer")).to_have_text(f"{A} — Ủy ban nhân dân xã An Phú")
    await page.fill("#directory-at", "2025-07-01")
    await page.click("#directory-form button[type=submit]")
    await expect(page.locator("#directory-answer")).to_have_text(
        f"{C} — Ủy ban nhân dân xã Phú Hòa"
    )
    await expect(page.locator("#directory-resolved")).to_contain_text("2025-07-01")
    await page.screenshot(path=str(tmp_path / "directory.png"))

    await page.fill("#directory-q", "xa phu hoa")  # no diacritics
    await page.fill("#directory-at", "")
    await page.click("#directory-form button[type=submit]")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-code", C)

    await page.click("#lang")
    await expect(page.locator("#tab-directory")).to_have_text("Organ directory")
    await expect(page.locator("#directory th").first).to_have_text("Current code")
    assert errors == [], f"script errors on the page: {errors}"
    await context.close()
