"""structlog set-up, done once: JSON lines off a terminal, readable lines on one."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

_SECRET_KEYS = ("password", "secret", "token", "api_key", "authorization", "client_secret")


@functools.lru_cache(maxsize=1024)
def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(s in lowered for s in _SECRET_KEYS)


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in [k for k in event if _is_secret(k)]:
        event[key] = "***"
    return event


def _json_line(event: Any, **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


class _Stderr:
    """Standard error as it is at each write (not as it was when logging was set up)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(
    level: str = "info", *, json: bool | None = None, stream: Any = None, cache: bool = False
) -> None:
    """Set logging up. `cache`: each module's logger is bound once, at its first use, instead
    of at every call — for a daemon process, configured once before it logs anything (a later
    `configure` would not reach loggers already used)."""
    as_json = not (stream or sys.stderr).isatty() if json is None else json
    stream = stream or _Stderr()
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.WriteLoggerFactory(stream),  # one write per line
        cache_logger_on_first_use=cache,
    )


class Tally:
    """Events too frequent to log one by one (a record decided, a delivery made): each is
    logged at debug by its caller and counted here; the counts go out as one line at info at
    most every `every_s` seconds, and whenever the caller goes idle (`flush`)."""

    def __init__(self, logger: Any, event: str, every_s: float = 10.0, **fields: Any) -> None:
        self._log = logger
        self._event = event
        self._every_s = every_s
        self._fields = fields
        self._counts: dict[str, int] = {}
        self._since = time.monotonic()

    def add(self, key: str, n: int = 1) -> None:
        self._counts[key] = self._counts.get(key, 0) + n
        if time.monotonic() - self._since >= self._every_s:
            self.flush()

    def flush(self) -> None:
        """Log the counts so far (nothing when there are none) and start counting again."""
        now = time.monotonic()
        if self._counts:
            self._log.info(
                self._event,
                **self._fields,
                **self._counts,
                total=sum(self._counts.values()),
                seconds=round(now - self._since, 1),
            )
            self._counts = {}
        self._since = now
