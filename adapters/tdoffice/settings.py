"""Configuration of a tdoffice source, sink or outbox: endpoint, API key, optional webhook secret."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, HttpUrl, SecretStr, field_validator

from bridge.settings import OutboxSettings, SinkSettings, SourceSettings
from schemas.base import Model


def _base_url(value: str) -> str:
    """Validate as an http(s) URL and drop the trailing slash so paths join cleanly."""
    return str(HttpUrl(value)).rstrip("/")


class TdofficeLog(Model):
    """The keys of an append-only tdoffice log the bridge reads (the inbox or the outbox)."""

    base_url: str
    api_key: SecretStr
    webhook_secret: SecretStr | None = None
    page_size: int = Field(default=100, ge=1, le=200)
    download_concurrency: int = Field(default=8, ge=1, le=32)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return _base_url(value)


class TdofficeSourceSettings(SourceSettings, TdofficeLog):
    """A tdoffice inbox the bridge pulls from; `webhook_secret` also turns on push."""

    profile: Literal["tdoffice"]


class TdofficeOutboxSettings(OutboxSettings, TdofficeLog):
    """A unit's tdoffice outbox (`[[units.outboxes]]`): its issued documents, pulled over the
    outgoing log and pushed as signed webhooks; dispatch reports go back to it."""

    profile: Literal["tdoffice"]


class TdofficeSinkSettings(SinkSettings):
    """A unit's home tdoffice the bridge delivers to; `webhook_secret` verifies status events."""

    profile: Literal["tdoffice"]
    base_url: str
    api_key: SecretStr
    webhook_secret: SecretStr | None = None

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return _base_url(value)
