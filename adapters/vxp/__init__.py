"""The national document interconnection axis (edXML, QCVN 102:2016) as a bridge source, and
the sending side of its node (`VxpSender`: compose, `sendEdoc`, `getSentEdocList`).

`PROFILE` is what the registry lists; `document_from_edxml` reads a bare edXML file (the folder
adapter uses it for `.xml` drop files). The axis speaks business status both ways
(`status_messages`), and sources of several units on one node share it (`shared_node`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Hashable
from typing import Any

from adapters.vxp.directory import VxpDirectory
from adapters.vxp.mapping import (
    DOCUMENT_MEDIA_TYPE,
    STATUS_MEDIA_TYPE,
    document_from_edxml,
    parse_document_id,
    parse_record,
    to_document,
    to_status,
)
from adapters.vxp.message import StatusMessage
from adapters.vxp.send import VxpSender, make_sender
from adapters.vxp.settings import VxpSettings
from adapters.vxp.source import VxpSource
from bridge.interfaces import AdapterContext, IncomingStatus, Profile, StatusMessages
from bridge.settings import SourceSettings
from schemas import RawRecord

__all__ = [
    "PROFILE",
    "VxpDirectory",
    "VxpSender",
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


def _make_directory(settings: Any, ctx: AdapterContext) -> VxpDirectory:
    assert isinstance(settings, VxpSettings)
    return VxpDirectory(settings, ctx)


def read_status(record: RawRecord) -> IncomingStatus:
    """The code of the edXML status message a record carries (01-06, 02, and 13, 15, 16
    alike), the document it answers, the organ that sent it and its description."""
    message = to_status(record)
    sender = (message.sender.organ_id or "").strip()
    description = (message.description or "").strip()
    return IncomingStatus(
        code=(message.status_code or "").strip(),
        document_id=message.response_for.document_id or "",
        from_organ=sender or None,
        description=description or None,
    )


def node_of(settings: SourceSettings) -> Hashable:
    """The axis node a source polls: one node, one poller, whichever units it serves."""
    return (str(getattr(settings, "base_url", "")), str(getattr(settings, "system_id", "")))


PROFILE = Profile(
    name="vxp",
    to_document=to_document,
    read_file=read_file,
    source_settings=VxpSettings,
    make_source=_make_source,
    status_messages=StatusMessages(
        media_type=STATUS_MEDIA_TYPE, read=read_status, target=parse_document_id
    ),
    shared_node=node_of,
    make_axis_sender=make_sender,
    make_directory_source=_make_directory,
)
