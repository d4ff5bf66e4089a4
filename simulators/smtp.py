"""An SMTP submission server on loopback for tests and the demo, built on aiosmtpd.

AUTH PLAIN and LOGIN against `users`, plain or STARTTLS or implicit TLS (given a TLS context),
and the failures the mail road must survive: a dead mailbox (550 to RCPT), 451 to RCPT for a
recipient a number of times or at a random rate, 451 or 554 to DATA at random. Every accepted
message is recorded whole and counted by (Message-ID, recipient), so a test proves that each
recipient got each message once.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from collections import Counter
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Self

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope and the bytes as submitted."""

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", "")).strip().strip("<>")


class SmtpSim:  # replies are ASCII: SMTP's own text is
    """Knobs: `users` (login → password), `dead` (addresses answered 550), `temp_fail`
    (address → how many more 451s to RCPT), `rcpt_451_rate`, `rcpt_550_rate`, `data_451_rate`,
    `data_554_rate`. Observations: `received`, `count(message_id, recipient)`, `refusals`."""

    def __init__(
        self,
        *,
        seed: int = 0,
        users: dict[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.rng = random.Random(seed)
        self.users = dict(users or {})
        self.dead: set[str] = set()
        self.temp_fail: dict[str, int] = {}
        self.rcpt_451_rate = 0.0
        self.rcpt_550_rate = 0.0
        self.data_451_rate = 0.0
        self.data_554_rate = 0.0
        self.received: list[Received] = []
        self.deliveries: Counter[tuple[str, str]] = Counter()
        self.refusals: Counter[str] = Counter()
        self.logins: list[str] = []
        self._tls = tls_context
        self._implicit = implicit_tls
        self._server: asyncio.Server | None = None
        self.host, self.port = "127.0.0.1", 0

    def count(self, message_id: str, recipient: str) -> int:
        """How many times `recipient` was given the message `message_id` (no angle brackets)."""
        return self.deliveries[(message_id.strip("<>"), recipient.lower())]

    # ---- aiosmtpd handler hooks --------------------------------------------------------

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.users and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        key = address.lower()
        if key in self.dead or self.rng.random() < self.rcpt_550_rate:
            self.refusals["rcpt_550"] += 1
            return "550 5.1.1 Mailbox unavailable"
        if self.temp_fail.get(key, 0) > 0 or self.rng.random() < self.rcpt_451_rate:
            self.temp_fail[key] = max(0, self.temp_fail.get(key, 0) - 1)
            self.refusals["rcpt_451"] += 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        roll = self.rng.random()
        if roll < self.data_451_rate:
            self.refusals["data_451"] += 1
            return "451 4.3.0 Try again later"
        if roll < self.data_451_rate + self.data_554_rate:
            self.refusals["data_554"] += 1
            return "554 5.6.0 Message refused"
        content = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode()
        item = Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), data)
        self.received.append(item)
        for rcpt in item.recipients:
            self.deliveries[(item.message_id, rcpt.lower())] += 1
        return "250 OK"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        if self.users.get(login) != password:
            return AuthResult(success=False, handled=False)
        self.logins.append(f"{mechanism}:{login}")
        return AuthResult(success=True)

    # ---- serving ----------------------------------------------------------------------

    def _protocol(self) -> SMTP:
        return SMTP(
            self,
            hostname="smtp.sim.local",
            tls_context=None if self._implicit else self._tls,
            require_starttls=False,
            auth_required=False,  # enforced at MAIL (below): aiosmtpd warns on AUTH without TLS
            auth_require_tls=False,
            authenticator=self._authenticate,
            auth_exclude_mechanism=["CRAM-MD5"],
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0 picks a free port); return the port."""
        loop = asyncio.get_running_loop()
        tls = self._tls if self._implicit else None
        self._server = await loop.create_server(self._protocol, host, port, ssl=tls)
        self.host, self.port = host, self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
