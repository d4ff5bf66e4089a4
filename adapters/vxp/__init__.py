"""The national document interconnection axis (edXML, QCVN 102:2016) as a bridge source.

`PROFILE` is what the registry lists; `document_from_edxml` reads a bare edXML file (the folder
adapter uses it for `.xml` drop files).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from adapters import Profile
from adapters.vxp.mapping import (
    DOCUMENT_MEDIA_TYPE,
    STATUS_MEDIA_TYPE,
    document_from_edxml,
    parse_record,
    to_document,
    to_status,
)
from adapters.vxp.message import StatusMessage
from adapters.vxp.settings import VxpSettings
from adapters.vxp.source import VxpSource
from bridge.interfaces import AdapterContext
from schemas import RawRecord

__all__ = [
    "PROFILE",
    "VxpSettings",
    "VxpSource",
    "document_from_edxml",
    "read_file",
    "to_document",
    "to_status",
]


def read_file(data: bytes, name: str) -> RawRecord:
    """A RawRecord from one edXML file (for `lienthong normalize`). Raises PermanentError.

    The unit is the first recipient named in `To` (the file says nothing of our units).
    """
    message = parse_record(data)
    if isinstance(message, StatusMessage):
        unit, media_type = message.response_for.organ_id or "", STATUS_MEDIA_TYPE
    else:
        first = message.recipients[0].organ_id if message.recipients else None
        unit, media_type = first or "", DOCUMENT_MEDIA_TYPE
    return RawRecord(
        source="file",
        unit=unit.strip(),
        external_id=name or hashlib.sha256(data).hexdigest()[:24],
        version="1",
        media_type=media_type,
        payload=data,
        received_at=dt.datetime.now(dt.UTC),
    )


def _make_source(settings: Any, ctx: AdapterContext) -> VxpSource:
    assert isinstance(settings, VxpSettings)
    return VxpSource(settings, ctx)


PROFILE = Profile(
    name="vxp",
    to_document=to_document,
    read_file=read_file,
    source_settings=VxpSettings,
    make_source=_make_source,
)
