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
from schemas.record import Page, RawRecord, RemoteStatus, StatusEvent

__all__ = [
    "Action",
    "Attachment",
    "Confidentiality",
    "Document",
    "DocumentRef",
    "DocumentState",
    "Organ",
    "Page",
    "Priority",
    "Provenance",
    "RawRecord",
    "RemoteStatus",
    "Signature",
    "SignatureStatus",
    "Signer",
    "StatusEvent",
]
