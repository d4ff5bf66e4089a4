"""Bearer tokens shared by the concurrent calls of one source, and calls made with them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
import structlog

from adapters._http import raise_for_status, request
from bridge.errors import AuthError, TransientError

log = structlog.get_logger(__name__)


class BearerTokens:
    """One bearer token: obtained by `obtain` when missing or due, once for concurrent callers.

    `obtain` gets a fresh token from the server and hands it over with `hold`.
    """

    def __init__(self, obtain: Callable[[], Awaitable[str]]) -> None:
        self.token: str | None = None
        self.renew_at = 0.0
        self._obtain = obtain
        self._lock = asyncio.Lock()

    def hold(self, token: str, renew_at: float) -> None:
        """Keep `token` until `renew_at` (a `time.monotonic()` instant)."""
        self.token, self.renew_at = token, renew_at

    async def current(self) -> str:
        async with self._lock:
            if self.token is None or time.monotonic() >= self.renew_at:
                return await self._obtain()
            return self.token

    def drop(self, token: str) -> None:
        """Forget `token` after the server rejected it."""
        if self.token == token:  # not yet replaced by a concurrent call
            self.token = None


def token_answer(
    raw: bytes, *, system: str, garbled: str, default_lifetime_s: float
) -> tuple[str, float]:
    """The access token and its lifetime in seconds from a JSON token answer.

    Raises TransientError (with `garbled`) for a body that is not JSON, AuthError without
    a token.
    """
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise TransientError(garbled) from exc
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise AuthError(f"{system}: không nhận được mã truy cập / no access token in answer")
    return token, float(data.get("expires_in") or default_lifetime_s)


@asynccontextmanager
async def bearer_call(
    session: aiohttp.ClientSession,
    tokens: BearerTokens,
    method: str,
    url: str,
    *,
    what: str,
    rejected: Callable[[aiohttp.ClientResponse], Awaitable[bool]],
    rejected_event: str,
    source: str,
    ok: tuple[int, ...] = (),
    **kwargs: Any,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """One authenticated call; a 401 that `rejected` recognises drops the token and retries once.

    Statuses in `ok` are handed back instead of raised.
    """
    extra = dict(kwargs.pop("headers", {}))
    for attempt in (1, 2):
        token = await tokens.current()
        headers = extra | {"Authorization": f"Bearer {token}"}
        async with request(
            session, method, url, what=what, check=False, headers=headers, **kwargs
        ) as resp:
            if resp.status == 401 and attempt == 1 and await rejected(resp):
                log.info(rejected_event, source=source)
                tokens.drop(token)
                continue
            if resp.status not in ok:
                await raise_for_status(resp, what)
            yield resp
            return
