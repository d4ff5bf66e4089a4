"""Where alerts go: e-mail over SMTP (the standard library's client, in a thread) and a
webhook (JSON POSTed with aiohttp). A failed send raises `ChannelError` with a reason fit for
the log (never a secret); the monitor tries that channel again at its next evaluation."""

from __future__ import annotations

import asyncio
import email.utils
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

import aiohttp

from bridge.alerts.messages import Message
from bridge.alerts.settings import EmailSettings, WebhookSettings

WEBHOOK_TRIES = 3
WEBHOOK_PAUSE_S = 0.5  # before the 2nd try; doubled before the 3rd


class ChannelError(Exception):
    """A channel could not deliver one message."""


class Channel(Protocol):
    name: str

    async def send(self, message: Message) -> None: ...


class EmailChannel:
    name = "email"

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    async def send(self, message: Message) -> None:
        try:
            await asyncio.to_thread(self._send, self._mail(message))
        except (smtplib.SMTPException, OSError) as exc:
            s = self.settings
            raise ChannelError(
                f"smtp {s.host}:{s.effective_port}: {type(exc).__name__}: {exc}"
            ) from None

    def _mail(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.from_
        mail["To"] = ", ".join(self.settings.to)
        mail["Subject"] = message.subject
        mail["Date"] = email.utils.formatdate(localtime=False)
        mail["Message-ID"] = email.utils.make_msgid(domain="lienthong")
        mail.set_content(message.text)
        return mail

    def _send(self, mail: EmailMessage) -> None:
        s = self.settings
        context = ssl.create_default_context(cafile=s.ca_file)
        smtp: smtplib.SMTP
        if s.tls == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.effective_port, timeout=s.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout_s)
        with smtp:
            if s.tls == "starttls":
                smtp.starttls(context=context)
            if s.username and s.password is not None:
                smtp.login(s.username, s.password.get_secret_value())
            smtp.send_message(mail)


class WebhookChannel:
    name = "webhook"

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings

    async def send(self, message: Message) -> None:
        s = self.settings
        headers = {"Authorization": f"Bearer {s.secret.get_secret_value()}"} if s.secret else {}
        timeout = aiohttp.ClientTimeout(total=s.timeout_s)
        reason = ""
        for attempt in range(WEBHOOK_TRIES):
            if attempt:
                await asyncio.sleep(WEBHOOK_PAUSE_S * 2 ** (attempt - 1))
            try:
                async with (
                    aiohttp.ClientSession(timeout=timeout) as http,
                    http.post(s.url, json=message.payload, headers=headers) as resp,
                ):
                    if resp.status < 300:
                        return
                    reason = f"HTTP {resp.status}"
                    if resp.status < 500 and resp.status != 429:
                        break  # refused: trying again now changes nothing
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
        raise ChannelError(f"webhook: {reason}")


def channels_of(
    email_settings: EmailSettings | None, webhook: WebhookSettings | None
) -> list[Channel]:
    found: list[Channel] = []
    if email_settings is not None:
        found.append(EmailChannel(email_settings))
    if webhook is not None:
        found.append(WebhookChannel(webhook))
    return found
