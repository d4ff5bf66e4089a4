"""Configuration of a V-Office source: its base URL and OAuth 2.0 client credentials."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from bridge.settings import SourceSettings


class VofficeSettings(SourceSettings):
    """One `[[units.sources]]` entry with `profile = "voffice"`."""

    profile: Literal["voffice"]
    base_url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    page_size: int = Field(default=100, ge=1, le=100)
    download_concurrency: int = Field(default=8, ge=1, le=32)
