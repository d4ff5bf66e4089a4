"""Every exception the bridge raises on purpose, named by what the pipeline does with it."""

from __future__ import annotations


class BridgeError(Exception):
    """Base of all deliberate errors. `reason` is operator-facing (Vietnamese / English)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientError(BridgeError):
    """Try again later with backoff; `retry_after_s` when the remote said how long to wait."""

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class StaleLeaseError(TransientError):
    """This instance no longer holds the lease it acted under: stop, and acquire it again."""


class AuthError(BridgeError):
    """Credentials refused: the endpoint goes `failing`, nothing is quarantined, retried slowly."""


class PermanentError(BridgeError):
    """This record or payload can never succeed: quarantine it (or dead-letter it), go on."""


class ConfigError(BridgeError):
    """The configuration is unusable: refuse to start. `errors` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
