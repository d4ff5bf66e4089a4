"""Configuration of an M-Office source: where it lives and the clerk account it logs in with."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from bridge.settings import SourceSettings


class MofficeSettings(SourceSettings):
    """One `[[units.sources]]` entry with `profile = "moffice"`."""

    profile: Literal["moffice"]
    base_url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    username: str = Field(min_length=1)
    password: SecretStr
    page_size: int = Field(default=100, ge=1, le=100)
    download_concurrency: int = Field(default=8, ge=1, le=32)
