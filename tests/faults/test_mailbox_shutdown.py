"""The daemon with an official mailbox source stops promptly at SIGTERM, even with the IMAP
server gone silent in the middle of a batch."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulators.tdoffice import TdofficeSim
from tests.adapters.test_mailbox_imap import small_mail
from tests.faults.harness import UNIT, UNIT_NAME, DaemonProcess, running, wait_until
from tests.imap_server import CuttableProxy, Dovecot, append, create_folder, start_dovecot

GRACE_S = 3


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = start_dovecot()
    try:
        yield server
    finally:
        server.stop()


def config(dovecot: Dovecot, port: int, folder: str, home: TdofficeSim) -> dict[str, Any]:
    mailbox = {
        "name": "vd-mailbox",
        "profile": "mailbox",
        "host": "127.0.0.1",
        "port": port,
        "username": dovecot.username,
        "password": dovecot.password,
        "tls": "none",
        "folder": folder,
        "batch_size": 50,
        "timeout_s": 60,  # far beyond the grace: only the shutdown may end a stuck command
        "poll_interval": 0.2,
    }
    sink = {"name": "vd-home", "profile": "tdoffice", "base_url": home.base_url}
    sink["api_key"] = home.api_key
    unit = {"id": UNIT, "name": UNIT_NAME, "sources": [mailbox], "sinks": [sink]}
    return {"bridge": {"shutdown_grace": GRACE_S}, "units": [unit]}


async def test_sigterm_stops_the_mailbox_endpoint_with_the_server_silent(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    """50 mails; once their acknowledgements are under way the IMAP server stops answering
    (the connection stays open); SIGTERM still ends the daemon with 0 within the grace
    period and a moment, not after the 60 s command timeout."""
    folder = "Shutdown"
    await create_folder(dovecot, folder)
    for n in range(50):
        await append(dovecot, small_mail(n), folder)
    async with (
        CuttableProxy(dovecot.port) as proxy,
        running(TdofficeSim(seed=2, api_key="home")) as home,
    ):
        daemon = DaemonProcess(tmp_path, config(dovecot, proxy.port, folder, home))
        await daemon.start()
        try:
            async with asyncio.timeout(30):
                await proxy.stored.wait()
            proxy.stalled = True
            await asyncio.sleep(0.5)  # whatever was under way now waits on a silent server
        finally:
            started = time.monotonic()
            code = await daemon.stop(signal.SIGTERM)
            took_s = time.monotonic() - started
    assert code == 0
    assert took_s < GRACE_S + 2, f"stopped after {took_s:.1f} s"
    await wait_until(lambda: "endpoint_stopped" in daemon.log_text(), timeout_s=1)
