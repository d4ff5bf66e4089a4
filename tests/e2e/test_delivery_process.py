"""Deliveries in a process of their own: a real child process, real simulators, SQLite on disk.

The child is killed mid-run and started again; every document still reaches home once, the
daemon's page sees the sink's health and the latency metric, and no child outlives the daemon.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from bridge import delivery_link
from bridge.app import build_daemon, load_config
from bridge.errors import ConfigError
from bridge.latency import LIVE
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, delivered_symbols, make_doc, toml_of, wait_until

SINK = "vd-home"


def _latency_count() -> float:
    value = LIVE.get_sample_value("lienthong_ingest_to_delivered_seconds_count", {"sink": SINK})
    return value or 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_killed_delivery_process_is_restarted_and_nothing_is_doubled(
    tmp_path: Path,
) -> None:
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        home.faults.error_rate = 0.1  # retries in flight when the child is killed
        total = 60

        def add(numbers: range) -> None:
            for i in numbers:
                doc, files = make_doc(i)
                source.add_document(doc, files, unit=UNIT)
                if i % 4 == 0:
                    dropper.add_document(doc, files, unit=UNIT)  # the same one by two roads

        add(range(total // 2))
        cfg = config_dict(tmp_path / "data", source, home, dropper, poll_s=0.2)
        cfg["bridge"]["delivery_process"] = True
        config_path = tmp_path / "lienthong.toml"
        config_path.write_text(toml_of(cfg), encoding="utf-8")
        latencies_before = _latency_count()
        async with build_daemon(load_config(config_path), config_path) as daemon:
            child = daemon.delivery_child
            assert child is not None and child.pid is not None
            first_pid = child.pid
            await wait_until(lambda: len(home.received) >= 15, timeout_s=60, what="15 deliveries")
            os.kill(first_pid, signal.SIGKILL)
            await wait_until(lambda: child.pid != first_pid, timeout_s=30, what="a new child")
            assert child.restarts == 1
            add(range(total // 2, total))  # the new child has work of its own to report
            await wait_until(
                lambda: len(set(delivered_symbols(home))) >= total,
                timeout_s=90,
                what="every document at home",
            )
            await asyncio.sleep(1.5)  # anything doubled would arrive now
            health = daemon.endpoints[SINK].health
            await wait_until(lambda: health.count > 0, timeout_s=10, what="the child's health")
            assert health.last_success_at is not None
            await wait_until(
                lambda: _latency_count() > latencies_before, timeout_s=10, what="latencies"
            )
            second_pid = child.pid
        symbols = delivered_symbols(home)
        assert len(symbols) == total and len(set(symbols)) == total  # once each
        assert second_pid is not None
        await wait_until(lambda: not _alive(second_pid), timeout_s=10, what="the child gone")
        assert not _alive(first_pid)


async def test_the_delivery_process_needs_a_configuration_file(tmp_path: Path) -> None:
    """It is started from the daemon's configuration file: a daemon built from a dict says so."""
    async with TdofficeSim(api_key="src") as source, TdofficeSim(api_key="home") as home:
        cfg = config_dict(tmp_path / "data", source, home, FolderDropper(tmp_path / "inbox"))
        cfg["bridge"]["delivery_process"] = True
        config_path = tmp_path / "lienthong.toml"
        config_path.write_text(toml_of(cfg), encoding="utf-8")
        with pytest.raises(ConfigError, match="delivery_process"):
            async with build_daemon(load_config(config_path)):
                pass


async def test_a_child_that_cannot_start_is_tried_again_until_it_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configuration file broken while the daemon runs (an operator mid-edit) and the child
    gone: each new child fails at once, the daemon keeps running and keeps trying; once the
    file is good again a child starts and delivers what arrived meanwhile."""
    monkeypatch.setattr(delivery_link, "RESTART_S", (0.2, 0.2, 0.3))
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        cfg = config_dict(tmp_path / "data", source, home, dropper, poll_s=0.2)
        cfg["bridge"]["delivery_process"] = True
        config_path = tmp_path / "lienthong.toml"
        good = toml_of(cfg)
        config_path.write_text(good, encoding="utf-8")
        async with build_daemon(load_config(config_path), config_path) as daemon:
            child = daemon.delivery_child
            assert child is not None and child.pid is not None
            config_path.write_text("[bridge\nthis is not TOML", encoding="utf-8")
            os.kill(child.pid, signal.SIGKILL)
            await wait_until(lambda: child.restarts >= 3, timeout_s=30, what="failed restarts")
            for i in range(5):
                doc, files = make_doc(i)
                source.add_document(doc, files, unit=UNIT)
            await asyncio.sleep(1.0)
            assert not home.received  # nobody delivers while no child runs
            assert daemon.ready
            config_path.write_text(good, encoding="utf-8")
            await wait_until(
                lambda: len(set(delivered_symbols(home))) == 5, timeout_s=30, what="deliveries"
            )
