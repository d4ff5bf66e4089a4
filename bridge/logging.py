"""structlog set-up, done once: JSON lines off a terminal, readable lines on one."""

from __future__ import annotations

import functools
import logging
import sys
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
