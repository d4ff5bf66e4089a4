"""The adapter registry: one `Profile` per kind of system, listed explicitly below.

A new system is its module plus one line in `registry()`; nothing registers by import side
effect. Imports are inside the function so that `bridge.config` can import this module without
pulling in every adapter's dependencies at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from bridge.interfaces import AdapterContext, Sink, Source
from bridge.settings import SinkSettings, SourceSettings
from schemas import Document, RawRecord


@dataclass(frozen=True)
class Profile:
    """Everything the bridge knows about one kind of system.

    `to_document` is the pure mapper from a stored raw record to the common schema.
    `read_file` builds a RawRecord from one file in the profile's wire format (for
    `lienthong normalize`); it raises PermanentError with a one-line reason on bad input.
    """

    name: str
    to_document: Callable[[RawRecord], Document]
    read_file: Callable[[bytes, str], RawRecord]
    source_settings: type[SourceSettings] | None = None
    make_source: Callable[[Any, AdapterContext], Source] | None = None
    sink_settings: type[SinkSettings] | None = None
    make_sink: Callable[[Any, AdapterContext], Sink] | None = None


@cache
def registry() -> dict[str, Profile]:
    """Every profile the bridge speaks, by name."""
    from adapters import folder, idesk, mailbox, moffice, tdoffice, voffice, vxp

    profiles: list[Profile] = [
        tdoffice.PROFILE,
        folder.PROFILE,
        moffice.PROFILE,
        idesk.PROFILE,
        voffice.PROFILE,
        vxp.PROFILE,
        mailbox.PROFILE,
    ]
    return {p.name: p for p in profiles}


def profile(name: str) -> Profile:
    """The profile called `name`; KeyError if there is none."""
    return registry()[name]
