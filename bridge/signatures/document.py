"""Fills the `signature` of each stored PDF attachment of a document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import structlog

from bridge.signatures.edxml import verify_edxml
from bridge.signatures.pdf import QUICK_BYTES, verify_pdf, verify_small
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
    return _with_attachments(
        doc, tuple(_verified(att, blobs, trust, now) for att in doc.attachments)
    )


def verify_inline(
    doc: Document, blobs: HasPath, in_memory: Mapping[str, bytes] | None = None
) -> Document | None:
    """`verify_document` for the common case, cheap enough for the event loop: every PDF
    attachment small and naming no signature (`verify_small`: the bytes `in_memory` holds by
    blob key, or one read of a file just written). None when any needs the real check: then
    run `verify_document` in a thread."""
    attachments = []
    for att in doc.attachments:
        data = _small_head(att, blobs, in_memory or {})
        if data is None:
            attachments.append(att)
            continue
        settled, signature = verify_small(data)
        if not settled:
            return None
        attachments.append(_signed(att, signature))
    return _with_attachments(doc, tuple(attachments))


class HasPath(Protocol):
    """Where a blob's bytes can be read as a file (a BlobStore, or a map of cached copies)."""

    def path(self, sha256: str) -> Path: ...


def _verified(
    att: Attachment, blobs: HasPath, trust: TrustStore, now: dt.datetime | None
) -> Attachment:
    path = _stored_pdf(att, blobs)
    return att if path is None else _signed(att, verify_pdf(path, trust, now=now))


def _stored_pdf(att: Attachment, blobs: HasPath) -> Path | None:
    """Where the bytes of an attachment that may be a PDF are; None for other files and for
    attachments without stored bytes (those are left as they are)."""
    if att.blob is None or not _may_be_pdf(att):
        return None
    path = blobs.path(att.blob)
    return path if path.is_file() else None


def _small_head(att: Attachment, blobs: HasPath, in_memory: Mapping[str, bytes]) -> bytes | None:
    """Enough of a stored attachment that may be a PDF for `verify_small` (from memory, or one
    read of its file); None for other files and for attachments without stored bytes."""
    if att.blob is None or not _may_be_pdf(att):
        return None
    if (data := in_memory.get(att.blob)) is not None:
        return data
    path = _stored_pdf(att, blobs)
    if path is None:
        return None
    with path.open("rb") as file:
        return file.read(QUICK_BYTES + 1)


def _signed(att: Attachment, signature: Signature | None) -> Attachment:
    """The attachment with its signature status (None: not a PDF after all, left alone)."""
    if signature is None:
        return att
    unsigned = signature.status is SignatureStatus.UNSIGNED
    (log.debug if unsigned else log.info)(
        "attachment_signature_checked", blob=att.blob, status=signature.status.value
    )
    return att.model_copy(update={"signature": signature})


def _with_attachments(doc: Document, attachments: tuple[Attachment, ...]) -> Document:
    return (
        doc
        if attachments == doc.attachments
        else doc.model_copy(update={"attachments": attachments})
    )


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
