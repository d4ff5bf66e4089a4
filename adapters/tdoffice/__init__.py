"""TDOffice: REST/JSON inbox with opaque cursors, signed webhooks, idempotent writes and status.

Usually a unit's home system. See `/work/shared/profiles/tdoffice.md` for the wire.
"""

from __future__ import annotations

from typing import Any

from adapters.tdoffice.mapping import read_file, to_document
from adapters.tdoffice.settings import TdofficeSinkSettings, TdofficeSourceSettings
from adapters.tdoffice.sink import TdofficeSink
from adapters.tdoffice.source import TdofficeSource
from bridge.interfaces import AdapterContext, Profile


def _make_source(settings: Any, ctx: AdapterContext) -> TdofficeSource:
    return TdofficeSource(TdofficeSourceSettings.model_validate(settings), ctx)


def _make_sink(settings: Any, ctx: AdapterContext) -> TdofficeSink:
    return TdofficeSink(TdofficeSinkSettings.model_validate(settings), ctx)


PROFILE = Profile(
    name="tdoffice",
    to_document=to_document,
    read_file=read_file,
    source_settings=TdofficeSourceSettings,
    make_source=_make_source,
    sink_settings=TdofficeSinkSettings,
    make_sink=_make_sink,
)

__all__ = [
    "PROFILE",
    "TdofficeSink",
    "TdofficeSinkSettings",
    "TdofficeSource",
    "TdofficeSourceSettings",
]
