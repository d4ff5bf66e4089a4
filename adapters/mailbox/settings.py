"""Configuration of a `mailbox` source: the IMAP server, the folder, and the sender address book."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from bridge.settings import SourceSettings
from schemas.base import Model

ORGAN_CODE_PATTERN = r"^[0-9A-Z.]{1,35}$"
DEFAULT_KEYWORD = "$LienThong"


class AddressBookEntry(Model):
    """An organ a sender address stands for: its identifier code and, optionally, its name."""

    code: str = Field(pattern=ORGAN_CODE_PATTERN)
    name: str | None = None


class MailboxSettings(SourceSettings):
    """`[[units.sources]]` with `profile = "mailbox"`.

    `port` defaults to 993 for implicit TLS and 143 otherwise. `tls = "none"` sends the password
    in clear and is meant for a test server on loopback. After a message is stored the source
    adds `keyword` to it, or moves it to `move_to` when that is set; mail is never deleted.
    """

    profile: Literal["mailbox"]
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str = Field(min_length=1)
    password: SecretStr
    tls: Literal["implicit", "starttls", "none"] = "implicit"
    folder: str = Field(default="INBOX", min_length=1)
    address_book: dict[str, AddressBookEntry] = Field(default_factory=dict)
    mark: Literal["keyword", "move"] = "keyword"
    keyword: str = Field(default=DEFAULT_KEYWORD, pattern=r"^\$?[A-Za-z0-9_]{1,64}$")
    move_to: str | None = None
    batch_size: int = Field(default=20, ge=1, le=500)
    max_message_bytes: int | None = Field(default=None, gt=0)

    @field_validator("address_book", mode="before")
    @classmethod
    def _entries(cls, value: object) -> object:
        """Accept `"addr" = "code"` as well as `"addr" = {code, name}`; addresses fold to lower case."""
        if not isinstance(value, dict):
            return value
        return {
            str(address).strip().lower(): {"code": entry} if isinstance(entry, str) else entry
            for address, entry in value.items()
        }

    @model_validator(mode="after")
    def _move_needs_folder(self) -> MailboxSettings:
        if self.mark == "move" and not self.move_to:
            raise ValueError("mark = 'move' cần move_to / mark = 'move' needs move_to")
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 993 if self.tls == "implicit" else 143

    @property
    def is_moving(self) -> bool:
        return self.mark == "move" or self.move_to is not None
