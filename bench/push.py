"""Push: signed tdoffice webhooks at a steady rate; latency from the POST to the home's create.

The simulator host sends `document.created` events to the daemon's `/hooks/<source>` at
`rate` per second for `duration` seconds and stamps each one as it sends it; the home sink,
in the same process and on the same clock, stamps the create the event causes. Polling is
set to 300 s so the webhook is the only road.

    python -m bench.push [--rate 50] [--duration 30]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import daemon, daemon_config, emit, http_json, percentile, simhost, wait_for

HOOK_SECRET = "bench-hook-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def healthy(port: int) -> bool:
    """Whether the daemon on `port` answers /healthz yet."""
    try:
        await http_json("GET", f"http://127.0.0.1:{port}/healthz", timeout_s=2)
    except (OSError, aiohttp.ClientError, TimeoutError):  # not listening yet
        return False
    return True


async def run(rate: float, duration_s: float, *, delivery_process: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lienthong-push-") as tmp:
        workdir = Path(tmp)
        async with simhost("push") as host:
            source = {**host.info["sources"][0], "webhook_secret": HOOK_SECRET}
            config = daemon_config(
                workdir / "data",
                [source],
                host.info["home"],
                poll_s=300,
                delivery_process=delivery_process,
            )
            port = free_port()
            config["http"]["listen"] = f"127.0.0.1:{port}"
            base = f"http://127.0.0.1:{port}"
            async with daemon(config, workdir):
                await wait_for(lambda: healthy(port), timeout_s=60, what="the daemon's /healthz")
                answer = await host.post(
                    "/push",
                    {
                        "url": f"{base}/hooks/{source['name']}",
                        "secret": HOOK_SECRET,
                        "rate": rate,
                        "duration_s": duration_s,
                    },
                    timeout_s=duration_s + 120,
                )
    latencies = sorted(answer.pop("latencies_ms"))
    return {
        "benchmark": "push",
        "rate_per_s": rate,
        "duration_s": duration_s,
        **answer,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }


def summary(r: dict[str, Any]) -> str:
    return (
        f"push: {r['sent']} webhooks at {r['rate_per_s']}/s, {r['delivered']} delivered;"
        f" POST→home create p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.push")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument(
        "--delivery-process", action="store_true", help="deliveries in a process of their own"
    )
    args = parser.parse_args()
    result = asyncio.run(run(args.rate, args.duration, delivery_process=args.delivery_process))
    emit(result, summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
