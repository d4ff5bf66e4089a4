"""Fills the `signature` of each stored PDF attachment of a document."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

import structlog

from bridge.signatures.edxml import verify_edxml
from bridge.signatures.pdf import (
    BYTE_RANGE,
    MAGIC_WINDOW_BYTES,
    PDF_MAGIC,
    QUICK_BYTES,
    verify_pdf,
)
from bridge.signatures.trust import TrustStore
from schemas.document import Attachment, Document, Signature, SignatureStatus

log = structlog.get_logger(__name__)

PDF_CONTENT_TYPES = frozenset({"application/pdf", "application/x-pdf"})


def verify_document(
    doc: Document,
    blobs: HasPath,
    trust: TrustStore,
    edxml: bytes | None = None,
    *,
    now: dt.datetime | None = None,
) -> Document:
    """A copy of `doc` whose PDF attachments carry their signature status.

    Attachments without stored bytes (no `blob`, or the blob is missing) and files that
    are not PDFs are left as they are. `edxml`, the message the document came in, is not
    an attachment: its signature is logged here and returned by `verify_edxml`. Blocking:
    run it in a worker thread. Never mutates `doc`.
    """
    if edxml is not None:
        _log_edxml(edxml, trust, now)
    attachments = tuple(_verified(att, blobs, trust, now) for att in doc.attachments)
    if attachments == doc.attachments:
        return doc
    return doc.model_copy(update={"attachments": attachments})


def verify_inline(doc: Document, blobs: HasPath) -> Document | None:
    """`verify_document` for the common case, cheap enough for the event loop: when every PDF
    attachment is small (at most QUICK_BYTES) and names no signature, one read of each (a file
    just written, in the page cache) settles it: UNSIGNED. None when anything needs the real
    check (a signature, a big file): then run `verify_document` in a worker thread."""
    attachments = []
    for att in doc.attachments:
        if att.blob is None or not _may_be_pdf(att):
            attachments.append(att)
            continue
        try:
            with blobs.path(att.blob).open("rb") as file:
                data = file.read(QUICK_BYTES + 1)
        except FileNotFoundError:
            attachments.append(att)  # no stored bytes: left as it is
            continue
        if len(data) > QUICK_BYTES or BYTE_RANGE in data:
            return None
        if PDF_MAGIC not in data[:MAGIC_WINDOW_BYTES]:
            attachments.append(att)  # not a PDF after all
            continue
        log.debug("attachment_signature_checked", blob=att.blob, status="unsigned")
        attachments.append(
            att.model_copy(update={"signature": Signature(status=SignatureStatus.UNSIGNED)})
        )
    result = tuple(attachments)
    return doc if result == doc.attachments else doc.model_copy(update={"attachments": result})


class HasPath(Protocol):
    """Where a blob's bytes can be read as a file (a BlobStore, or a map of cached copies)."""

    def path(self, sha256: str) -> Path: ...


def _verified(
    att: Attachment, blobs: HasPath, trust: TrustStore, now: dt.datetime | None
) -> Attachment:
    if att.blob is None or not _may_be_pdf(att):
        return att
    path = blobs.path(att.blob)
    if not path.is_file():
        return att
    signature = verify_pdf(path, trust, now=now)
    if signature is None:
        return att
    if signature.status is SignatureStatus.UNSIGNED:
        log.debug("attachment_signature_checked", blob=att.blob, status=signature.status.value)
    else:
        log.info("attachment_signature_checked", blob=att.blob, status=signature.status.value)
    return att.model_copy(update={"signature": signature})


def _may_be_pdf(att: Attachment) -> bool:
    """Named or typed as a PDF, or typed so vaguely that it might be one (checked by magic)."""
    return (
        att.content_type.lower() in PDF_CONTENT_TYPES
        or att.name.lower().endswith(".pdf")
        or att.content_type.lower() == "application/octet-stream"
    )


def _log_edxml(data: bytes, trust: TrustStore, now: dt.datetime | None) -> Signature | None:
    try:
        signature = verify_edxml(data, trust, now=now)
    except ValueError as exc:
        log.warning("edxml_signature_unreadable", error=str(exc))
        return None
    if signature is not None:
        log.info("edxml_signature_checked", status=signature.status.value)
    return signature
