"""The `folder` profile: a drop folder read as an inbox and written as an outbox."""

from __future__ import annotations

from typing import Any

from adapters.folder.mapping import read_file, to_document
from adapters.folder.settings import FolderSinkSettings, FolderSourceSettings
from adapters.folder.sink import FolderSink
from adapters.folder.source import FolderSource
from bridge.interfaces import AdapterContext, Profile


def make_source(settings: Any, ctx: AdapterContext) -> FolderSource:
    return FolderSource(settings, ctx)


def make_sink(settings: Any, ctx: AdapterContext) -> FolderSink:
    return FolderSink(settings, ctx)


PROFILE = Profile(
    name="folder",
    to_document=to_document,
    read_file=read_file,
    source_settings=FolderSourceSettings,
    make_source=make_source,
    sink_settings=FolderSinkSettings,
    make_sink=make_sink,
)

__all__ = [
    "PROFILE",
    "FolderSink",
    "FolderSinkSettings",
    "FolderSource",
    "FolderSourceSettings",
    "read_file",
    "to_document",
]
