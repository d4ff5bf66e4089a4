"""verify_document fills attachment signatures from the blob store, and TrustStore loading."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from bridge.blobs import BlobStore
from bridge.errors import ConfigError
from bridge.signatures import TrustStore, verify_document, verify_inline
from schemas.document import Attachment, Document, Organ, SignatureStatus
from tests.corpus_path import CORPUS as CORPUS_ROOT
from tests.signatures.conftest import Pki, SignedPdfs
from tests.signatures.pki import sign_edxml

BASE_EDXML = (CORPUS_ROOT / "vxp/001.edxml").read_bytes()


async def _stored(
    blobs: BlobStore, name: str, data: bytes, content_type: str = "application/pdf"
) -> Attachment:
    stored = await blobs.put_bytes(data, max_bytes=10_000_000)
    return Attachment(
        name=name,
        content_type=content_type,
        size=stored.size,
        sha256=stored.sha256,
        blob=stored.sha256,
    )


def _unstored(name: str, data: bytes) -> Attachment:
    return Attachment(
        name=name,
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


async def test_only_small_unsigned_files_are_settled_inline(
    pdfs: SignedPdfs, trust: TrustStore, tmp_path: Path
) -> None:
    """verify_inline gives what verify_document gives for small unsigned PDFs and non-PDFs,
    and declines (None) a signed or big PDF, which needs the real check."""
    blobs = BlobStore(tmp_path / "blobs")
    plain = Document(
        issuer=Organ(code="000.00.33.H49"),
        attachments=(
            await _stored(blobs, "Phụ lục.pdf", pdfs.unsigned),
            await _stored(blobs, "Tờ trình.docx", b"PK\x03\x04", "application/octet-stream"),
            await _stored(blobs, "ghi-chu.pdf", b"not really a pdf"),
            _unstored("missing.pdf", pdfs.valid),
        ),
    )
    inline = verify_inline(plain, blobs)
    assert inline is not None
    assert inline == verify_document(plain, blobs, trust)
    assert [a.signature.status if a.signature else None for a in inline.attachments] == [
        SignatureStatus.UNSIGNED,
        None,
        None,
        None,
    ]
    signed = plain.model_copy(update={"attachments": (await _stored(blobs, "CV.pdf", pdfs.valid),)})
    assert verify_inline(signed, blobs) is None
    big = pdfs.unsigned + b"\n%" + b"0" * (300 * 1024)  # no signature, but too big to settle inline
    large = plain.model_copy(update={"attachments": (await _stored(blobs, "Quét.pdf", big),)})
    assert verify_inline(large, blobs) is None
    # The same verdicts from bytes held in memory (files just stored), without the files.
    in_memory = {a.blob: blobs.recent(a.blob) or b"" for a in plain.attachments if a.blob}
    assert all(in_memory.values())
    nowhere = BlobStore(tmp_path / "empty")
    assert verify_inline(plain, nowhere, in_memory) == inline
    signed_bytes = {a.blob: blobs.recent(a.blob) or b"" for a in signed.attachments if a.blob}
    assert verify_inline(signed, nowhere, signed_bytes) is None


async def test_fills_each_stored_pdf(pdfs: SignedPdfs, trust: TrustStore, tmp_path: Path) -> None:
    """Stored PDFs get their status; a .docx and an attachment without bytes are left untouched."""
    blobs = BlobStore(tmp_path / "blobs")
    doc = Document(
        issuer=Organ(code="000.00.33.H49"),
        attachments=(
            await _stored(blobs, "CV 502.pdf", pdfs.valid),
            await _stored(blobs, "Phụ lục.pdf", pdfs.unsigned),
            await _stored(blobs, "Tờ trình.docx", b"PK\x03\x04", "application/octet-stream"),
            _unstored("missing.pdf", pdfs.valid),
        ),
    )
    out = await asyncio.to_thread(verify_document, doc, blobs, trust)
    statuses = [a.signature.status if a.signature else None for a in out.attachments]
    assert statuses == [SignatureStatus.VALID, SignatureStatus.UNSIGNED, None, None]
    assert all(a.signature is None for a in doc.attachments)  # the input is not mutated


async def test_document_without_pdfs_is_returned_as_is(trust: TrustStore, tmp_path: Path) -> None:
    """A document with nothing to check comes back unchanged (same object)."""
    doc = Document(issuer=Organ(code="000.00.33.H49"))
    assert verify_document(doc, BlobStore(tmp_path / "b"), trust) is doc


async def test_edxml_is_accepted_and_does_not_change_attachments(
    pki: Pki, pdfs: SignedPdfs, trust: TrustStore, tmp_path: Path
) -> None:
    """Passing the edXML message (signed, or unreadable) still verifies the PDFs and never raises."""
    blobs = BlobStore(tmp_path / "blobs")
    doc = Document(
        issuer=Organ(code="000.00.33.H49"),
        attachments=(await _stored(blobs, "a.pdf", pdfs.untrusted),),
    )
    base = BASE_EDXML
    for edxml in (sign_edxml(base, pki.signer, (pki.intermediate,)), b"<not xml"):
        out = verify_document(doc, blobs, trust, edxml)  # on the loop thread: must still work
        assert out.attachments[0].signature is not None
        assert out.attachments[0].signature.status is SignatureStatus.UNTRUSTED


def test_trust_store_reads_pem_bundles_and_der(pki: Pki, tmp_path: Path) -> None:
    """A bundle of several PEM certificates and a DER .cer file all become anchors; other files are ignored."""
    folder = tmp_path / "trust"
    folder.mkdir()
    (folder / "bundle.pem").write_bytes(pki.root.pem + pki.intermediate.pem)
    from cryptography.hazmat.primitives import serialization

    (folder / "other.cer").write_bytes(
        pki.stranger_root.cert.public_bytes(serialization.Encoding.DER)
    )
    (folder / "README.txt").write_text("not a certificate")
    assert len(TrustStore.from_folder(folder).roots) == 3


def test_trust_store_refuses_unreadable_file(tmp_path: Path) -> None:
    """A broken certificate file is a configuration error naming the file."""
    folder = tmp_path / "trust"
    folder.mkdir()
    (folder / "broken.pem").write_bytes(
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )
    with pytest.raises(ConfigError, match=r"broken\.pem"):
        TrustStore.from_folder(folder)


def test_trust_store_missing_or_none_trusts_nothing(tmp_path: Path) -> None:
    """A missing folder or no configured folder loads an empty store."""
    assert TrustStore.from_folder(tmp_path / "nope").roots == ()
    assert TrustStore.from_folder(None).roots == ()
