"""V-Office (REST/JSON with OAuth 2.0, pull): conditional offset listing, zip bundles, acks."""

from __future__ import annotations

from typing import Any

from adapters.voffice.mapping import read_file, to_document
from adapters.voffice.settings import VofficeSettings
from adapters.voffice.source import VofficeSource
from bridge.interfaces import AdapterContext, Profile


def make_source(settings: Any, ctx: AdapterContext) -> VofficeSource:
    return VofficeSource(settings, ctx)


PROFILE = Profile(
    name="voffice",
    to_document=to_document,
    read_file=read_file,
    source_settings=VofficeSettings,
    make_source=make_source,
)

__all__ = ["PROFILE", "VofficeSettings", "VofficeSource", "to_document"]
