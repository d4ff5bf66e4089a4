"""The e-mail channel against a real SMTP server: STARTTLS or TLS from the start, with the
server's certificate checked against `ca_file` and a login; a refused login is a ChannelError
that does not show the password."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from bridge.alerts.channels import ChannelError, EmailChannel
from bridge.alerts.messages import Message
from bridge.alerts.settings import EmailSettings
from tests.alerts.smtp_server import smtp_server
from tests.imap_server import make_certificates

MESSAGE = Message("[lienthong] Thử / Test", "Nội dung / Body\n", {})


def _server_tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    ca, cert, key = make_certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, ca


def _settings(port: int, tls: str, ca: Path, password: str) -> EmailSettings:
    raw = {"host": "127.0.0.1", "port": port, "tls": tls, "ca_file": str(ca), "timeout_s": 10}
    raw |= {"username": "canhbao", "password": password, "from": "a@b.vn", "to": ["c@d.vn"]}
    return EmailSettings.model_validate(raw)


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
async def test_tls_and_login(tmp_path: Path, tls: str) -> None:
    context, ca = _server_tls(tmp_path)
    async with smtp_server(context, starttls=tls == "starttls") as inbox:
        await EmailChannel(_settings(inbox.port, tls, ca, "mat-khau")).send(MESSAGE)
        with pytest.raises(ChannelError) as refused:
            await EmailChannel(_settings(inbox.port, tls, ca, "sai-mat-khau")).send(MESSAGE)
    assert inbox.subjects() == ["[lienthong] Thử / Test"] and inbox.logins == ["canhbao"]
    assert "SMTPAuthenticationError" in str(refused.value)
    assert "sai-mat-khau" not in str(refused.value)


async def test_an_unknown_certificate_is_refused(tmp_path: Path) -> None:
    context, _ = _server_tls(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    wrong_ca, _, _ = make_certificates(other)
    async with smtp_server(context) as inbox:
        with pytest.raises(ChannelError, match="SSLCertVerificationError"):
            await EmailChannel(_settings(inbox.port, "starttls", wrong_ca, "mat-khau")).send(
                MESSAGE
            )
    assert inbox.mails == []
