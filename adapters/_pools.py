"""What every adapter's HTTP calls to one remote system share: a connection pool and a rate.

A province runs hundreds of units against a handful of systems (one M-Office, one V-Office,
one axis node, ...). Each adapter holding its own connector kept its own idle connections to
the same host: open files grew with the number of units. Here the adapters of one event loop
share one connector per TLS setting (aiohttp keeps a pool per host inside it, at most
`PER_HOST_CONNECTIONS` connections to each), and one pacer (bridge.waiting.Pacer) per remote host
(`scheme://host[:port]`): every call any unit makes to that host takes a token first, so
the host never sees more than the configured requests per second, however many units use it.

Pools live as long as some session uses them: the last session closed closes the connector.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bridge.settings import PER_HOST_CONNECTIONS, host_of
from bridge.waiting import Pacer  # connections at once to one remote system

TOTAL_CONNECTIONS = 256  # and to all of them together, per TLS setting


@dataclass
class _Shared:
    """One connector and the sessions using it."""

    connector: aiohttp.TCPConnector
    users: int = 0


@dataclass
class _LoopPools:
    connectors: dict[int, _Shared] = field(default_factory=dict)  # by id of the TLS setting
    buckets: dict[str, Pacer] = field(default_factory=dict)  # by host
    sessions: dict[int, tuple[int, float | None]] = field(default_factory=dict)
    # session id -> (connector key, the rate its endpoint asks for its hosts)
    ssl_keep: dict[int, Any] = field(default_factory=dict)  # keeps ids of TLS contexts stable


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPools] = (
    weakref.WeakKeyDictionary()
)


def _pools() -> _LoopPools:
    loop = asyncio.get_running_loop()
    found = _POOLS.get(loop)
    if found is None:
        found = _POOLS[loop] = _LoopPools()
    return found


def _ssl_key(ssl: Any) -> int:
    """True / False / None share one key each; a context its own (contexts with the same
    settings are one object already: `bridge.tls.ssl_context` caches them)."""
    if ssl is True or ssl is None:
        return 1
    if ssl is False:
        return 0
    return id(ssl)


def shared_session(
    ssl: Any, timeout: aiohttp.ClientTimeout, headers: dict[str, str], rate: float | None
) -> aiohttp.ClientSession:
    """A session over the loop's shared connector for `ssl`, whose calls to any host are
    bounded to `rate` per second (shared with every other session calling that host: the
    smallest rate asked for wins). Close it with `close_session`."""
    pools = _pools()
    key = _ssl_key(ssl)
    shared = pools.connectors.get(key)
    if shared is None or shared.connector.closed:
        connector = aiohttp.TCPConnector(
            limit=TOTAL_CONNECTIONS,
            limit_per_host=PER_HOST_CONNECTIONS,
            ssl=ssl if ssl is not None else True,
        )
        shared = pools.connectors[key] = _Shared(connector)
        pools.ssl_keep[key] = ssl
    shared.users += 1
    session = aiohttp.ClientSession(
        timeout=timeout,
        connector=shared.connector,
        connector_owner=False,
        headers=headers,
        raise_for_status=False,
    )
    pools.sessions[id(session)] = (key, rate)
    return session


async def close_session(session: aiohttp.ClientSession) -> None:
    """Close a session from `shared_session`; the last one out closes the connector."""
    pools = _pools()
    await session.close()
    known = pools.sessions.pop(id(session), None)
    if known is None:
        return
    key = known[0]
    shared = pools.connectors.get(key)
    if shared is None:
        return
    shared.users -= 1
    if shared.users <= 0:
        del pools.connectors[key]
        pools.ssl_keep.pop(key, None)
        await shared.connector.close()


def set_rate(url: str, per_second: float | None) -> None:
    """Bound the calls to `url`'s host to `per_second` (the smallest asked for wins). None
    asks for no bound; a host some other endpoint bounded stays bounded."""
    if per_second is None:
        return
    pools = _pools()
    host = host_of(url)
    known = pools.buckets.get(host)
    if known is None:
        pools.buckets[host] = Pacer(per_second)  # calls spaced, never more than the rate
    else:
        known.at_most(per_second)


def rate_of(url: str) -> float | None:
    """The bound on `url`'s host, None when it has none."""
    known = _pools().buckets.get(host_of(url))
    return None if known is None else known.rate


async def take_token(session: aiohttp.ClientSession, url: str) -> None:
    """Wait for a token of `url`'s host, when it is bounded (by this session's endpoint or
    another's)."""
    pools = _pools()
    host = host_of(url)
    known = pools.buckets.get(host)
    asked = pools.sessions.get(id(session), (0, None))[1]
    if asked is not None and (known is None or asked < known.rate):
        set_rate(url, asked)
        known = pools.buckets[host]
    if known is not None:
        await known.acquire()
