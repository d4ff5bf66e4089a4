"""Renders a common-schema Document as an edXML document message (what a sending node emits).

Pure; the simulator uses it to put documents on the axis, and it is the inverse of
`adapters.vxp.mapping.document_from_message` for everything edXML can carry.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence

from adapters.vxp.mapping import format_document_id
from adapters.vxp.message import (
    Business,
    Code,
    DocumentTypeInfo,
    EdxmlMessage,
    InlineAttachment,
    ManifestReference,
    OrganInfo,
    OtherInfo,
    PromulgationInfo,
    SignerInfo,
    TraceHeader,
)
from schemas import Action, Document, DocumentRef, Organ

_DOC_TYPES = {Action.NEW: "0", Action.REVOKE: "1", Action.UPDATE: "2", Action.REPLACE: "3"}


def _date(value: object) -> str | None:
    strftime = getattr(value, "strftime", None)
    return strftime("%Y/%m/%d") if strftime else None


def _recipient(code: str, known: Sequence[Organ]) -> OrganInfo:
    name = next((o.name for o in known if o.code == code), None)
    return OrganInfo(organ_id=code, organ_name=name)


def _files(
    files: Mapping[str, bytes],
) -> tuple[tuple[ManifestReference, ...], tuple[InlineAttachment, ...]]:
    references, attachments = [], []
    for name, data in files.items():
        content_id = hashlib.sha256(name.encode("utf-8") + data).hexdigest()[:16] + "@edxml"
        is_pdf = name.lower().endswith(".pdf")
        content_type = "application/pdf" if is_pdf else "application/octet-stream"
        references.append(
            ManifestReference(
                content_id=f"cid:{content_id}", content_type=content_type, attachment_name=name
            )
        )
        attachments.append(
            InlineAttachment(
                content_id=content_id,
                name=name,
                content_type=content_type,
                encoded=base64.b64encode(data).decode("ascii"),
            )
        )
    return tuple(references), tuple(attachments)


def _signer(doc: Document) -> SignerInfo | None:
    signer = doc.signer
    if signer is None:
        return None
    return SignerInfo(competence=signer.competence, position=signer.position, full_name=signer.name)


def message_for(
    doc: Document, files: Mapping[str, bytes], units: Sequence[str], *, sent_at: str | None = None
) -> EdxmlMessage:
    """The edXML message a sender emits for `doc`, addressed to `units`, carrying `files`."""
    own = DocumentRef(
        issuer=doc.issuer, number=doc.number, notation=doc.notation, issued_on=doc.issued_on
    )
    manifest, attachments = _files(files)
    return EdxmlMessage(
        sender=OrganInfo(organ_id=doc.issuer.code, organ_name=doc.issuer.name),
        recipients=tuple(_recipient(u, doc.recipients) for u in units),
        document_id=format_document_id(own),
        code=Code(number=doc.number, notation=doc.notation),
        promulgation=PromulgationInfo(place=doc.place, date=_date(doc.issued_on)),
        document_type=DocumentTypeInfo(type="1", type_detail="0", type_name=doc.type_name),
        subject=doc.subject,
        content=doc.content,
        signer=_signer(doc),
        due_date=_date(doc.due_on),
        to_places=tuple(o.name for o in doc.recipients if o.name),
        other_info=OtherInfo(priority=str(int(doc.priority))),
        steering_type="0",
        traces=(TraceHeader(organ_id=doc.issuer.code, timestamp=sent_at),),
        business=Business(
            doc_type=_DOC_TYPES[doc.action],
            reason=doc.reason,
            paper="0",
            document_id=format_document_id(doc.target) if doc.target else None,
        ),
        manifest=manifest,
        attachments=attachments,
    )
