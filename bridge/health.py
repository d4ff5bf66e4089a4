"""Per-endpoint health as operators see it: state, last success, last error, backoff."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from bridge.errors import AuthError, BridgeError, TransientError

OK, BACKOFF, FAILING, DISABLED = "ok", "backoff", "failing", "disabled"


@dataclass
class Health:
    """Mutable health of one source or sink, owned by the task that drives it.

    Backoff is exponential with full jitter, starting at `base_s`, capped at `max_s`, and never
    shorter than a Retry-After the remote gave. After `failing_after` consecutive failures (or
    any refused credentials) the state is `failing`, which also opens the circuit: calls are
    held back until the backoff has passed.
    """

    name: str
    profile: str
    base_s: float = 1.0
    max_s: float = 120.0  # a system back after an outage is tried again within two minutes
    failing_after: int = 5
    state: str = OK
    failures: int = 0
    last_success_at: dt.datetime | None = None
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    count: int = 0
    standby: bool = False  # another instance holds this endpoint's lease
    extra: dict[str, int] = field(default_factory=dict)

    def succeeded(self) -> None:
        self.failures = 0
        self.state = OK
        self.last_success_at = dt.datetime.now(dt.UTC)

    def failed(self, exc: BridgeError) -> float:
        """Record a failure; return how many seconds to wait before the next try."""
        self.failures += 1
        self.last_error = exc.reason
        self.last_error_at = dt.datetime.now(dt.UTC)
        if isinstance(exc, AuthError) or self.failures >= self.failing_after:
            self.state = FAILING
        else:
            self.state = BACKOFF
        delay = min(self.max_s, self.base_s * 2 ** min(self.failures, 20))
        delay = random.uniform(delay / 2, delay)
        if isinstance(exc, AuthError):
            delay = max(delay, min(self.max_s, 60.0))
        if isinstance(exc, TransientError) and exc.retry_after_s is not None:
            delay = max(delay, exc.retry_after_s)
        return delay

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "profile": self.profile,
            "state": self.state,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
            "standby": self.standby,
        }
