"""Base models for the per-adapter configuration sections (each adapter extends one)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from schemas.base import Model
from schemas.outgoing import Road

REMOTE_RATE_LIMIT = 200.0  # requests/s to one remote system, every unit's calls together
STATUS_RATE_LIMIT = 5.0  # status questions/s to one home system, every unit's together
PER_HOST_CONNECTIONS = 16  # connections open at once to one remote system, all units together


class EndpointSettings(Model):
    """Keys every source and sink has. `profile` is narrowed to a Literal by each adapter."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    profile: str
    title: str = ""  # the system's display name ("TDOffice Sở Nội vụ"); `name` when empty
    timeout_s: float = Field(default=60.0, gt=0)
    ca_file: str | None = None  # extra CA bundle (PEM); government CAs are often not public
    client_cert: str | None = None  # PEM client certificate (and key, or client_key)
    client_key: str | None = None
    verify_tls: bool = True
    # Size caps on hostile input (bytes): a page or answer, one attachment, a file inline in XML/JSON.
    max_page_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    max_attachment_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_inline_attachment_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    # Requests per second to this endpoint's remote system (its host), shared by every
    # endpoint that calls the same host: the smallest value any of them sets wins. 0: no bound.
    remote_rate_limit: float = Field(default=REMOTE_RATE_LIMIT, ge=0)

    @property
    def display_name(self) -> str:
        """What people call the system: its `title`, else its `name`."""
        return self.title or self.name


class SourceSettings(EndpointSettings):
    poll_interval: float = Field(default=30.0, gt=0)  # seconds; contract name kept
    # Each poll is moved by up to this share of the interval at random, on top of the source's
    # own fixed place in the interval (bridge.domain.pacing): hundreds of sources never poll
    # in the same second.
    poll_jitter: float = Field(default=0.1, ge=0, le=0.5)


class SinkSettings(EndpointSettings):
    max_in_flight: int = Field(default=4, ge=1, le=64)
    rate_limit: float | None = Field(
        default=None, gt=0
    )  # requests per second at most (None: no cap)
    max_attempts: int = Field(default=12, ge=1)
    status_poll_interval: float = Field(
        default=60.0, gt=0
    )  # seconds between processing-status polls
    # Status questions per second to this home system (its host), shared by every sink on
    # the same host; the smallest value wins.
    status_rate_limit: float = Field(default=STATUS_RATE_LIMIT, gt=0)


class SmtpSettings(Model):
    """An outbox's `smtp` table: the unit's official mailbox for the mail road.

    `port` defaults to 465 for implicit TLS, 587 for STARTTLS and 25 for `tls = "none"` (plain,
    meant for a test server on loopback). Without `username` no AUTH is attempted.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    tls: Literal["implicit", "starttls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(alias="from", pattern=r"^[^@\s<>]+@[^@\s<>]+$")
    timeout_s: float = Field(default=60.0, gt=0)
    ca_file: str | None = None  # extra CA bundle (PEM) for the server's certificate
    verify_tls: bool = True

    @model_validator(mode="after")
    def _password_with_username(self) -> SmtpSettings:
        if self.username and self.password is None:
            raise ValueError("username cần password / username needs a password")
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"implicit": 465, "starttls": 587, "none": 25}[self.tls]


ALL_ROADS = tuple(Road)


class OutboxSettings(SourceSettings):
    """Keys every `[[units.outboxes]]` entry has, whatever its profile (contract.md).

    `roads` are the roads the unit may use, in the order they are tried (default all four);
    `axis` names the vxp source whose node sends (default: the unit's first); with
    `require_signature` only a document whose main file's signature is valid is sent.
    """

    roads: tuple[Road, ...] = ALL_ROADS
    axis: str | None = None
    require_signature: bool = False
    smtp: SmtpSettings | None = None

    @field_validator("roads")
    @classmethod
    def _distinct_roads(cls, value: tuple[Road, ...]) -> tuple[Road, ...]:
        if not value:
            raise ValueError("cần ít nhất một đường gửi / at least one road is needed")
        if len(set(value)) != len(value):
            raise ValueError("đường gửi bị lặp / a road is listed twice")
        return value


def host_of(url: str) -> str:
    """The remote system a URL names: its `scheme://host[:port]`, lower-cased (no parsing on
    the hot path: every URL of one system starts with the same base). One key for the
    connection pool, the request pacer, the status pacer and the open-file estimate."""
    return "/".join(url.split("/", 3)[:3]).lower()
