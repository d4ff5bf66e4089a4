"""The edXML document message a unit sends on the axis (vxp.md "Sending documents"). Pure.

Built once per (document, version) and stored; the same bytes go on every retry, so the
output depends on nothing but the OutgoingMessage (its `built_at` included) and `to`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import replace

from adapters.vxp.emit import emit_document
from adapters.vxp.message import Business, InlineAttachment, ManifestReference, TraceHeader
from adapters.vxp.render import message_for
from bridge.errors import PermanentError
from bridge.interfaces import OutgoingMessage
from bridge.normalize import VN_TZ

# OutgoingMessage.kind → edXML BussinessDocType
BUSINESS_TYPES = {"new": "0", "revocation": "1", "update": "2"}
_STAMP = "%Y/%m/%d %H:%M:%S"


def _stamp(built_at: object) -> str:
    if not isinstance(built_at, dt.datetime):
        raise PermanentError("thiếu thời điểm lập thông điệp / message without built_at")
    local = built_at.astimezone(VN_TZ) if built_at.tzinfo is not None else built_at
    return local.strftime(_STAMP)


def _files(
    message: OutgoingMessage,
) -> tuple[tuple[ManifestReference, ...], tuple[InlineAttachment, ...]]:
    attachments = message.document.attachments
    if len(message.files) != len(attachments):
        raise PermanentError(
            "chưa nạp nội dung tệp đính kèm / attachment bytes not loaded (OutgoingMessage.with_files)"
        )
    references, inline = [], []
    for index, (att, data) in enumerate(zip(attachments, message.files, strict=True)):
        if hashlib.sha256(data).hexdigest() != att.sha256:
            raise PermanentError(f"tệp '{att.name[:80]}' sai SHA-256 / attachment SHA-256 mismatch")
        content_id = f"{index + 1}.{att.sha256[:16]}@edxml"
        description = "Văn bản chính" if index == message.main_attachment else None
        references.append(
            ManifestReference(
                content_id=f"cid:{content_id}",
                content_type=att.content_type,
                attachment_name=att.name,
                description=description,
            )
        )
        inline.append(
            InlineAttachment(
                content_id=content_id,
                name=att.name,
                content_type=att.content_type,
                description=description,
                encoded=base64.b64encode(data).decode("ascii"),
            )
        )
    return tuple(references), tuple(inline)


def compose_edoc(message: OutgoingMessage, to: Sequence[str]) -> bytes:
    """The edXML file of `message` for the axis recipients `to` (their current codes).

    `From` the unit; one `To` per code of `to`; `ToPlaces` every recipient; `DocumentId` the
    message's `document_key`; `TraceHeader` the unit and `built_at`; `Bussiness` 0, 2 or 1
    (the last two naming the document); every attachment inline and in the manifest.
    Raises PermanentError for a message that cannot be sent (unknown kind, no recipient,
    attachment bytes not loaded or not matching their hash, no `built_at`).
    """
    doc = message.document
    kind = BUSINESS_TYPES.get(message.kind)
    if kind is None:
        raise PermanentError(
            f"loại thông điệp không hợp lệ / unknown message kind {message.kind!r}"
        )
    if not to:
        raise PermanentError("không có nơi nhận trên trục / no axis recipient")
    manifest, attachments = _files(message)
    base = message_for(doc, {}, list(to), sent_at=_stamp(message.built_at))
    return emit_document(
        replace(
            base,
            document_id=message.document_key,
            to_places=tuple(message.to_places),
            traces=(TraceHeader(organ_id=doc.issuer.code, timestamp=_stamp(message.built_at)),),
            business=Business(
                doc_type=kind,
                reason=message.reason,
                paper="0",
                document_id=None if kind == "0" else message.document_key,
            ),
            manifest=manifest,
            attachments=attachments,
        )
    )
