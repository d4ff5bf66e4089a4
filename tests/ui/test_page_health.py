"""The status page in a real browser tells the truth about health: a home system not reached
yet is grey "Chưa kết nối" (never green), and a background task that failed turns the banner
red with its name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

from bridge.app import build_daemon, parse_config
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import config_dict
from tests.e2e.test_health_states import silent_server
from tests.ui.test_page import CHROMIUM_ARGS, TOKEN, WAIT_MS

SILENT = "vd-silent"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def test_unknown_sink_is_grey_and_a_failed_task_shows_in_the_banner(
    tmp_path: Path, browser: Browser
) -> None:
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
        silent_server() as silent_url,
    ):
        raw = config_dict(tmp_path / "data", source, home, dropper)
        raw["http"]["token"] = TOKEN
        raw["units"][0]["sinks"] = [
            {"name": SILENT, "profile": "tdoffice", "api_key": "k", "base_url": silent_url}
        ]
        async with build_daemon(parse_config(raw, {})) as daemon:
            page = await (await browser.new_context(locale="vi-VN")).new_page()
            page.set_default_timeout(WAIT_MS)
            await page.goto(f"http://127.0.0.1:{daemon.http.port}/?token={TOKEN}")
            state = page.locator(f".endpoint[data-name='{SILENT}'] .state")
            await expect(state).to_have_text("Chưa kết nối")
            await expect(state).to_have_class("state unknown")
            await expect(page.locator("#banner")).to_be_hidden()

            async def fails() -> None:
                raise RuntimeError("cấu hình mới không áp dụng được / new configuration failed")

            await daemon.supervisor.once("reload", fails)
            await page.reload()
            await expect(page.locator("#banner")).to_contain_text("Tác vụ nền reload bị lỗi")
            await page.click("#lang")
            await expect(state).to_have_text("Not connected yet")
            await expect(page.locator("#banner")).to_contain_text("Background task reload failed")
