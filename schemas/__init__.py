"""The common document schema shared by adapters, the pipeline and the sinks. No I/O."""

from schemas.document import (
    Action,
    Attachment,
    Confidentiality,
    Document,
    DocumentRef,
    DocumentState,
    Organ,
    Priority,
    Provenance,
    Signature,
    SignatureStatus,
    Signer,
)
from schemas.outgoing import (
    DispatchReport,
    DispatchState,
    OutgoingItem,
    OutgoingRecipient,
    OutgoingState,
    Road,
    SentEdoc,
)
from schemas.record import Page, RawRecord, RemoteStatus, StatusEvent

__all__ = [
    "Action",
    "Attachment",
    "Confidentiality",
    "DispatchReport",
    "DispatchState",
    "Document",
    "DocumentRef",
    "DocumentState",
    "Organ",
    "OutgoingItem",
    "OutgoingRecipient",
    "OutgoingState",
    "Page",
    "Priority",
    "Provenance",
    "RawRecord",
    "RemoteStatus",
    "Road",
    "SentEdoc",
    "Signature",
    "SignatureStatus",
    "Signer",
    "StatusEvent",
]
