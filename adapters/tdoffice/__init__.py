"""TDOffice: REST/JSON inbox with opaque cursors, signed webhooks, idempotent writes and status;
the outbox of issued documents (văn bản đi) and its dispatch log.

Usually a unit's home system. See `/work/shared/profiles/tdoffice.md` for the wire.
"""

from __future__ import annotations

from typing import Any

from adapters.tdoffice.mapping import read_file, to_document
from adapters.tdoffice.outbox import TdofficeOutbox
from adapters.tdoffice.outgoing import to_outgoing
from adapters.tdoffice.settings import (
    TdofficeOutboxSettings,
    TdofficeSinkSettings,
    TdofficeSourceSettings,
)
from adapters.tdoffice.sink import TdofficeSink
from adapters.tdoffice.source import TdofficeSource
from bridge.interfaces import AdapterContext, Profile


def _make_source(settings: Any, ctx: AdapterContext) -> TdofficeSource:
    return TdofficeSource(TdofficeSourceSettings.model_validate(settings), ctx)


def _make_sink(settings: Any, ctx: AdapterContext) -> TdofficeSink:
    return TdofficeSink(TdofficeSinkSettings.model_validate(settings), ctx)


def _make_outbox(settings: Any, ctx: AdapterContext) -> TdofficeOutbox:
    return TdofficeOutbox(TdofficeOutboxSettings.model_validate(settings), ctx)


PROFILE = Profile(
    name="tdoffice",
    to_document=to_document,
    read_file=read_file,
    source_settings=TdofficeSourceSettings,
    make_source=_make_source,
    sink_settings=TdofficeSinkSettings,
    make_sink=_make_sink,
    outbox_settings=TdofficeOutboxSettings,
    make_outbox=_make_outbox,
    to_outgoing=to_outgoing,
)

__all__ = [
    "PROFILE",
    "TdofficeOutbox",
    "TdofficeOutboxSettings",
    "TdofficeSink",
    "TdofficeSinkSettings",
    "TdofficeSource",
    "TdofficeSourceSettings",
]
