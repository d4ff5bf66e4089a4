"""M-Office (REST/JSON, pull): token login, page-number listing, files, receipts."""

from __future__ import annotations

from typing import Any

from adapters.moffice.mapping import read_file, to_document
from adapters.moffice.settings import MofficeSettings
from adapters.moffice.source import MofficeSource
from bridge.interfaces import AdapterContext, Profile


def make_source(settings: Any, ctx: AdapterContext) -> MofficeSource:
    return MofficeSource(settings, ctx)


PROFILE = Profile(
    name="moffice",
    to_document=to_document,
    read_file=read_file,
    source_settings=MofficeSettings,
    make_source=make_source,
)

__all__ = ["PROFILE", "MofficeSettings", "MofficeSource", "to_document"]
