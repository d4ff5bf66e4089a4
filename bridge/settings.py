"""Base models for the per-adapter configuration sections (each adapter extends one)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from schemas.base import Model


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

    @property
    def display_name(self) -> str:
        """What people call the system: its `title`, else its `name`."""
        return self.title or self.name


class SourceSettings(EndpointSettings):
    poll_interval: float = Field(default=30.0, gt=0)  # seconds; contract name kept


class SinkSettings(EndpointSettings):
    max_in_flight: int = Field(default=4, ge=1, le=64)
    rate_limit: float | None = Field(
        default=None, gt=0
    )  # requests per second at most (None: no cap)
    max_attempts: int = Field(default=12, ge=1)
    status_poll_interval: float = Field(
        default=60.0, gt=0
    )  # seconds between processing-status polls


class OutboxSettings(SourceSettings):
    """Keys every outbox has beside its profile's (contract.md, `[[units.outboxes]]`); an
    adapter's outbox settings extend this."""

    roads: tuple[str, ...] = ("internal", "axis", "mail", "paper")
    axis: str | None = None  # the vxp source whose node sends (default: the unit's first)
    require_signature: bool = False  # send only when the main file's signature is `valid`
    smtp: dict[str, Any] | None = None  # the unit's official mailbox, for the mail road

    @field_validator("roads")
    @classmethod
    def _known_roads(cls, roads: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in roads if r not in ("internal", "axis", "mail", "paper")]
        if unknown:
            raise ValueError(f"đường không có / unknown road: {', '.join(unknown)}")
        return roads
