"""The tdoffice outbox: the unit's issued documents (văn bản đi) and their dispatch log.

`TdofficeOutbox` reads the append-only outgoing log exactly as the source reads the inbox
(opaque cursor, files streamed into the blob store first, signed webhooks
`document.issued`/`updated`/`revoked`/`recalled`), into records of `OUTGOING_MEDIA_TYPE`
that `adapters.tdoffice.outgoing.to_outgoing` maps. It is also the DispatchReporter of that
outbox: `report` posts one line of a document's dispatch log under its Idempotency-Key.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import structlog

from adapters._http import error_for_status, read_limited, request, retrying
from adapters.tdoffice.settings import TdofficeOutboxSettings
from adapters.tdoffice.source import TdofficeSource
from adapters.tdoffice.wire import load_object
from bridge.errors import PermanentError
from bridge.interfaces import AdapterContext, JsonObject
from bridge.jsonutil import dumps

log = structlog.get_logger(__name__)

OUTGOING_MEDIA_TYPE = "application/vnd.tdoffice.outgoing+json"
OUTGOING_PATH = "/api/v2/documents/outgoing"
OUTGOING_EVENTS: Mapping[str, str | None] = {
    "document.issued": None,
    "document.updated": None,
    "document.revoked": "revoked",
    "document.recalled": "recalled",
}
MAX_ANSWER_BYTES = 1024 * 1024


class DispatchRefusedError(PermanentError):
    """tdoffice refused a dispatch report for good: `status` (404, 409, 422) and `answer`,
    its JSON error (`{"error": "state_regression", "state": …}`, `{"error": "road_in_use"}`,
    `{"errors": [...]}`). A PermanentError: never retried."""

    def __init__(self, reason: str, *, status: int, answer: JsonObject) -> None:
        super().__init__(reason)
        self.status = status
        self.answer = answer

    @property
    def error(self) -> str | None:
        """The answer's `error` word (`state_regression`, `road_in_use`), if any."""
        value = self.answer.get("error")
        return value if isinstance(value, str) else None


def _refusal(status: int, answer: bytes, what: str) -> DispatchRefusedError:
    """The error for a 404/409/422 dispatch answer, carrying tdoffice's own error."""
    try:
        body: JsonObject = load_object(answer)
    except PermanentError:
        body = {}
    parts = [str(body["error"])] if body.get("error") else []
    if body.get("state"):
        parts.append(f"state={body['state']}")
    for item in body.get("errors") or ():
        if isinstance(item, dict):
            parts.append(f"{item.get('field') or '-'}: {item.get('message') or '?'}")
    text = "; ".join(parts)[:500] or answer.decode("utf-8", "replace")[:300]
    return DispatchRefusedError(
        f"{what}: tdoffice từ chối báo cáo (HTTP {status}) / tdoffice refused the report: {text}",
        status=status,
        answer=body,
    )


class TdofficeOutbox(TdofficeSource):
    """Pull and push source of one unit's tdoffice outbox, and its dispatch reporter."""

    log_path = OUTGOING_PATH
    log_what = "tdoffice outbox"
    page_what = "trang hộp thư đi / outbox page"
    media_type = OUTGOING_MEDIA_TYPE
    events = OUTGOING_EVENTS

    def __init__(self, settings: TdofficeOutboxSettings, ctx: AdapterContext) -> None:
        super().__init__(settings, ctx)
        self.outbox_settings = settings

    async def report(self, document_id: str, key: str, body: JsonObject) -> None:
        """POST one dispatch report (tdoffice.md "Dispatch reports") under `key`.

        Returns on 201 (recorded) and 200 (the same key and body again). Raises
        DispatchRefusedError (a PermanentError) on 404 (unknown document), 409 (key reused with another body,
        `state_regression`, `road_in_use`) and 422 (bad value), its message carrying
        tdoffice's error; TransientError on 5xx, 429 and timeouts once the retry policy is
        spent; AuthError on 401/403. The same bytes go on every try.
        """
        url = f"{self._settings.base_url}/api/v2/documents/{quote(document_id, safe='')}/dispatch"
        what = "tdoffice dispatch"
        data = dumps(body)
        headers = {"Idempotency-Key": key, "Content-Type": "application/json"}

        async def once() -> int:
            async with request(
                self.session, "POST", url, what=what, check=False, data=data, headers=headers
            ) as resp:
                answer = await read_limited(resp, MAX_ANSWER_BYTES, what)
                if resp.status in (404, 409, 422):
                    raise _refusal(resp.status, answer, what)
                if resp.status >= 300:
                    detail = answer.decode("utf-8", "replace")
                    retry_after = resp.headers.get("Retry-After")
                    raise error_for_status(resp.status, what, detail, retry_after)
                return resp.status

        status = await retrying(once, what=what, policy=self.retry)
        log.debug("dispatch_reported", outbox=self.name, document=document_id, status=status)
