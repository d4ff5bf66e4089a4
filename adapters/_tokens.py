"""Bearer tokens shared by the concurrent calls of one source, and calls made with them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import orjson
import structlog

from adapters._http import DEFAULT_RETRY, RetryPolicy, raise_for_status, request, retrying
from bridge.errors import AuthError, TransientError

log = structlog.get_logger(__name__)

T = TypeVar("T")


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


async def bearer_fetch(
    session: aiohttp.ClientSession,
    tokens: BearerTokens,
    method: str,
    url: str,
    *,
    what: str,
    read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
    rejected: Callable[[aiohttp.ClientResponse], Awaitable[bool]],
    rejected_event: str,
    source: str,
    ok: tuple[int, ...] = (),
    policy: RetryPolicy = DEFAULT_RETRY,
    **kwargs: Any,
) -> T:
    """One authenticated call under `policy`; `read` makes the result from the answer.

    A 401 that `rejected` recognises (the token expired or was revoked) drops the token,
    obtains a new one and sends the call again at once, once per try; the new token refused
    as well spends that try, and when no try is left the call raises AuthError. Statuses in
    `ok` are handed to `read` instead of raised. A TransientError (including one while
    obtaining the token) is retried by `policy`.
    """
    extra = dict(kwargs.pop("headers", {}))

    async def once() -> T:
        for attempt in (1, 2):
            try:
                token = await tokens.current()
            except TransientError as exc:  # the login had its own tries: not again per try
                raise _LoginFailed(exc) from exc
            headers = extra | {"Authorization": f"Bearer {token}"}
            async with request(
                session, method, url, what=what, check=False, headers=headers, **kwargs
            ) as resp:
                if resp.status == 401 and await rejected(resp):
                    log.info(rejected_event, source=source)
                    tokens.drop(token)
                    if attempt == 1:
                        continue
                    raise _TokenRefused(
                        f"{what}: mã truy cập mới cũng bị từ chối / "
                        "a freshly obtained token was refused as well"
                    )
                if resp.status not in ok:
                    await raise_for_status(resp, what)
                return await read(resp)
        raise AssertionError("unreachable")

    try:
        return await retrying(once, what=what, policy=policy)
    except _TokenRefused as exc:
        raise AuthError(exc.reason) from exc
    except _LoginFailed as failed:
        raise failed.error from None


class _LoginFailed(Exception):
    """The login spent its own retry budget; carries its error past the call's retries."""

    def __init__(self, error: TransientError) -> None:
        super().__init__(error.reason)
        self.error = error


class _TokenRefused(TransientError):
    """Both tokens of one try refused: worth another try while the budget lasts."""
