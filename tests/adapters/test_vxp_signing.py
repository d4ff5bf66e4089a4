"""The XroadVnpt request signature: a hand-computed vector, and the server-side checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest

from adapters.vxp.signing import (
    SignatureRejected,
    format_timestamp,
    parse_timestamp,
    sign,
    verify,
)
from bridge.normalize import VN_TZ

NOW = dt.datetime(2026, 11, 22, 1, 15, 0, 123_000, tzinfo=dt.UTC)  # 08:15:00.123 in Vietnam
SECRETS = {"vxp.saas.03": "k3y"}


def test_timestamp_is_local_time_with_four_digit_millis() -> None:
    """`ddMMyyyy'T'HHmmss+NNNN` in UTC+07:00; servers read the first 15 characters."""
    assert format_timestamp(NOW) == "22112026T081500+0123"
    assert parse_timestamp("22112026T081500+9999") == dt.datetime(2026, 11, 22, 8, 15, tzinfo=VN_TZ)


def test_known_vector() -> None:
    """Headers and HMAC for a getEdoc call equal the values computed by hand."""
    headers = sign(
        {"docId": "663dbf9e83b4c19227173a27"}, system_id="vxp.saas.03", secret="k3y", now=NOW
    )
    sign_header = (
        '{"docId":"663dbf9e83b4c19227173a27","systemid":"vxp.saas.03",'
        '"timestamp":"22112026T081500+0123"}'
    )
    expected = hmac.new(b"k3y", sign_header.encode(), hashlib.sha256).hexdigest()
    assert headers == {
        "XroadVnpt-docId": "663dbf9e83b4c19227173a27",
        "XroadVnpt-systemid": "vxp.saas.03",
        "XroadVnpt-timestamp": "22112026T081500+0123",
        "XroadVnpt-sign-header-key": "docId;systemid;timestamp",
        "XroadVnpt-sign-header": sign_header,
        "XroadVnpt-hash-header": expected,
    }
    assert expected == expected.lower() and len(expected) == 64


def test_verifier_accepts_a_good_signature_within_fifteen_minutes() -> None:
    """A fresh, untouched request verifies and yields its signed values."""
    headers = sign({"status": "done"}, system_id="vxp.saas.03", secret="k3y", now=NOW)
    signed = verify(headers, SECRETS, now=NOW + dt.timedelta(minutes=14))
    assert signed["status"] == "done"


@pytest.mark.parametrize(
    "tamper, code",
    [
        (lambda h: h.update({"XroadVnpt-status": "fail"}), "1001"),  # value ≠ signed value
        (lambda h: h.update({"XroadVnpt-docId": "x"}), "1001"),  # unsigned parameter
        (lambda h: h.update({"XroadVnpt-hash-header": "0" * 64}), "1001"),
        (lambda h: h.update({"XroadVnpt-sign-header-key": "status;systemid"}), "1001"),
        (lambda h: h.update({"XroadVnpt-systemid": "vxp.other"}), "1003"),
        (lambda h: h.pop("XroadVnpt-hash-header"), "1001"),
    ],
    ids=["changed-value", "unsigned-param", "bad-hmac", "key-list", "unknown-system", "unsigned"],
)
def test_verifier_rejects_tampering(tamper: object, code: str) -> None:
    """Each kind of tampering is refused with its ErrorCode."""
    headers = sign({"status": "done"}, system_id="vxp.saas.03", secret="k3y", now=NOW)
    tamper(headers)  # type: ignore[operator]
    with pytest.raises(SignatureRejected) as caught:
        verify(headers, SECRETS, now=NOW)
    assert caught.value.code == code


def test_verifier_rejects_a_stale_timestamp() -> None:
    """More than 15 minutes off, either way, is refused (1002)."""
    headers = sign({}, system_id="vxp.saas.03", secret="k3y", now=NOW)
    for skew in (16, -16):
        with pytest.raises(SignatureRejected) as caught:
            verify(headers, SECRETS, now=NOW + dt.timedelta(minutes=skew))
        assert caught.value.code == "1002"


def test_verifier_checks_headers_case_insensitively() -> None:
    """HTTP header names arrive in any case (proxies lower-case them)."""
    headers = sign({"docId": "a"}, system_id="vxp.saas.03", secret="k3y", now=NOW)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert verify(lowered, SECRETS, now=NOW)["docId"] == "a"
