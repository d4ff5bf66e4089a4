"""The daemon as a real process: SIGKILL mid-run loses nothing and doubles nothing; SIGTERM exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, delivered_symbols, make_doc, toml_of, wait_until

ROOT = Path(__file__).resolve().parents[2]


async def _spawn(config_path: Path, log_path: Path) -> asyncio.subprocess.Process:
    log = log_path.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bridge",
            "run",
            "--config",
            str(config_path),
            cwd=ROOT,
            stdout=log,
            stderr=log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    finally:
        log.close()


async def _stop(proc: asyncio.subprocess.Process, sig: int) -> int:
    if proc.returncode is None:
        proc.send_signal(sig)
    return await asyncio.wait_for(proc.wait(), timeout=30)


async def test_sigkill_mid_run_then_restart_delivers_each_document_once(tmp_path: Path) -> None:
    """Killed three times while documents flow, the daemon ends with every document delivered once."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        home.faults.error_rate = 0.15  # the sink fails now and then, so retries are in flight
        total = 60
        for i in range(total):
            doc, files = make_doc(i)
            source.add_document(doc, files, unit=UNIT)
            if i % 5 == 0:
                dropper.add_document(doc, files, unit=UNIT)
        cfg = config_dict(tmp_path / "data", source, home, dropper, poll_s=0.2)
        cfg["http"]["listen"] = "127.0.0.1:0"
        config_path = tmp_path / "lienthong.toml"
        config_path.write_text(toml_of(cfg), encoding="utf-8")
        log_path = tmp_path / "daemon.log"
        for kill_at in (8, 25, 45):
            proc = await _spawn(config_path, log_path)
            try:

                def delivered(k: int = kill_at) -> bool:
                    return len(home.received) >= k

                await wait_until(
                    delivered,
                    timeout_s=60,
                    what=f"{kill_at} deliveries",
                )
            finally:
                await _stop(proc, signal.SIGKILL)
        proc = await _spawn(config_path, log_path)
        try:
            await wait_until(
                lambda: len(home.received) >= total, timeout_s=90, what="all deliveries"
            )
            await asyncio.sleep(1.0)  # anything doubled would arrive now
        finally:
            code = await _stop(proc, signal.SIGTERM)
        symbols = delivered_symbols(home)
        assert len(symbols) == total == len(set(symbols)), "every document exactly once"
        assert code == 0


async def test_sigterm_drains_and_exits_zero(tmp_path: Path) -> None:
    """SIGTERM stops the daemon cleanly with exit code 0 within the grace period."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        source.add_document(*make_doc(1), unit=UNIT)
        config_path = tmp_path / "lienthong.toml"
        config_path.write_text(
            toml_of(config_dict(tmp_path / "data", source, home, dropper)), encoding="utf-8"
        )
        proc = await _spawn(config_path, tmp_path / "daemon.log")
        await wait_until(lambda: len(home.received) == 1, timeout_s=30, what="delivery")
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await _stop(proc, signal.SIGTERM) == 0
        assert loop.time() - started < 10
        log_text = (tmp_path / "daemon.log").read_text()
        assert "daemon_started" in log_text and "stopping" in log_text


async def test_bad_configuration_exits_two(tmp_path: Path) -> None:
    """`lienthong run` with an invalid configuration prints the key path and exits 2."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[http]\nlisten = "nowhere"\n[[units]]\nid = "x y"\n', encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "run",
        "--config",
        str(bad),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2
    assert b"http.listen" in err and b"units[0].id" in err
