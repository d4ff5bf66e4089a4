"""Pure mapper from a stored tdoffice outbox record to an OutgoingItem. No I/O.

The outgoing item is the document object plus `sendId`, recipients with an `email`, one
attachment marked `main`, and `state` (`active`, `revoked`, `recalled`) with its `reason`.
The document itself is mapped by `adapters.tdoffice.mapping.to_document` as its content at
`version` (a revoked or recalled item says so in `OutgoingItem.state`, not in the document).
"""

from __future__ import annotations

import orjson
from pydantic import Field, ValidationError

from adapters.tdoffice.mapping import to_document
from adapters.tdoffice.wire import WireAttachment, WireOrgan, _describe, _Wire, load_object
from bridge.errors import PermanentError
from bridge.normalize import canonical_organ_name, clean_text
from schemas import OutgoingItem, OutgoingRecipient, OutgoingState, RawRecord


class WireRecipient(WireOrgan):
    email: str | None = None


class WireOutgoingAttachment(WireAttachment):
    main: bool = False


class WireOutgoing(_Wire):
    send_id: str | None = Field(default=None, alias="sendId")
    document_id: str | None = Field(default=None, alias="documentId")
    version: int = 1
    recipients: list[WireRecipient] | None = None
    attachments: list[WireOutgoingAttachment] | None = None
    state: str = "active"
    reason: str | None = None


def to_outgoing(record: RawRecord) -> OutgoingItem:
    """Map one stored outbox record. Raises PermanentError naming the element for bad input
    (a record stored with an error, malformed JSON, a missing `sendId`/`documentId`, an
    unknown `state`, two main files, a field the document mapper refuses)."""
    if record.error:
        raise PermanentError(record.error)
    obj = load_object(record.payload, "mục hộp thư đi / outbox item")
    try:
        wire = WireOutgoing.model_validate(obj)
    except ValidationError as exc:
        raise PermanentError(_describe(exc)) from None
    send_id, document_id = clean_text(wire.send_id), clean_text(wire.document_id)
    for field, value in (("sendId", send_id), ("documentId", document_id)):
        if value is None:
            raise PermanentError(
                f"thiếu trường bắt buộc '{field}' / missing mandatory field '{field}'"
            )
    assert send_id is not None and document_id is not None
    try:
        state = OutgoingState(wire.state)
    except ValueError:
        raise PermanentError(
            f"trạng thái không hợp lệ ở 'state': {wire.state[:40]!r} / invalid 'state'"
        ) from None
    if wire.version < 1:
        raise PermanentError(f"'version' phải từ 1 / 'version' must be at least 1: {wire.version}")
    # the content as it stands at this version; the item's state is carried beside it
    content = record.model_copy(update={"payload": orjson.dumps({**obj, "state": "active"})})
    document = to_document(content)
    return OutgoingItem(
        send_id=send_id,
        document_id=document_id,
        version=wire.version,
        document=document,
        main_attachment=_main(wire.attachments or []),
        recipients=tuple(_recipient(r) for r in wire.recipients or ()),
        state=state,
        reason=clean_text(wire.reason),
    )


def _main(attachments: list[WireOutgoingAttachment]) -> int | None:
    """The index of the one attachment marked `main`, None when none is."""
    marked = [i for i, att in enumerate(attachments) if att.main]
    if len(marked) > 1:
        raise PermanentError(
            f"nhiều tệp chính ở 'attachments[{marked[1]}].main' / "
            f"more than one main file ('attachments[{marked[1]}].main')"
        )
    return marked[0] if marked else None


def _recipient(recipient: WireRecipient) -> OutgoingRecipient:
    email = clean_text(recipient.email)
    return OutgoingRecipient(
        organ_id=clean_text(recipient.organ_id),  # as listed: dispatch reports name it so
        organ_name=canonical_organ_name(clean_text(recipient.organ_name)),
        email=email.lower() if email else None,
    )
