"""Base models for the per-adapter configuration sections (each adapter extends one)."""

from __future__ import annotations

from pydantic import Field

from schemas.base import Model

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
