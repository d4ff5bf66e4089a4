"""The axis's request signature (`XroadVnpt-*` headers): signing for clients, checking for servers.

Every parameter travels as a header `XroadVnpt-{key}`. The signed keys (every parameter plus
`systemid` and `timestamp`) are listed in `XroadVnpt-sign-header-key`, their values sent as a
JSON object in `XroadVnpt-sign-header`, and `XroadVnpt-hash-header` is the lowercase hex
HMAC-SHA256 of that JSON string's exact bytes, keyed with the node's secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping

from bridge.normalize import VN_TZ

PREFIX = "XroadVnpt-"
SIGN_KEYS = f"{PREFIX}sign-header-key"
SIGN_HEADER = f"{PREFIX}sign-header"
HASH_HEADER = f"{PREFIX}hash-header"
MAX_SKEW_S = 15 * 60
_TIMESTAMP_FORMAT = "%d%m%YT%H%M%S"


def format_timestamp(moment: dt.datetime) -> str:
    """`ddMMyyyy'T'HHmmss+NNNN` in Vietnam local time; NNNN is the milliseconds, as the SDK does."""
    local = moment.astimezone(VN_TZ)
    return f"{local.strftime(_TIMESTAMP_FORMAT)}+{local.microsecond // 1000:04d}"


def parse_timestamp(value: str) -> dt.datetime:
    """The instant of a signature timestamp; servers read only its first 15 characters.

    Raises ValueError for anything else.
    """
    naive = dt.datetime.strptime(value[:15], _TIMESTAMP_FORMAT)
    return naive.replace(tzinfo=VN_TZ)


def digest(sign_header: str, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of the sign-header string's UTF-8 bytes."""
    mac = hmac.new(secret.encode("utf-8"), sign_header.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()


def sign(
    params: Mapping[str, str], *, system_id: str, secret: str, now: dt.datetime
) -> dict[str, str]:
    """Every header of one signed call: the parameters, identity, timestamp and signature.

    Parameter values must be ASCII (they are HTTP header values); the JSON escapes anything else.
    """
    signed = {**params, "systemid": system_id, "timestamp": format_timestamp(now)}
    sign_header = json.dumps(signed, ensure_ascii=True, separators=(",", ":"))
    headers = {f"{PREFIX}{key}": value for key, value in signed.items()}
    headers[SIGN_KEYS] = ";".join(signed)
    headers[SIGN_HEADER] = sign_header
    headers[HASH_HEADER] = digest(sign_header, secret)
    return headers


class SignatureRejected(Exception):
    """A server refuses a call's signature; `code` is the axis ErrorCode it answers with."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


# ErrorCodes a server answers for signature trouble (see `adapters.vxp.client` for the table).
CODE_BAD_SIGNATURE = "1001"
CODE_STALE_TIMESTAMP = "1002"
CODE_UNKNOWN_SYSTEM = "1003"


def verify(
    headers: Mapping[str, str],
    secrets: Mapping[str, str],
    *,
    now: dt.datetime,
    max_skew_s: float = MAX_SKEW_S,
) -> dict[str, str]:
    """Check one request's signature as a server does; return the signed key → value map.

    Checks the HMAC over the sign-header string as received, that each signed value equals the
    header sent, that every `XroadVnpt-` parameter is signed, and the timestamp's freshness.
    Raises SignatureRejected with the ErrorCode to answer.
    """
    lower = {key.lower(): value for key, value in headers.items()}
    system_id = lower.get(f"{PREFIX}systemid".lower())
    sign_header = lower.get(SIGN_HEADER.lower())
    given = lower.get(HASH_HEADER.lower())
    if not system_id or sign_header is None or given is None:
        raise SignatureRejected(CODE_BAD_SIGNATURE, "Thiếu chữ ký yêu cầu / request not signed")
    secret = secrets.get(system_id)
    if secret is None:
        raise SignatureRejected(CODE_UNKNOWN_SYSTEM, "Hệ thống chưa đăng ký / unknown system id")
    if not hmac.compare_digest(digest(sign_header, secret), given.strip()):
        raise SignatureRejected(CODE_BAD_SIGNATURE, "Chữ ký không hợp lệ / bad signature")
    signed = _signed_values(lower, sign_header)
    try:
        moment = parse_timestamp(signed.get("timestamp", ""))
    except ValueError:
        reason = "Thời gian không hợp lệ / bad timestamp"
        raise SignatureRejected(CODE_STALE_TIMESTAMP, reason) from None
    if abs((now - moment).total_seconds()) > max_skew_s:
        raise SignatureRejected(CODE_STALE_TIMESTAMP, "Yêu cầu quá hạn / stale timestamp")
    return signed


def _signed_values(lower: Mapping[str, str], sign_header: str) -> dict[str, str]:
    bad = SignatureRejected(CODE_BAD_SIGNATURE, "Chữ ký không khớp tham số / signature mismatch")
    try:
        signed = json.loads(sign_header)
    except ValueError:
        raise bad from None
    if not isinstance(signed, dict) or not all(isinstance(v, str) for v in signed.values()):
        raise bad
    keys = lower.get(SIGN_KEYS.lower(), "").split(";")
    if set(keys) != set(signed) or not {"systemid", "timestamp"} <= set(signed):
        raise bad
    for key, value in signed.items():
        if lower.get(f"{PREFIX}{key}".lower()) != value:
            raise bad
    own = {SIGN_KEYS.lower(), SIGN_HEADER.lower(), HASH_HEADER.lower()}
    sent = {k[len(PREFIX) :] for k in lower if k.startswith(PREFIX.lower()) and k not in own}
    if sent != {key.lower() for key in signed}:
        raise bad
    return dict(signed)
