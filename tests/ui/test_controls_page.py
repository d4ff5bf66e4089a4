"""Controls and the timeline in a real browser: pause (confirmed), resume and poll now on a
source's row; a document's "Diễn biến" with every step in Vietnam's local time."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until
from tests.ui.test_page import TOKEN, WAIT_MS, Running, _open, browser, running

__all__ = ["browser", "running"]  # the fixtures, shared with the page's other browser tests
SOURCE = "vd-tdoffice"
VIETNAM = dt.timezone(dt.timedelta(hours=7))


@dataclass
class Slow:
    daemon: Daemon
    source: TdofficeSim
    url: str


@pytest.fixture
async def slow(tmp_path: Path) -> AsyncIterator[Slow]:
    """One document pulled at start; the sources then wait a minute between polls."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        source.add_document(*make_doc(1), unit=UNIT)
        raw = config_dict(tmp_path / "data", source, home, dropper, poll_s=60)
        raw["http"]["token"] = TOKEN
        async with build_daemon(parse_config(raw, {})) as daemon:
            await wait_until(lambda: len(home.received) == 1, what="the first document delivered")
            yield Slow(daemon, source, f"http://127.0.0.1:{daemon.http.port}/?token={TOKEN}")


async def _page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url)
    await expect(page.locator("#total-received")).to_have_text("1")
    return page, errors


async def test_pause_resume_and_poll_now_from_the_page(slow: Slow, browser: Browser) -> None:
    page, errors = await _page(browser, slow.url)
    row = page.locator(f".endpoint[data-name='{SOURCE}']")
    answers = iter(["dismiss", "accept"])
    asked: list[str] = []

    async def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await (dialog.dismiss() if next(answers) == "dismiss" else dialog.accept())

    page.on("dialog", answer)
    await row.locator("button.control", has_text="Tạm dừng").click()  # the clerk says no
    await expect(row.locator(".state")).to_have_text("Bình thường")
    assert not await slow.daemon.store.is_paused(SOURCE)
    await row.locator("button.control", has_text="Tạm dừng").click()
    await expect(page.locator("#toast")).to_have_text(f"Đã tạm dừng {SOURCE}.")
    await expect(row.locator(".state")).to_have_text("Tạm dừng")
    assert asked[0].startswith(f"Tạm dừng nhận văn bản từ {SOURCE}?") and len(asked) == 2
    assert await slow.daemon.store.is_paused(SOURCE)

    slow.source.add_document(*make_doc(2), unit=UNIT)
    await row.locator("button.control", has_text="Lấy ngay").click()  # paused: not polled
    await expect(page.locator("#toast")).to_contain_text("đang tạm dừng")
    await row.locator("button.control", has_text="Tiếp tục").click()  # resumes and pulls at once
    await expect(page.locator("#total-received")).to_have_text("2")
    await expect(row.locator(".state")).to_have_text("Bình thường")

    slow.source.add_document(*make_doc(3), unit=UNIT)
    await row.locator("button.control", has_text="Lấy ngay").click()
    await expect(page.locator("#toast")).to_have_text(f"Đang lấy văn bản từ {SOURCE}.")
    await expect(page.locator("#total-received")).to_have_text("3")  # not a minute later

    await page.click("#tab-audit")
    actions = page.locator("#audit tr td:nth-child(3)")
    await expect(actions).to_have_text(["poll_now", "resume", "poll_now", "pause"])
    assert errors == [], f"script errors on the page: {errors}"


async def test_timeline_of_a_document_on_the_page(running: Running, browser: Browser) -> None:
    """The document that came by two roads: received twice, matched, delivered, in order."""
    page = await _open(browser, running.url)
    await page.click("#tab-documents")
    await page.locator("#docs a.doclink", has_text="100/STC-NS").click()
    steps = page.locator("#doc-timeline li.tl")
    await expect(page.locator("#doc h3", has_text="Diễn biến")).to_be_visible()
    kinds = await steps.evaluate_all("(items) => items.map((li) => li.dataset.kind)")
    assert kinds[:2] == ["record", "decision"] and kinds.count("record") == 2
    assert {"delivery_queued", "delivery_done"} <= set(kinds)
    await expect(steps.filter(has_text="Nhận từ vd-tdoffice")).to_have_count(1)
    await expect(steps.filter(has_text="Nhận từ vd-folder")).to_have_count(1)
    await expect(steps.filter(has_text="gửi mới đã chuyển sau 1 lần thử")).to_have_count(1)
    first = steps.first.locator("time")
    at = dt.datetime.fromisoformat(str(await first.get_attribute("datetime")))
    local = at.astimezone(VIETNAM)
    await expect(first).to_contain_text(local.strftime("%H:%M:%S"))
    await page.click("#lang")
    await expect(page.locator("#doc h3", has_text="Timeline")).to_be_visible()
    await expect(steps.filter(has_text="Received from vd-folder")).to_have_count(1)
