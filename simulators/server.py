"""What every simulator shares: an aiohttp app on loopback that records requests and injects faults.

A simulator is written from the same profile as its adapter and is faithful to the wire: tests
drive adapters against it over real HTTP, and `lienthong demo` / `simulate` serve it to people.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived (monotonic seconds)


@dataclass
class Faults:
    """Failures a test can switch on, on every request kind the simulator serves (listings,
    downloads, bundles, receipts, status, logins). Rates are probabilities per request
    (seeded RNG).

    `error_rate` answers HTTP 500 (a `server_error_share` of them) or 503; `throttle_rate`
    answers 429 with `Retry-After: retry_after_s`; `token_expiry_rate` revokes every token
    the simulator issued before it handles the request (the profiles with bearer tokens then
    answer 401 as for an expired token). `down` answers every request 503; `exempt` lists
    path prefixes never failed (downloads a test wants to see succeed, say). `counts` says
    how often each fault was served ("error" for 500 and 503, "throttle", "down",
    "token_expired").
    """

    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after_s: int = 1
    server_error_share: float = 0.5
    token_expiry_rate: float = 0.0
    down: bool = False
    exempt: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    def set_rates(
        self, *, error_rate: float = 0.0, throttle_rate: float = 0.0, token_expiry_rate: float = 0.0
    ) -> None:
        """Switch the random faults to these rates (0 switches one off)."""
        self.error_rate, self.throttle_rate = error_rate, throttle_rate
        self.token_expiry_rate = token_expiry_rate


class SimServer:
    """Base of every HTTP simulator. Subclasses add routes to `self.app.router` in `__init__`."""

    profile = "sim"

    def __init__(self, *, seed: int = 0, record_bodies: bool = True) -> None:
        self.rng = random.Random(seed)
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.record_bodies = record_bodies
        self.app = web.Application(middlewares=[self._middleware], client_max_size=1024**3)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = b""
        if (
            self.record_bodies
            and request.can_read_body
            and request.content_type != "multipart/form-data"
        ):
            body = await request.read()
        self.requests.append(
            RecordedRequest(
                request.method, request.path, dict(request.query), dict(request.headers), body
            )
        )
        fault = self._pick_fault(request.path)
        if fault is not None:
            counted = "error" if fault == "error_500" else fault
            self.faults.counts[counted] = self.faults.counts.get(counted, 0) + 1
        if fault == "throttle":
            return web.json_response(
                {"error": "too_many_requests"},
                status=429,
                headers={"Retry-After": str(self.faults.retry_after_s)},
            )
        if fault in ("error_500", "error", "down"):
            status = 500 if fault == "error_500" else 503
            return web.json_response({"error": "unavailable"}, status=status)
        if fault == "token_expired":
            self.expire_tokens()
        return await handler(request)

    def _pick_fault(self, path: str) -> str | None:
        """The fault to serve for a request to `path`, if any (one roll of the seeded RNG)."""
        f = self.faults
        if any(path.startswith(p) for p in f.exempt):
            return None
        if f.down:
            return "down"
        roll = self.rng.random()
        if roll < f.throttle_rate:
            return "throttle"
        if roll < f.throttle_rate + f.error_rate:
            share = (roll - f.throttle_rate) / f.error_rate
            return "error_500" if share < f.server_error_share else "error"
        if roll < f.throttle_rate + f.error_rate + f.token_expiry_rate:
            return "token_expired"
        return None

    def expire_tokens(self) -> None:
        """Revoke every token issued; a simulator of a profile with tokens overrides this."""

    def busiest_second(self, method: str | None = None, path_prefix: str = "/") -> int:
        """The most requests (of `method`, under `path_prefix`) that arrived within any one
        second (a sliding window over the arrival times)."""
        times = sorted(
            r.at
            for r in self.requests
            if (method is None or r.method == method) and r.path.startswith(path_prefix)
        )
        return max_in_window(times, 1.0)

    def calls(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 picks a free port); return the base URL."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets: Any = getattr(server, "sockets", ())
        bound_port = sockets[0].getsockname()[1]
        self.base_url = f"http://{host}:{bound_port}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def max_in_window(times: list[float], window_s: float) -> int:
    """The most of the sorted `times` within any half-open window of `window_s` seconds."""
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window_s:
            start += 1
        best = max(best, end - start + 1)
    return best
