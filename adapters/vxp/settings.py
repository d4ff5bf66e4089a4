"""Configuration of one vxp axis node: where it is, who the bridge is on it, and its secret."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from bridge.settings import SourceSettings


class VxpSettings(SourceSettings):
    """One `[[units.sources]]` entry with `profile = "vxp"`.

    Sources of several units with the same `base_url` and `system_id` are one node: the daemon
    builds one source for them and passes every unit id in `AdapterContext.units`.
    """

    profile: Literal["vxp"] = "vxp"
    base_url: str = Field(min_length=1, pattern=r"^https?://")
    system_id: str = Field(min_length=1)  # the node's registered id, e.g. "vxp.saas.03"
    secret: SecretStr  # HMAC-SHA256 key of the request signature
