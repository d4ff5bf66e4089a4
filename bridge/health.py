"""Per-endpoint health as operators see it: state, last success, last error, backoff.

States: `unknown` until the first success since start ("chưa kết nối" / "not connected
yet"), then `ok`, `backoff` (failing, retrying) or `failing` (down: refused credentials, many
failures in a row, or never reached at all); `disabled` for an endpoint not running.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from bridge.domain.enums import HealthState
from bridge.errors import AuthError, BridgeError, TransientError

UNKNOWN, OK, BACKOFF, FAILING, DISABLED = (
    HealthState.UNKNOWN,
    HealthState.OK,
    HealthState.BACKOFF,
    HealthState.FAILING,
    HealthState.DISABLED,
)
STATES = tuple(HealthState)
OUTAGE_FAILURES = 2  # failures in a row (a failed half-open probe included) that make an outage
PROBE_EVERY_S = 4.0  # a system down is asked again this often (unless it said Retry-After)


def probe_wait_s(wait_s: float, exc: BridgeError) -> float:
    """How long a breaker stays open after a failure whose backoff is `wait_s`: at most
    PROBE_EVERY_S for a transient failure, so that work resumes within seconds of the system
    coming back (one probe call every few seconds costs a system that is down nothing);
    refused credentials and a longer Retry-After keep their wait."""
    if isinstance(exc, AuthError):
        return wait_s
    retry_after = exc.retry_after_s if isinstance(exc, TransientError) else None
    return max(min(wait_s, PROBE_EVERY_S), retry_after or 0.0)


def backoff_s(
    failures: int, base_s: float, max_s: float, retry_after_s: float | None = None
) -> float:
    """Exponential backoff with full jitter for the `failures`-th failure in a row (from 1):
    between half and all of `base_s * 2**failures`, capped at `max_s`, never shorter than a
    Retry-After the remote gave."""
    delay = min(max_s, base_s * 2 ** min(max(failures, 1), 20))
    delay = random.uniform(delay / 2, delay)
    return max(delay, retry_after_s or 0.0)


@dataclass
class Health:
    """Mutable health of one source or sink, owned by the task that drives it.

    Backoff is exponential with full jitter, starting at `base_s`, capped at `max_s`, and never
    shorter than a Retry-After the remote gave. After `failing_after` consecutive failures, any
    refused credentials, or a failure before any success since start, the state is `failing`,
    which also opens the circuit: calls are held back until the backoff has passed.
    """

    name: str
    profile: str
    base_s: float = 1.0
    max_s: float = 120.0  # a system back after an outage is tried again within two minutes
    failing_after: int = 5
    state: str = UNKNOWN
    failures: int = 0
    last_success_at: dt.datetime | None = None
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    count: int = 0
    standby: bool = False  # another instance holds this endpoint's lease
    paused: bool = False  # an operator paused this source (bridge.controls)
    extra: dict[str, int] = field(default_factory=dict)

    def succeeded(self) -> bool:
        """Record a success. True when it ends an outage (`OUTAGE_FAILURES` or more failures
        in a row) or is the first since start: the work held back meanwhile is due now. A
        single failure followed by a success is a blip, and returns False."""
        recovered = self.state == UNKNOWN or self.failures >= OUTAGE_FAILURES
        self.failures = 0
        self.state = OK
        self.last_success_at = dt.datetime.now(dt.UTC)
        return recovered

    def failed(self, exc: BridgeError) -> float:
        """Record a failure; return how many seconds to wait before the next try."""
        self.failures += 1
        self.last_error = exc.reason
        self.last_error_at = dt.datetime.now(dt.UTC)
        never_reached = self.last_success_at is None
        if isinstance(exc, AuthError) or never_reached or self.failures >= self.failing_after:
            self.state = FAILING
        else:
            self.state = BACKOFF
        retry_after = exc.retry_after_s if isinstance(exc, TransientError) else None
        delay = backoff_s(self.failures, self.base_s, self.max_s, retry_after)
        if isinstance(exc, AuthError):
            delay = max(delay, min(self.max_s, 60.0))
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
            "paused": self.paused,
        }
