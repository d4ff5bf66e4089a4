"""The Văn bản tab in a real browser: the latest documents at once, clerks' spellings found."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.ui.test_page import Running, _open, browser, running

__all__ = ["browser", "running"]  # the fixtures, shared with the page's other browser tests


async def test_documents_tab_lists_then_finds_as_clerks_type(
    running: Running, browser: Browser
) -> None:
    """Opening the tab lists the documents before Tìm; spaces for separators find the number;
    a number found only inside another is marked as a partial match."""
    page = await _open(browser, running.url)
    await page.click("#tab-documents")
    await expect(page.locator("#docs tr.docrow")).to_have_count(3)

    await page.fill("#q", "100 stc ns")
    await page.click("#search button[type=submit]")
    await expect(page.locator("#docs tr.docrow")).to_have_count(1)
    await expect(page.locator("#docs")).to_contain_text("100/STC-NS")
    await expect(page.locator("#docs .partial")).to_have_count(0)

    await page.fill("#q", "00/STC-NS")
    await page.click("#search button[type=submit]")
    await expect(page.locator("#docs .partial")).to_have_text("khớp một phần")
