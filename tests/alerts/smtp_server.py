"""A real SMTP server for the alert tests: aiosmtpd on 127.0.0.1, on the test's own loop,
keeping every mail it accepts (the bridge's SMTP client runs in a thread, so the loop serves it)."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Inbox:
    """The mails the server accepted, parsed, with their envelope recipients."""

    mails: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    port: int = 0
    logins: list[str] = field(default_factory=list)
    password: bytes = b"mat-khau"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.mails.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == self.password
        if ok and isinstance(data, LoginPassword):
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    def subjects(self) -> list[str]:
        return [str(m["subject"]) for m in self.mails]


@contextlib.asynccontextmanager
async def smtp_server(
    tls: ssl.SSLContext | None = None, *, starttls: bool = True
) -> AsyncIterator[Inbox]:
    """An SMTP server; with `tls` it offers STARTTLS (or, without `starttls`, speaks TLS from
    the first byte) and requires a login over TLS."""
    inbox = Inbox()
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        if tls is None:
            return SMTP(inbox)
        if starttls:
            return SMTP(
                inbox, authenticator=inbox.authenticate, tls_context=tls, require_starttls=True
            )
        # TLS from the first byte: the server is not told so, but the transport is TLS
        return SMTP(inbox, authenticator=inbox.authenticate, auth_require_tls=False)

    wrap = tls if tls is not None and not starttls else None
    server = await loop.create_server(protocol, "127.0.0.1", 0, ssl=wrap)
    inbox.port = server.sockets[0].getsockname()[1]
    try:
        yield inbox
    finally:
        server.close()
        await server.wait_closed()
