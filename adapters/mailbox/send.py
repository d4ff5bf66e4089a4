"""Submitting the stored mail over SMTP from the unit's official mailbox (the MailSender).

One connection per message: AUTH PLAIN (else LOGIN) when a username is configured, on implicit
TLS, STARTTLS or, when the operator says so, plain. Every exchange has the configured timeout.

| answer | error |
| --- | --- |
| 4xx to anything, timeouts, refused or cut connections | TransientError: the same bytes later |
| 5xx to RCPT or DATA | MailRefusedError: this road failed for good |
| AUTH refused | AuthError |
| 5xx to MAIL FROM or any other command | PermanentError |
"""

from __future__ import annotations

import ssl
from typing import Any

import aiosmtplib
import structlog

from adapters.mailbox.compose import compose_mail
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext, MailRefusedError, OutgoingMessage
from bridge.settings import SmtpSettings

log = structlog.get_logger(__name__)


def _tls_context(settings: SmtpSettings, ctx: AdapterContext) -> ssl.SSLContext | None:
    if settings.tls == "none":
        return None
    if settings.ca_file is not None:
        context = ssl.create_default_context(cafile=settings.ca_file)
    else:
        context = ctx.ssl or ssl.create_default_context()
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"SMTP {exc.code} {exc.message[:200]}".strip()


def _classified(exc: aiosmtplib.SMTPResponseException, what: str, *, refusal: bool) -> Exception:
    if 400 <= exc.code < 500:
        return TransientError(f"{what}: máy chủ tạm từ chối / temporarily refused ({_reply(exc)})")
    if refusal:
        return MailRefusedError(f"{what}: máy chủ từ chối thư / refused for good ({_reply(exc)})")
    return PermanentError(f"{what}: máy chủ từ chối / refused ({_reply(exc)})")


class SmtpSender:
    """The mail road of one outbox (`[units.outboxes.smtp]`)."""

    def __init__(self, settings: SmtpSettings, ctx: AdapterContext) -> None:
        self._settings = settings
        self._ctx = ctx
        self.address = settings.sender
        self.name = f"smtp:{settings.sender}"

    def compose(
        self,
        message: OutgoingMessage,
        *,
        to: str,
        message_id: str,
        in_reply_to: str | None = None,
    ) -> bytes:
        """The MIME message (see adapters.mailbox.compose)."""
        return compose_mail(
            message, sender=self.address, to=to, message_id=message_id, in_reply_to=in_reply_to
        )

    async def send(self, *, to: str, message: bytes) -> None:
        """Submit the stored bytes to `to` (see the module's table)."""
        settings = self._settings
        what = f"SMTP {settings.host}"
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.effective_port,
            timeout=settings.timeout_s,
            use_tls=settings.tls == "implicit",
            start_tls=settings.tls == "starttls",
            tls_context=_tls_context(settings, self._ctx),
        )
        try:
            await client.connect()
            await self._login(client, what)
            await self._transaction(client, to, message, what)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise AuthError(
                f"{what}: đăng nhập bị từ chối / login refused ({_reply(exc)})"
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _classified(exc, what, refusal=False) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransientError(
                f"{what}: lỗi kết nối / connection failed ({type(exc).__name__})"
            ) from exc
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()
        log.info("mail_sent", sender=self.name, bytes=len(message))

    async def _login(self, client: aiosmtplib.SMTP, what: str) -> None:
        settings = self._settings
        if not settings.username:
            return
        password = settings.password.get_secret_value() if settings.password else ""
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()
        methods = client.server_auth_methods
        if "plain" in methods:
            await client.auth_plain(settings.username, password)
        elif "login" in methods:
            await client.auth_login(settings.username, password)
        else:
            raise AuthError(f"{what}: máy chủ không nhận AUTH PLAIN/LOGIN / no AUTH PLAIN or LOGIN")

    async def _transaction(
        self, client: aiosmtplib.SMTP, to: str, message: bytes, what: str
    ) -> None:
        try:
            await client.sendmail(self.address, [to], message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise _classified(first, what, refusal=True) from exc
        except aiosmtplib.SMTPRecipientRefused as exc:
            raise _classified(exc, what, refusal=True) from exc
        except aiosmtplib.SMTPDataError as exc:
            raise _classified(exc, what, refusal=True) from exc


def make_sender(settings: Any, ctx: AdapterContext) -> SmtpSender:
    """The Profile's `make_mail_sender`: the mail road of an outbox's `smtp` table."""
    if not isinstance(settings, SmtpSettings):
        settings = SmtpSettings.model_validate(settings)
    return SmtpSender(settings, ctx)
