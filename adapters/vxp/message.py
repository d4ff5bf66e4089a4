"""The edXML messages of QCVN 102:2016 as plain values: the document message and the status message.

Every leaf keeps the text exactly as the wire gave it (None when the element is absent or
empty); mapping to the common schema happens in `adapters.vxp.mapping`. Inline attachments keep
their base64 text undecoded, so a message can be parsed without paying for its files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


@dataclass(frozen=True)
class OrganInfo:
    """From and To: one organ of the exchange."""

    organ_id: str | None = None
    organization_in_charge: str | None = None
    organ_name: str | None = None
    organ_add: str | None = None
    email: str | None = None
    telephone: str | None = None
    fax: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class Code:
    number: str | None = None
    notation: str | None = None


@dataclass(frozen=True)
class PromulgationInfo:
    place: str | None = None
    date: str | None = None  # yyyy/MM/dd as sent


@dataclass(frozen=True)
class DocumentTypeInfo:
    type: str | None = None
    type_detail: str | None = None
    type_name: str | None = None


@dataclass(frozen=True)
class SignerInfo:
    competence: str | None = None
    position: str | None = None
    full_name: str | None = None


@dataclass(frozen=True)
class OtherInfo:
    priority: str | None = None  # "0".."4" as sent; validated when mapping
    sphere_of_promulgation: str | None = None
    typer_notation: str | None = None
    promulgation_amount: str | None = None
    page_amount: str | None = None
    appendixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResponseFor:
    organ_id: str | None = None
    code: str | None = None
    promulgation_date: str | None = None
    document_id: str | None = None


@dataclass(frozen=True)
class TraceHeader:
    organ_id: str | None = None
    timestamp: str | None = None  # yyyy/MM/dd HH:mm:ss as sent


@dataclass(frozen=True)
class StaffInfo:
    department: str | None = None
    staff: str | None = None
    mobile: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Receiver:
    """An update's change of recipients: `receiver_type` 0 removed, 1 added."""

    receiver_type: str | None = None
    organ_id: str | None = None


@dataclass(frozen=True)
class ReplacementInfo:
    document_id: str | None = None
    organ_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Business:
    """`Bussiness` (spelled so on the wire): what the message asks of the document it names."""

    doc_type: str | None = None  # 0 new, 1 revocation, 2 update, 3 replacement
    reason: str | None = None
    paper: str | None = None
    document_id: str | None = None  # the target, for 1, 2 and 3
    staff: StaffInfo | None = None
    document_info: str | None = None  # update flags, 0/1
    document_receiver: str | None = None
    receivers: tuple[Receiver, ...] = ()
    replacements: tuple[ReplacementInfo, ...] = ()


@dataclass(frozen=True)
class ManifestReference:
    content_id: str | None = None
    content_type: str | None = None
    attachment_name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class InlineAttachment:
    """One `AttachmentEncoded/Attachment`; `encoded` is the base64 text, undecoded."""

    content_id: str | None = None
    name: str | None = None
    content_type: str | None = None
    description: str | None = None
    encoded: str = ""


@dataclass(frozen=True)
class EdxmlMessage:
    """An edXML document message (new document, revocation, update or replacement)."""

    sender: OrganInfo
    recipients: tuple[OrganInfo, ...] = ()
    document_id: str | None = None
    code: Code | None = None
    promulgation: PromulgationInfo | None = None
    document_type: DocumentTypeInfo | None = None
    subject: str | None = None
    content: str | None = None
    signer: SignerInfo | None = None
    due_date: str | None = None
    to_places: tuple[str, ...] = ()
    other_info: OtherInfo | None = None
    response_for: tuple[ResponseFor, ...] = ()
    steering_type: str | None = None
    traces: tuple[TraceHeader, ...] = ()
    business: Business | None = None
    signature: str | None = None  # the XML-DSig element re-serialized, kept, not verified
    manifest: tuple[ManifestReference, ...] = ()
    attachments: tuple[InlineAttachment, ...] = ()


@dataclass(frozen=True)
class StatusMessage:
    """An edXML status message: a receiver tells the sender what became of a document."""

    sender: OrganInfo
    response_for: ResponseFor
    status_code: str | None = None
    description: str | None = None
    timestamp: str | None = None  # yyyy/MM/dd HH:mm:ss as sent
    staff: StaffInfo | None = None
    traces: tuple[TraceHeader, ...] = ()


def bare_content_id(content_id: str | None) -> str | None:
    """A ContentId without its optional `cid:` prefix and angle brackets (senders vary)."""
    if content_id is None:
        return None
    value = content_id.strip()
    if value[:4].lower() == "cid:":
        value = value[4:]
    return value.strip("<>").strip() or None


# Leaf element names of each flat part, in wire order (the parser and the emitter share them).
ELEMENT_NAMES: dict[type[Any], dict[str, str]] = {
    OrganInfo: {
        "organ_id": "OrganId",
        "organization_in_charge": "OrganizationInCharge",
        "organ_name": "OrganName",
        "organ_add": "OrganAdd",
        "email": "Email",
        "telephone": "Telephone",
        "fax": "Fax",
        "website": "Website",
    },
    Code: {"number": "CodeNumber", "notation": "CodeNotation"},
    PromulgationInfo: {"place": "Place", "date": "PromulgationDate"},
    DocumentTypeInfo: {"type": "Type", "type_detail": "TypeDetail", "type_name": "TypeName"},
    SignerInfo: {"competence": "Competence", "position": "Position", "full_name": "FullName"},
    OtherInfo: {
        "priority": "Priority",
        "sphere_of_promulgation": "SphereOfPromulgation",
        "typer_notation": "TyperNotation",
        "promulgation_amount": "PromulgationAmount",
        "page_amount": "PageAmount",
    },
    ResponseFor: {
        "organ_id": "OrganId",
        "code": "Code",
        "promulgation_date": "PromulgationDate",
        "document_id": "DocumentId",
    },
    TraceHeader: {"organ_id": "OrganId", "timestamp": "Timestamp"},
    StaffInfo: {"department": "Department", "staff": "Staff", "mobile": "Mobile", "email": "Email"},
    Receiver: {"receiver_type": "ReceiverType", "organ_id": "OrganId"},
    ManifestReference: {
        "content_id": "ContentId",
        "content_type": "ContentType",
        "attachment_name": "AttachmentName",
        "description": "Description",
    },
}
