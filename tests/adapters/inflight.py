"""A simulator middleware for download tests: how many file requests are served at once.

Added to a simulator's app before it starts, it holds every request under `prefix` (and
ending with `suffix`) for `hold_s` (so concurrent requests overlap visibly), records the peak number in flight, and
answers 503 to paths containing one of `failing`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from simulators.server import Handler, SimServer


@dataclass
class InFlight:
    prefix: str
    suffix: str = ""
    hold_s: float = 0.05
    failing: set[str] = field(default_factory=set)
    now: int = 0
    peak: int = 0
    served: int = 0

    def attach(self, sim: SimServer) -> None:
        """Watch `sim`; call before `sim.start()`."""
        sim.app.middlewares.append(self._middleware)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not (request.path.startswith(self.prefix) and request.path.endswith(self.suffix)):
            return await handler(request)
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await asyncio.sleep(self.hold_s)
            self.served += 1
            if any(part in request.path for part in self.failing):
                return web.json_response({"error": "unavailable"}, status=503)
            return await handler(request)
        finally:
            self.now -= 1
