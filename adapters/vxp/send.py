"""The sending side of an axis node: `sendEdoc` once per try, and `getSentEdocList` to look.

`sendEdoc` has no idempotency key: a file sent twice reaches each recipient twice. So a send
is one HTTP try, and its failures say whether the file may have been stored:

| what happened | error |
| --- | --- |
| no connection made (refused, DNS, connect timeout), HTTP 429 | TransientError: not stored |
| timeout or cut connection once connected, HTTP 5xx, an answer that is not JSON, OK without `DocId` | AmbiguousSendError: look with `sent_edocs` before sending again |
| FAIL 18 (unknown, deleted or node-less recipient) or 23 (locked recipient) | AxisRefusedError with the refused codes |
| FAIL 1000-1999, HTTP 401/403, signature words | AuthError |
| any other FAIL ("the file or the sender is not acceptable"), other HTTP 4xx | PermanentError |
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import orjson
import structlog

from adapters import _http
from adapters.vxp.client import VxpClient, error_for_answer
from adapters.vxp.compose import compose_edoc
from adapters.vxp.edxml import EdxmlError, parse_message
from adapters.vxp.message import EdxmlMessage
from adapters.vxp.settings import VxpSettings
from adapters.vxp.signing import sign
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext, AmbiguousSendError, AxisRefusedError, OutgoingMessage
from bridge.normalize import VN_TZ
from schemas import SentEdoc

log = structlog.get_logger(__name__)

REFUSAL_CODES = ("18", "23")
_ORGAN_CODE = re.compile(r"[0-9A-Z]{2,3}(?:\.[0-9A-Z]{2,3}){3}")
_LIST_DATE = "%Y-%m-%d %H:%M:%S"


def refused_codes(description: str, file: bytes, code: str) -> dict[str, str]:
    """The recipients a FAIL 18/23 refuses: the `To` codes its ErrorDesc names; every `To`
    code when it names none of them (the whole message was refused either way)."""
    try:
        message = parse_message(file)
    except EdxmlError:
        message = None
    to = (
        [r.organ_id.strip() for r in message.recipients if r.organ_id]
        if isinstance(message, EdxmlMessage)
        else []
    )
    named = [
        c for c in dict.fromkeys(_ORGAN_CODE.findall(description.upper())) if not to or c in to
    ]
    return {c: code for c in (named or to)}


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    for parse in (
        dt.datetime.fromisoformat,
        lambda t: dt.datetime.strptime(t, _LIST_DATE),
        lambda t: dt.datetime.strptime(t, "%Y/%m/%d %H:%M:%S"),
    ):
        try:
            when = parse(text)
        except ValueError:
            continue
        return when if when.tzinfo is not None else when.replace(tzinfo=VN_TZ)
    return None


def _sent_edoc(entry: Mapping[str, Any]) -> SentEdoc | None:
    doc_id, to_code = entry.get("docId"), entry.get("toCode")
    if not isinstance(doc_id, str) or not isinstance(to_code, str):
        return None
    kind = str(entry.get("bussinessDocType")).strip()
    sender_doc_id = entry.get("senderDocId")
    return SentEdoc(
        doc_id=doc_id,
        sender_doc_id=sender_doc_id if isinstance(sender_doc_id, str) else None,
        bussiness_doc_type=int(kind) if kind.isdigit() else None,
        to_code=to_code.strip(),
        send_status=str(entry["sendStatus"]) if entry.get("sendStatus") else None,
        receive_status=str(entry["receiveStatus"]) if entry.get("receiveStatus") else None,
        sent_time=_time(entry.get("sentTime")),
    )


class VxpSender(VxpClient):
    """An axis node's sending side (the AxisSender capability). An async context manager."""

    def __init__(self, settings: VxpSettings, ctx: AdapterContext) -> None:
        super().__init__(settings, ctx)
        self.name = settings.name

    def compose(self, message: OutgoingMessage, to: Sequence[str]) -> bytes:
        """The edXML document message for `to` (see adapters.vxp.compose)."""
        return compose_edoc(message, to)

    async def send_edoc(self, *, from_organ: str, file: bytes) -> str:
        """`sendEdoc` of the stored file, one HTTP try; the axis's DocId (see the table)."""
        params = {"from": from_organ, "servicetype": "eDoc", "messagetype": "edoc"}
        answer = await self._send_once(params, file)
        if str(answer.get("status", "")).upper() != "OK":
            code = str(answer.get("ErrorCode", "")).strip()
            description = str(answer.get("ErrorDesc", "") or "")
            if code in REFUSAL_CODES:
                refused = refused_codes(description, file, code)
                log.info("axis_send_refused", sender=self.name, code=code, refused=sorted(refused))
                raise AxisRefusedError(refused, f"ErrorCode {code}: {description[:300]}")
            error = error_for_answer(answer, "vxp sendEdoc")
            if isinstance(error, AuthError):
                raise error
            raise PermanentError(
                f"vxp sendEdoc: trục không nhận văn bản / the axis refused the document "
                f"(ErrorCode {code}: {description[:300]})"
            )
        doc_id = answer.get("DocId")
        if not isinstance(doc_id, str) or not doc_id.strip():
            raise AmbiguousSendError(
                "vxp sendEdoc: trả lời OK thiếu DocId / OK answer without DocId"
            )
        log.info("axis_document_sent", sender=self.name, doc_id=doc_id, bytes=len(file))
        return doc_id.strip()

    async def sent_edocs(self, *, doc_id: str | None = None, since: Any = None) -> list[SentEdoc]:
        """`getSentEdocList` by `doc_id`, or from `since` (a datetime; naive is local time).
        Entries one per (message, recipient), oldest first. Raises TransientError, AuthError."""
        if (doc_id is None) == (since is None):
            raise ValueError("give exactly one of doc_id and since")
        if doc_id is not None:
            params = {"docId": doc_id}
        else:
            moment: dt.datetime = since
            local = moment.astimezone(VN_TZ) if moment.tzinfo is not None else moment
            params = {"fromDate": local.strftime(_LIST_DATE)}
        answer = await self.call("getSentEdocList", params)
        data = answer.get("data")
        if not isinstance(data, list):
            raise TransientError("vxp getSentEdocList: thiếu danh sách 'data' / no 'data' list")
        found = [_sent_edoc(e) for e in data if isinstance(e, dict)]
        return [e for e in found if e is not None]

    async def _send_once(self, params: Mapping[str, str], file: bytes) -> dict[str, Any]:
        what = "vxp sendEdoc"
        headers = sign(
            params,
            system_id=self._settings.system_id,
            secret=self._settings.secret.get_secret_value(),
            now=dt.datetime.now(dt.UTC),
        )
        form = aiohttp.FormData()
        form.add_field("file_doc", file, filename="edoc.edxml", content_type="application/xml")
        url = f"{self._base_url}/sendEdoc"
        try:
            async with asyncio.timeout(self._settings.timeout_s * 2):
                async with self.session.post(url, headers=headers, data=form) as resp:
                    body = await _http.read_limited(resp, 1024 * 1024, what)
                    status = resp.status
                    retry_after = resp.headers.get("Retry-After")
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise TransientError(f"{what}: không kết nối được / could not connect") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise AmbiguousSendError(
                f"{what}: mất câu trả lời ({type(exc).__name__}) / the answer was lost"
            ) from exc
        if status == 429:  # throttled: refused before anything was stored
            raise _http.error_for_status(status, what, "", retry_after)
        if status >= 500:
            raise AmbiguousSendError(
                f"{what}: máy chủ trả lời HTTP {status} / server answered HTTP {status}"
            )
        if status >= 400:
            raise _http.error_for_status(status, what, body.decode("utf-8", "replace"), retry_after)
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict):
            raise AmbiguousSendError(f"{what}: câu trả lời không phải JSON / answer is not JSON")
        return answer


def make_sender(settings: Any, ctx: AdapterContext) -> VxpSender:
    """The Profile's `make_axis_sender`: the sending side of the node a vxp source names."""
    if not isinstance(settings, VxpSettings):
        settings = VxpSettings.model_validate(settings)
    return VxpSender(settings, ctx)
