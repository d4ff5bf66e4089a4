"""Sources shared out between live instances: a heartbeat says this instance is alive and
counts the live ones; each keeps at most its fair share of the sources, the first by name."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable

from bridge.leases import Lease
from bridge.store import Store


class Share:
    """This instance's share of the sources, from the instances the store shows alive."""

    def __init__(
        self,
        store: Store,
        lease: Lease,
        ttl_s: float,
        sources: Callable[[], Iterable[str]],
        held: Callable[[], Iterable[str]],
    ) -> None:
        self.store = store
        self.lease = lease  # `instance:<name>`: held while this instance is alive
        self.ttl_s = ttl_s
        self.sources = sources  # every source the configuration asks for, by name
        self.held = held  # the sources whose lease this instance holds now
        self.live_instances = 1

    async def heartbeat(self, stop: asyncio.Event) -> None:
        """Say this instance is alive, and count the live ones (for sharing sources out)."""
        while not stop.is_set():
            await self.lease.hold()
            now = time.time()
            live = {
                row["owner"]
                for row in await self.store.leases()
                if row["resource"].startswith("instance:") and row["expires_at"] > now
            }
            self.live_instances = max(1, len(live))
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.ttl_s / 3)
            except TimeoutError:
                continue

    def within(self, source: str) -> bool:
        """Whether this instance may hold `source` now (see `within_share`). Alone, it may
        hold every source: asked at each poll of each source, that is answered at once."""
        if self.live_instances <= 1:
            return True
        return within_share(source, len(list(self.sources())), self.live_instances, self.held())


def within_share(source: str, sources: int, live_instances: int, held: Iterable[str]) -> bool:
    """Whether an instance holding `held` may hold `source`: each live instance keeps at most
    its fair share (sources / live instances, rounded up), the first ones by name; it hands
    the rest over so that a newly started instance gets work."""
    share = math.ceil(sources / live_instances)
    mine = sorted(held)
    if source not in mine:
        return len(mine) < share
    return mine.index(source) < share
