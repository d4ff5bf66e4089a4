"""The status page in a real browser (Debian's chromium) against an in-process daemon."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim, require_number_and_subject
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until

TOKEN = "ui-test-token"
REFUSED_NUMBER = "102"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WAIT_MS = 8000


def refuse_one(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The home system's validator while broken: it rejects document number 102 with a 422."""
    if body.get("codeNumber") == REFUSED_NUMBER:
        return [{"field": "subject", "message": "trích yếu không hợp lệ / subject rejected"}]
    return require_number_and_subject(body)


@dataclass
class Running:
    daemon: Daemon
    home: TdofficeSim
    url: str


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """Three documents (one also by folder); the home system refuses one, leaving a dead letter."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        home.validator = refuse_one
        for i in range(3):
            doc, files = make_doc(i)
            source.add_document(doc, files, unit=UNIT)
            if i == 0:
                dropper.add_document(doc, files, unit=UNIT)
        raw = config_dict(tmp_path / "data", source, home, dropper)
        raw["http"]["token"] = TOKEN
        async with build_daemon(parse_config(raw, {})) as daemon:
            await wait_until(lambda: len(home.received) == 2, timeout_s=20, what="two deliveries")
            await wait_until(_dead_letter(daemon), timeout_s=20, what="one dead letter")
            await daemon.processor.process_pending()
            yield Running(daemon, home, f"http://127.0.0.1:{daemon.http.port}/?token={TOKEN}")


def _dead_letter(daemon: Daemon) -> Any:
    async def check() -> bool:
        return len(await daemon.store.dead_letters()) == 1

    return check


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, headless, with no network of its own beyond loopback pages."""
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _open(browser: Browser, url: str, width: int = 1366, height: int = 768) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url)
    await expect(page.locator("#total-received")).to_have_text("4")
    assert errors == [], f"script errors on the page: {errors}"
    return page


async def test_operator_finds_document_and_replays_dead_letter(
    running: Running, browser: Browser, tmp_path: Path
) -> None:
    """Unit and roads shown; a search by number opens the document with both roads; replay delivers."""
    page = await _open(browser, running.url)
    unit = page.locator(f".unit[data-unit='{UNIT}']")
    await expect(unit).to_contain_text("Vân Đồn")
    await expect(unit.locator(".endpoint[data-name='vd-tdoffice'] .state")).to_have_text(
        "Bình thường"
    )
    await expect(page.locator("#banner")).to_contain_text("1 thư chết")
    await page.screenshot(path=str(tmp_path / "overview.png"))

    await page.click("#tab-documents")
    await page.fill("#q", "100")
    await page.click("#search button[type=submit]")
    await page.locator("#docs a.doclink", has_text="100/STC-NS").click()
    records = page.locator("#doc-records tr.record")
    await expect(records).to_have_count(2)
    await expect(page.locator("#doc-records")).to_contain_text("vd-folder")
    await expect(page.locator("#doc-records")).to_contain_text(
        "cùng số, ký hiệu, ngày và cơ quan ban hành"
    )
    await expect(page.locator("#doc-answer")).to_contain_text("Đã vào hệ thống nhà")
    await page.screenshot(path=str(tmp_path / "document.png"), full_page=True)

    running.home.validator = require_number_and_subject
    await page.click("#tab-dead")
    await expect(page.locator("#dead tr.dead-letter")).to_have_count(1)
    await page.click("#dead button.replay")
    await wait_until(lambda: len(running.home.received) == 3, timeout_s=8, what="replayed delivery")
    await expect(page.locator("#dead")).to_contain_text("Không có")
    await expect(page.locator("#banner")).to_be_hidden()
    await page.screenshot(path=str(tmp_path / "replayed.png"))
    assert (tmp_path / "replayed.png").stat().st_size > 0


async def test_english_switch_and_phone_width(running: Running, browser: Browser) -> None:
    """The English switch relabels the page; on a phone-sized screen nothing overflows sideways."""
    page = await _open(browser, running.url, width=390, height=844)
    await page.click("#lang")
    await expect(page.locator("#tab-overview")).to_have_text("Overview")
    await expect(page.locator("#banner")).to_contain_text("dead letter")
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1


async def test_page_without_token_shows_no_data(running: Running, browser: Browser) -> None:
    """Without the token the page loads empty and asks for it: every data call is refused (401)."""
    context = await browser.new_context()
    page = await context.new_page()
    refused: list[int] = []
    page.on("response", lambda r: refused.append(r.status) if "/status" in r.url else None)
    response = await page.goto(running.url.split("?")[0])
    assert response is not None and response.status == 200
    await expect(page.locator("#token-input")).to_be_visible()
    assert 401 in refused
    await expect(page.locator("#total-documents")).to_have_count(0)
    await context.close()
