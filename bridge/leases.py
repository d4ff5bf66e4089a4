"""Who does what when several instances share one database: leases with fencing tokens.

Each source is pulled by one instance at a time, and matching runs in one instance at a time.
A lease lasts `ttl_s`; the holder renews it as it works, and every write it makes on the
lease's behalf carries the fencing token, which the store refuses once ownership has changed
(a paused instance that wakes after its lease passed on cannot write on the old one). An
instance that dies stops renewing, so others take its work over within `ttl_s`.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

from bridge.store import Store


def default_instance(data_dir: Path) -> str:
    """Stable across restarts (a restarted daemon takes its own leases back at once) and
    distinct for instances with their own data folders on one host."""
    return f"{socket.gethostname()}:{data_dir.resolve()}"


@dataclass
class Lease:
    """One instance's claim on one resource (`source:<name>`, `processor`)."""

    store: Store
    resource: str
    owner: str
    ttl_s: float
    token: int | None = None
    renewed_at: float = 0.0  # monotonic time of the last successful take or renewal

    async def hold(self) -> bool:
        """Take the lease or extend it; False while another live owner has it.

        A lease renewed less than a third of its time ago is not renewed again (each renewal
        is a write); fencing still refuses writes once it has passed to another instance.
        """
        now = time.monotonic()
        if self.token is not None and now - self.renewed_at < self.ttl_s / 3:
            return True
        self.token = await self.store.acquire_lease(self.resource, self.owner, self.ttl_s)
        if self.token is not None:
            self.renewed_at = now
        return self.token is not None

    @property
    def fence(self) -> tuple[str, int] | None:
        return (self.resource, self.token) if self.token is not None else None

    async def release(self) -> None:
        if self.token is not None:
            await self.store.release_lease(self.resource, self.owner, self.token)
            self.token = None
            self.renewed_at = 0.0
