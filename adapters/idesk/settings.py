"""Configuration of an iDesk source: the ASMX endpoint and the account it signs in with."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from bridge.settings import SourceSettings


class IdeskSettings(SourceSettings):
    """`[[units.sources]]` keys for `profile = "idesk"`.

    `page_size` is the PageSize asked for (the service allows at most 50); `start_from` is the
    FromDate of the very first pull (local time, `yyyy-MM-ddTHH:mm:ss`).
    """

    profile: Literal["idesk"]
    base_url: str = Field(pattern=r"^https?://")
    username: str = Field(min_length=1)
    password: SecretStr
    page_size: int = Field(default=50, ge=1, le=50)
    start_from: str = Field(
        default="2000-01-01T00:00:00", pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"
    )
