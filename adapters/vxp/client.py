"""Signed calls to a vxp axis node and the one table that turns its answers into bridge errors.

Every operation is `POST {base_url}/{operation}` with its parameters as signed `XroadVnpt-*`
headers (a file as multipart). Answers are HTTP 200 JSON
`{"status": "OK" | "FAIL", "ErrorCode", "ErrorDesc", ...}`; the table:

| answer | error |
| --- | --- |
| HTTP 401/403 | AuthError |
| HTTP 429, 5xx, timeouts, refused connections | TransientError (`adapters._http`) |
| FAIL, ErrorCode 1000-1999 (signature, timestamp, unknown system id) | AuthError |
| FAIL whose ErrorDesc speaks of the signature or authentication | AuthError |
| FAIL, ErrorCode 2000-2999 (unknown docId, bad parameter, file refused) | PermanentError |
| any other FAIL (the node's own trouble: database, queue, "-1") | TransientError |
| HTTP 200 that is not a JSON object (a proxy's error page) | TransientError |
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson
import structlog

from adapters import _http
from adapters._session import SessionOwner
from adapters.vxp.settings import VxpSettings
from adapters.vxp.signing import sign
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext
from bridge.normalize import fold_key

log = structlog.get_logger(__name__)

_AUTH_WORDS = ("chữ ký", "chu ky", "xác thực", "xac thuc", "signature", "authenticat")


def error_for_answer(answer: Mapping[str, Any], what: str) -> Exception:
    """The bridge error for a FAIL answer (see the module's table)."""
    code = str(answer.get("ErrorCode", "")).strip()
    desc = str(answer.get("ErrorDesc", "") or "")[:300]
    tail = f" (ErrorCode {code}: {desc})"
    number = int(code) if code.lstrip("-").isdigit() else None
    if (number is not None and 1000 <= number < 2000) or any(
        word in fold_key(desc) for word in _AUTH_WORDS
    ):
        return AuthError(f"{what}: trục từ chối xác thực / the axis refused authentication{tail}")
    if number is not None and 2000 <= number < 3000:
        return PermanentError(f"{what}: trục từ chối yêu cầu / the axis refused the request{tail}")
    return TransientError(f"{what}: trục báo lỗi / the axis reported a failure{tail}")


class VxpClient(SessionOwner):
    """One node's signed session on the axis. Async context manager; owns its HTTP session."""

    def __init__(self, settings: VxpSettings, ctx: AdapterContext) -> None:
        self._settings = settings
        self._ctx = ctx
        self._base_url = settings.base_url.rstrip("/")
        self.retry = _http.DEFAULT_RETRY  # every call goes through it

    def _open_session(self) -> aiohttp.ClientSession:
        return _http.client_session(self._ctx, timeout_s=self._settings.timeout_s)

    async def call(
        self,
        operation: str,
        params: Mapping[str, str],
        *,
        file_doc: bytes | None = None,
        policy: _http.RetryPolicy | None = None,
    ) -> dict[str, Any]:
        """Perform one operation; return its OK answer. Raises per the module's table.

        Each try (connect, send, read) is bounded by twice the configured timeout; a
        TransientError (including a FAIL the node blames on itself) is tried again, freshly
        signed, under the retry policy. Reads and `updateStatus` are safe to repeat; a
        `sendEdoc` whose answer was lost on the way may reach the node twice, exactly as the
        status relay's own retry of a failed send would. `policy` replaces the client's own
        for this call (the relay sends each status once and retries it on its own clock).
        """
        what = f"vxp {operation}"
        return await _http.retrying(
            lambda: self._call_once(operation, params, file_doc, what),
            what=what,
            policy=policy or self.retry,
        )

    async def _call_once(
        self, operation: str, params: Mapping[str, str], file_doc: bytes | None, what: str
    ) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._settings.timeout_s * 2):
                body = await self._post(operation, params, file_doc, what)
        except TimeoutError as exc:
            raise TransientError(f"{what}: quá thời gian chờ / timed out") from exc
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict):
            raise TransientError(f"{what}: câu trả lời không phải JSON / answer is not JSON")
        if str(answer.get("status", "")).upper() != "OK":
            raise error_for_answer(answer, what)
        return answer

    async def _post(
        self, operation: str, params: Mapping[str, str], file_doc: bytes | None, what: str
    ) -> bytes:
        if self._session is None:
            raise RuntimeError("VxpClient used outside its context")
        headers = sign(
            params,
            system_id=self._settings.system_id,
            secret=self._settings.secret.get_secret_value(),
            now=dt.datetime.now(dt.UTC),
        )
        data: aiohttp.FormData | None = None
        if file_doc is not None:
            data = aiohttp.FormData()
            data.add_field(
                "file_doc", file_doc, filename="edoc.edxml", content_type="application/xml"
            )
        url = f"{self._base_url}/{operation}"
        async with _http.request(
            self._session, "POST", url, what=what, headers=headers, data=data
        ) as resp:
            body = await _http.read_limited(resp, self._ctx.limits.max_page_bytes, what)
        log.debug("vxp_call_answered", operation=operation, bytes=len(body))
        return body
