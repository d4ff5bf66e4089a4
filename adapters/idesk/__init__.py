"""The `idesk` profile: an iDesk-style SOAP 1.1 DocumentService pulled for incoming documents."""

from __future__ import annotations

from typing import Any

from adapters.idesk.mapping import read_file, to_document
from adapters.idesk.settings import IdeskSettings
from adapters.idesk.source import IdeskSource
from bridge.interfaces import AdapterContext, Profile


def make_source(settings: Any, ctx: AdapterContext) -> IdeskSource:
    return IdeskSource(settings, ctx)


PROFILE = Profile(
    name="idesk",
    to_document=to_document,
    read_file=read_file,
    source_settings=IdeskSettings,
    make_source=make_source,
)

__all__ = ["PROFILE", "IdeskSettings", "IdeskSource", "read_file", "to_document"]
