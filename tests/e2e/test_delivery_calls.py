"""A sink's `max_in_flight` bounds the calls it receives at once, not the deliveries in hand:
deliveries waiting for the store's commit leave their call slot to others."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge.app import build_daemon, parse_config
from bridge.delivery import IN_HAND_PER_CALL, DeliveryWorker
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.adapters.inflight import InFlight
from tests.e2e.harness import UNIT, config_dict, delivered_symbols, make_doc, wait_until

SINK = "vd-home"


async def test_calls_to_the_sink_stay_within_max_in_flight(tmp_path: Path) -> None:
    home = TdofficeSim(api_key="home")
    calls = InFlight(prefix="/api/v2/", hold_s=0.02)  # uploads and creates, held to overlap
    calls.attach(home)
    async with (
        TdofficeSim(api_key="src") as source,
        home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        total = 40
        for i in range(total):
            source.add_document(*make_doc(i), unit=UNIT)
        raw = config_dict(tmp_path / "data", source, home, dropper, poll_s=0.2)
        raw["units"][0]["sinks"][0]["max_in_flight"] = 3
        in_hand_peak = 0
        async with build_daemon(parse_config(raw, {})) as daemon:
            worker = daemon.endpoints[SINK].runner
            assert isinstance(worker, DeliveryWorker)

            async def sample() -> None:
                nonlocal in_hand_peak
                while True:
                    in_hand_peak = max(in_hand_peak, worker.in_hand)
                    await asyncio.sleep(0.002)

            sampler = asyncio.create_task(sample())
            try:
                await wait_until(
                    lambda: len(set(delivered_symbols(home))) >= total,
                    timeout_s=60,
                    what="every document at home",
                )
            finally:
                sampler.cancel()
    symbols = delivered_symbols(home)
    assert len(symbols) == total and len(set(symbols)) == total  # once each
    assert calls.peak == 3  # the bound, and used in full
    assert 3 < in_hand_peak <= 3 * IN_HAND_PER_CALL  # more deliveries in hand than calls
