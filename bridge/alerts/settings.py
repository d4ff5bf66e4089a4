"""The `[alerts]` section of the configuration: when to alert, and by which channels.

Durations are seconds. Secrets (`password`, `secret`) take `${ENV}` or `*_file` like every
other secret of the configuration and are never logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, SecretStr

from schemas.base import Model


class EmailSettings(Model):
    """`[alerts.email]`: an SMTP server and who hears the alerts."""

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)  # 587 starttls, 465 ssl, 25 none
    tls: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(alias="from", min_length=3)
    to: tuple[str, ...] = Field(min_length=1)
    timeout_s: float = Field(default=30.0, gt=0)
    ca_file: str | None = None  # extra CA bundle (PEM) for the server's certificate

    @property
    def effective_port(self) -> int:
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.tls]


class WebhookSettings(Model):
    """`[alerts.webhook]`: a URL the alert is POSTed to as JSON."""

    url: str = Field(pattern=r"^https?://")
    secret: SecretStr | None = None  # sent as `Authorization: Bearer <secret>`
    timeout_s: float = Field(default=10.0, gt=0)


class AlertsSettings(Model):
    """`[alerts]`: the rules' thresholds and the channels."""

    road_down_after: float = Field(default=600.0, gt=0)
    remind_every: float = Field(default=4 * 3600.0, gt=0)
    quarantine_growth: int = Field(default=1, ge=1)
    dead_letters_growth: int = Field(default=1, ge=1)
    holidays: tuple[dt.date, ...] = ()  # public holidays (Mon-Fri off), for the 01 deadline
    check_every: float = Field(default=60.0, gt=0)  # how often the rules are evaluated
    email: EmailSettings | None = None
    webhook: WebhookSettings | None = None
