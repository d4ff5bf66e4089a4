"""Signed tdoffice webhooks: HMAC-SHA256 over `timestamp + "." + body`, shared by both ends.

The source, the sink and the simulator sign and verify with these functions only, so the two
sides of the wire cannot drift apart.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from bridge.errors import AuthError

MAX_SKEW_S = 300
SIGNATURE_HEADER = "X-TD-Signature"
TIMESTAMP_HEADER = "X-TD-Timestamp"
EVENT_ID_HEADER = "X-TD-Event-Id"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-TD-Signature` value for `body` sent at `timestamp` (unix seconds, as sent)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(
    secret: str, body: bytes, *, event_id: str, timestamp: int | None = None
) -> dict[str, str]:
    """Headers a tdoffice server sends with one event."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature(secret, stamp, body),
        EVENT_ID_HEADER: event_id,
    }


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works on plain dicts as well as multidicts."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now_s: float | None = None
) -> None:
    """Accept an event only if its signature matches and its timestamp is within 300 s.

    Raises AuthError (the hook answers 401) for a missing or forged signature, or a
    timestamp that is not an integer or lies more than MAX_SKEW_S from `now_s`.
    """
    stamp = header(headers, TIMESTAMP_HEADER)
    given = header(headers, SIGNATURE_HEADER)
    if not stamp or not given:
        raise AuthError("thiếu chữ ký webhook / webhook signature headers missing")
    try:
        sent_s = int(stamp.strip())
    except ValueError:
        raise AuthError("dấu thời gian webhook không hợp lệ / bad webhook timestamp") from None
    now = time.time() if now_s is None else now_s
    if abs(now - sent_s) > MAX_SKEW_S:
        raise AuthError(
            f"webhook quá cũ hoặc lệch giờ (> {MAX_SKEW_S} s) / "
            f"webhook timestamp more than {MAX_SKEW_S} s from our clock"
        )
    expected = signature(secret, stamp.strip(), body)
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        raise AuthError("chữ ký webhook sai / webhook signature does not match")
