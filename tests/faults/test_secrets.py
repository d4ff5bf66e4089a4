"""No configured secret ever leaves the daemon: not in its logs, not in /status, not in /metrics."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from simulators.demo_data import generate
from simulators.idesk import IdeskSim
from simulators.moffice import MofficeSim
from simulators.tdoffice import TdofficeSim
from simulators.voffice import VofficeSim
from simulators.vxp import VxpSim
from tests.faults.harness import UNIT, UNIT_NAME, DaemonProcess, push_object, wait_until

SECRETS = {
    "moffice": "mo-pass-5b1e9c7a",
    "voffice_wrong": "vo-wrong-8d2f4e11",
    "voffice": "vo-right-3c9a7b20",
    "idesk_file": "id-pass-file-6e4d2a93",
    "tdoffice_key": "td-key-1f8b3c56",
    "tdoffice_hook": "td-hook-9a7e5d42",
    "vxp": "vxp-sec-2b6c8f17",
    "home_key": "home-key-7d3a1e95",
    "home_hook": "home-hook-4f9b2c68",
    "http_token": "http-tok-0e5a8d73",
}


def _config(sims: dict[str, Any], home: TdofficeSim, secret_file: Path) -> dict[str, Any]:
    vxp_id = next(iter(sims["vxp"].systems))
    sources = [
        {"name": "s-moffice", "profile": "moffice", "base_url": sims["moffice"].base_url}
        | {"username": "vanthu", "password": SECRETS["moffice"]},
        {"name": "s-voffice", "profile": "voffice", "base_url": sims["voffice"].base_url}
        | {"client_id": "lienthong", "client_secret": SECRETS["voffice_wrong"]},
        {"name": "s-idesk", "profile": "idesk", "base_url": sims["idesk"].base_url}
        | {"username": "vanthu", "password_file": str(secret_file)},
        {"name": "s-tdoffice", "profile": "tdoffice", "base_url": sims["tdoffice"].base_url}
        | {"api_key": SECRETS["tdoffice_key"], "webhook_secret": SECRETS["tdoffice_hook"]},
        {"name": "s-vxp", "profile": "vxp", "base_url": sims["vxp"].base_url}
        | {"system_id": vxp_id, "secret": SECRETS["vxp"]},
    ]
    for s in sources:
        s["poll_interval"] = 0.3
    sink = {"name": "s-home", "profile": "tdoffice", "base_url": home.base_url}
    sink |= {"api_key": SECRETS["home_key"], "webhook_secret": SECRETS["home_hook"]}
    return {
        "http": {"token": SECRETS["http_token"]},
        "units": [{"id": UNIT, "name": UNIT_NAME, "sources": sources, "sinks": [sink]}],
    }


async def _exercise(daemon: DaemonProcess, sims: dict[str, Any], home: TdofficeSim) -> None:
    """Logins, a refused login, token expiry, a webhook and deliveries."""
    await wait_until(lambda: len(home.received) >= 8, timeout_s=60, what="8 deliveries")
    sims["moffice"].expire_tokens()
    seed = generate(seed=99, count=1, units=[UNIT])[0]
    obj = push_object(sims["tdoffice"], seed.document, seed.files)
    url = f"{daemon.url}/hooks/s-tdoffice"
    status = await sims["tdoffice"].push(url, "document.created", obj, SECRETS["tdoffice_hook"])
    assert status == 200
    forged = await sims["tdoffice"].push(url, "document.created", obj, "not-it", max_attempts=1)
    assert forged == 401
    await wait_until(lambda: len(home.received) >= 9, timeout_s=30, what="the pushed document")
    await wait_until(
        lambda: "s-voffice" in daemon.log_text() and sims["voffice"].tokens_issued == 0,
        timeout_s=10,
        what="the refused voffice login logged",
    )
    await asyncio.sleep(1.0)


async def test_no_secret_in_logs_status_or_metrics(tmp_path: Path) -> None:
    """Every configured secret is absent from the whole log and from /status and /metrics."""
    secret_file = tmp_path / "idesk.secret"
    secret_file.write_text(SECRETS["idesk_file"] + "\n", encoding="utf-8")
    sims: dict[str, Any] = {
        "moffice": MofficeSim(seed=1, password=SECRETS["moffice"]),
        "voffice": VofficeSim(seed=2, client_secret=SECRETS["voffice"]),
        "idesk": IdeskSim(seed=3, password=SECRETS["idesk_file"]),
        "tdoffice": TdofficeSim(seed=4, api_key=SECRETS["tdoffice_key"]),
        "vxp": VxpSim(seed=5, systems={"vxp.sim.01": SECRETS["vxp"]}),
    }
    home = TdofficeSim(seed=6, api_key=SECRETS["home_key"])
    for sim in (*sims.values(), home):
        await sim.start()
    try:
        for i, seed in enumerate(generate(seed=5, count=10, units=[UNIT])):
            sim = list(sims.values())[i % 5]
            sim.add_document(seed.document, seed.files, unit=UNIT)
        config = _config(sims, home, secret_file)
        daemon = DaemonProcess(tmp_path, config, token=SECRETS["http_token"])
        await daemon.start()
        try:
            await _exercise(daemon, sims, home)
            status = (await daemon.get("/status"))[1].decode()
            metrics = (await daemon.get("/metrics"))[1].decode()
        finally:
            assert await daemon.stop(signal.SIGTERM) == 0
        outputs = {"log": daemon.log_text(), "/status": status, "/metrics": metrics}
        assert "voffice" in outputs["log"] and "s-voffice" in status
        for where, text in outputs.items():
            for name, value in SECRETS.items():
                assert value not in text, f"secret {name} appears in {where}"
    finally:
        for sim in (*sims.values(), home):
            await sim.close()
