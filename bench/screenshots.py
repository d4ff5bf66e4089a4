"""The page's screenshots in docs/img/ (page-vi.png, page-en.png), taken in Chromium against
`lienthong demo` once its living part has shown every case (a secret document, an unreadable
record, a dead letter, a revision, a revocation, a near miss held for review).

    .venv/bin/python -m bench.screenshots [--out docs/img] [--wait 45]

Needs Playwright's Python package and a Chromium (`/usr/bin/chromium` by default, or
`--chromium PATH`); downloads nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1366, "height": 900}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _shoot(url: str, out: Path, chromium: str) -> None:
    """The overview in Vietnamese, then the same in English, full page."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            context = await browser.new_context(viewport=VIEWPORT, locale="vi-VN")  # type: ignore[arg-type]
            page = await context.new_page()
            await page.goto(url)
            await page.wait_for_selector("#throughput svg")
            await page.wait_for_selector(".unit-figures")
            await page.screenshot(path=str(out / "page-vi.png"), full_page=True)
            await page.click("#lang")
            await page.wait_for_function("document.documentElement.lang === 'en'")
            await page.screenshot(path=str(out / "page-en.png"), full_page=True)
        finally:
            await browser.close()


async def main(out: Path, wait_s: float, chromium: str) -> int:
    port = _free_port()
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lienthong-shots-") as data:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bridge", "demo", "--port", str(port), "--data", data,
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await asyncio.sleep(wait_s)  # the first batch, then every case of the trickle
            await _shoot(f"http://127.0.0.1:{port}/", out, chromium)
        finally:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), timeout=30)
    print(f"{out / 'page-vi.png'}\n{out / 'page-en.png'}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--wait", type=float, default=50.0, help="seconds of demo first")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    ns = parser.parse_args()
    raise SystemExit(asyncio.run(main(ns.out, ns.wait, ns.chromium)))
