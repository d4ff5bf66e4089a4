"""Shared HTTP plumbing for adapters: sessions, the wire-error table, the retry policy,
streaming downloads.

Adapters translate every wire failure here, so no aiohttp exception crosses into the pipeline:
408, 429 and 5xx (and timeouts, refused connections) are TransientError, 401/403 AuthError, any
other 4xx PermanentError. Every call an adapter makes goes through `retrying` with one
`RetryPolicy`: a TransientError is tried again in place (exponential backoff with full jitter,
or the server's own `Retry-After`), within a budget of attempts and seconds per call; nothing
else is retried. Only when a call has spent its budget does its error reach the caller.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import structlog

from adapters._pools import shared_session, take_token
from bridge.blobs import StoredBlob
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext

log = structlog.get_logger(__name__)

T = TypeVar("T")

READ_CHUNK_BYTES = 256 * 1024
DRAIN_BYTES = 64 * 1024  # an unread remainder up to this size is read so the connection is kept


@dataclass(frozen=True)
class RetryPolicy:
    """How one call is tried again in place after a TransientError.

    At most `attempts` tries and `budget_s` seconds (from the first try to the start of the
    last) per call. Between tries: full jitter, a wait drawn uniformly from
    [0, min(`max_backoff_s`, `base_s` * 2**(try - 1))], unless the server said `Retry-After`:
    that is waited exactly when it is at most `max_retry_after_s`; a longer one ends the call
    at once, its error carrying `retry_after_s` for the caller's own backoff.
    """

    attempts: int = 5
    budget_s: float = 30.0
    base_s: float = 0.25
    max_backoff_s: float = 4.0
    max_retry_after_s: float = 5.0

    def delay_s(
        self, attempt: int, retry_after_s: float | None, rng: random.Random | None = None
    ) -> float | None:
        """Seconds to wait after failed try number `attempt` (from 1); None: give up now."""
        if attempt >= self.attempts:
            return None
        if retry_after_s is not None:
            return retry_after_s if retry_after_s <= self.max_retry_after_s else None
        ceiling = min(self.max_backoff_s, self.base_s * 2 ** (attempt - 1))
        return (rng or _JITTER).uniform(0.0, ceiling)


DEFAULT_RETRY = RetryPolicy()
# One try: for a call whose caller keeps its own per-item backoff (the status relay), so one
# failing item never holds the queue behind it for a whole retry budget.
SINGLE_TRY = RetryPolicy(attempts=1)
_JITTER = random.Random()
# The concurrency slot (a source's download semaphore) the current call holds, if any: a call
# waiting between tries gives it back, so a Retry-After or a backoff never idles a slot that
# another file could use meanwhile.
_HELD_SLOT: contextvars.ContextVar[asyncio.Semaphore | None] = contextvars.ContextVar(
    "lienthong_held_slot", default=None
)


@contextmanager
def holding(slot: asyncio.Semaphore) -> Iterator[None]:
    """Mark `slot` (acquired by the caller) as held by the calls made inside the block."""
    token = _HELD_SLOT.set(slot)
    try:
        yield
    finally:
        _HELD_SLOT.reset(token)


async def _wait_between_tries(seconds: float) -> None:
    slot = _HELD_SLOT.get()
    if slot is None:
        await asyncio.sleep(seconds)
        return
    slot.release()
    try:
        await asyncio.sleep(seconds)
    finally:
        # Taken back before the next try. If cancelled meanwhile, the caller's `async with`
        # still releases once; the shielded acquire completing later balances it.
        await asyncio.shield(slot.acquire())


async def retrying(
    call: Callable[[], Awaitable[T]], *, what: str, policy: RetryPolicy = DEFAULT_RETRY
) -> T:
    """`call()`, tried again after each TransientError as `policy` allows.

    Only TransientError is retried (connection failures, timeouts, 408, 429, 5xx, a
    garbled answer); AuthError, PermanentError and anything else surface at once. `call`
    must be safe to repeat: it makes the whole request again, body included. Raises the
    last TransientError once the budget is spent.
    """
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except TransientError as exc:
            wait_s = policy.delay_s(attempt, exc.retry_after_s)
            if wait_s is None or time.monotonic() - started + wait_s > policy.budget_s:
                if attempt > 1:
                    log.info("http_retries_exhausted", what=what, attempts=attempt)
                raise
            log.debug("http_retry", what=what, attempt=attempt, wait_s=round(wait_s, 2))
            await _wait_between_tries(wait_s)


def client_session(
    ctx: AdapterContext, *, timeout_s: float | None = None, headers: Mapping[str, str] | None = None
) -> aiohttp.ClientSession:
    """A session with bounded connect/read timeouts and the configured TLS context, over the
    connection pool and the rate bound shared with every other endpoint calling the same
    system (`adapters._pools`). Close it with `close_session`."""
    read_s = timeout_s if timeout_s is not None else ctx.limits.http_timeout_s
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=read_s)
    return shared_session(ctx.ssl, timeout, dict(headers or {}), ctx.limits.remote_rate_limit)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "¹" or "٣": str.isdigit takes those too
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def error_for_status(
    status: int, what: str, detail: str = "", retry_after: str | None = None
) -> Exception:
    """The bridge error for an HTTP status (the one table every adapter uses)."""
    tail = f": {detail[:300]}" if detail else ""
    if status == 429 or status >= 500 or status == 408:
        return TransientError(
            f"{what}: máy chủ trả lời HTTP {status} / server answered HTTP {status}{tail}",
            retry_after_s=parse_retry_after(retry_after),
        )
    if status in (401, 403):
        return AuthError(
            f"{what}: bị từ chối xác thực (HTTP {status}) / authentication refused{tail}"
        )
    return PermanentError(f"{what}: yêu cầu bị từ chối (HTTP {status}) / request refused{tail}")


async def raise_for_status(resp: aiohttp.ClientResponse, what: str) -> None:
    if resp.status < 400:
        return
    try:
        detail = (await resp.content.read(2000)).decode("utf-8", "replace")
    except (TimeoutError, aiohttp.ClientError):
        detail = ""
    raise error_for_status(resp.status, what, detail, resp.headers.get("Retry-After"))


@asynccontextmanager
async def request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    what: str,
    check: bool = True,
    **kwargs: Any,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """One HTTP call with network errors mapped to TransientError.

    With `check` (the default) a 4xx/5xx answer raises through the table above; pass
    `check=False` to inspect the status yourself (for a 401 that means "log in again").
    """
    await take_token(session, url)  # the remote system's rate, shared by every unit
    try:
        async with session.request(method, url, **kwargs) as resp:
            if check:
                await raise_for_status(resp, what)
            yield resp
            await _drain(resp)
    except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
        raise TransientError(
            f"{what}: lỗi kết nối / connection failed ({type(exc).__name__})"
        ) from exc


async def fetch(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    what: str,
    read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
    policy: RetryPolicy = DEFAULT_RETRY,
    **kwargs: Any,
) -> T:
    """One call under `policy`: `read` gets each try's checked answer and makes the result.

    `read` runs inside the try, so a body cut short is retried as well; it must be safe to
    run again (a download starts over into a fresh blob). `kwargs` go to `request` and must
    be reusable across tries (json, bytes, a dict form; not a consumed FormData).
    """

    async def once() -> T:
        async with request(session, method, url, what=what, **kwargs) as resp:
            return await read(resp)

    return await retrying(once, what=what, policy=policy)


async def _drain(resp: aiohttp.ClientResponse) -> None:
    """Read what the caller left of a small answer (a receipt's "ok"), so the connection goes
    back to the pool instead of being closed: a new connection per call costs both sides far
    more than the few bytes. A big remainder is left; that connection is closed."""
    left = DRAIN_BYTES
    while left > 0 and not resp.content.at_eof():
        chunk = await resp.content.read(left)
        if not chunk:
            return
        left -= len(chunk)


async def read_limited(resp: aiohttp.ClientResponse, max_bytes: int, what: str) -> bytes:
    """Read a whole body, refusing one larger than `max_bytes` (PermanentError)."""
    declared = resp.content_length
    if declared is not None and declared > max_bytes:
        raise PermanentError(f"{what}: trang quá lớn / page larger than {max_bytes} bytes")
    buf = bytearray()
    async for chunk in resp.content.iter_chunked(READ_CHUNK_BYTES):
        buf += chunk
        if len(buf) > max_bytes:
            raise PermanentError(f"{what}: trang quá lớn / page larger than {max_bytes} bytes")
    return bytes(buf)


async def iter_body(resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    async for chunk in resp.content.iter_chunked(READ_CHUNK_BYTES):
        yield chunk


async def download_to_blob(
    session: aiohttp.ClientSession,
    url: str,
    ctx: AdapterContext,
    *,
    what: str,
    expected_sha256: str | None = None,
    headers: Mapping[str, str] | None = None,
    policy: RetryPolicy = DEFAULT_RETRY,
) -> tuple[StoredBlob, aiohttp.ClientResponse]:
    """Stream a file straight into the blob store, hashing as it goes. Never holds it whole.

    A transient failure is retried in place by `policy`, so one flaky file does not send a
    whole page back to be read again.
    """
    return await retrying(
        lambda: _download_once(session, url, ctx, what, expected_sha256, headers),
        what=what,
        policy=policy,
    )


async def _download_once(
    session: aiohttp.ClientSession,
    url: str,
    ctx: AdapterContext,
    what: str,
    expected_sha256: str | None,
    headers: Mapping[str, str] | None,
) -> tuple[StoredBlob, aiohttp.ClientResponse]:
    try:
        async with request(session, "GET", url, what=what, headers=dict(headers or {})) as resp:
            blob = await ctx.blobs.put_stream(
                iter_body(resp),
                max_bytes=ctx.limits.max_attachment_bytes,
                expected_sha256=expected_sha256,
            )
            return blob, resp
    except (TimeoutError, aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
        raise TransientError(f"{what}: tải tệp bị ngắt / download interrupted") from exc
