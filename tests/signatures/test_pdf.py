"""verify_pdf on PDFs signed at test time by a test CA."""

from __future__ import annotations

from pathlib import Path

from bridge.signatures import TrustStore, verify_pdf
from schemas.document import SignatureStatus
from tests.signatures.conftest import Pki, SignedPdfs, write
from tests.signatures.pki import DAY, NOW, minimal_pdf, sign_pdf, write_trust_store


def test_valid_signature_names_signer_and_time(
    pdfs: SignedPdfs, trust: TrustStore, tmp_path: Path
) -> None:
    """A PDF signed by a certificate chaining to the trust store is valid, with 'CN, O' and the signing time."""
    sig = verify_pdf(write(tmp_path, "a.pdf", pdfs.valid), trust)
    assert sig is not None
    assert sig.status is SignatureStatus.VALID
    assert sig.signer == "Bùi Thị Thúy Vân, Ủy ban nhân dân huyện Vân Đồn"
    # the time the signer wrote, not the test's start: a loaded machine may sign minutes later
    assert sig.signed_at is not None
    assert pdfs.signed_from <= sig.signed_at <= pdfs.signed_until
    assert sig.reason is not None and "revocation not checked" in sig.reason


def test_tampered_byte_is_invalid(pdfs: SignedPdfs, trust: TrustStore, tmp_path: Path) -> None:
    """One byte of the signed content changed after signing makes the signature invalid."""
    data = bytearray(pdfs.valid)
    at = data.index(b"Cong van")
    data[at] = ord("K")
    sig = verify_pdf(write(tmp_path, "t.pdf", bytes(data)), trust)
    assert sig is not None
    assert sig.status is SignatureStatus.INVALID
    assert sig.reason is not None and "changed after signing" in sig.reason


def test_expired_at_signing_is_invalid(pdfs: SignedPdfs, trust: TrustStore, tmp_path: Path) -> None:
    """A certificate already expired when it signed yields invalid with a reason naming the expiry."""
    sig = verify_pdf(write(tmp_path, "e.pdf", pdfs.expired), trust)
    assert sig is not None
    assert sig.status is SignatureStatus.INVALID
    assert sig.reason is not None and "expired at signing time" in sig.reason


def test_certificate_expired_since_signing_stays_valid(
    pdfs: SignedPdfs, trust: TrustStore, tmp_path: Path
) -> None:
    """A signature made while the certificate was valid is still valid after the certificate expires."""
    sig = verify_pdf(write(tmp_path, "a.pdf", pdfs.valid), trust, now=NOW + 800 * DAY)
    assert sig is not None and sig.status is SignatureStatus.VALID


def test_untrusted_root_is_untrusted(pdfs: SignedPdfs, trust: TrustStore, tmp_path: Path) -> None:
    """A chain ending at a root outside the trust store is untrusted."""
    sig = verify_pdf(write(tmp_path, "u.pdf", pdfs.untrusted), trust)
    assert sig is not None
    assert sig.status is SignatureStatus.UNTRUSTED
    assert sig.signer == "Người Lạ, Không rõ"


def test_empty_trust_store_trusts_nothing(pdfs: SignedPdfs, tmp_path: Path) -> None:
    """With a missing trust store folder a well-formed signature is untrusted, not valid."""
    trust = TrustStore.from_folder(tmp_path / "missing")
    sig = verify_pdf(write(tmp_path, "a.pdf", pdfs.valid), trust)
    assert sig is not None and sig.status is SignatureStatus.UNTRUSTED


def test_intermediate_as_anchor_is_trusted(pdfs: SignedPdfs, pki: Pki, tmp_path: Path) -> None:
    """Every certificate in the folder is an anchor: trusting only the intermediate suffices."""
    trust = TrustStore.from_folder(write_trust_store(tmp_path / "t", pki.intermediate))
    sig = verify_pdf(write(tmp_path, "a.pdf", pdfs.valid), trust)
    assert sig is not None and sig.status is SignatureStatus.VALID


def test_unsigned_pdf(pdfs: SignedPdfs, trust: TrustStore, tmp_path: Path) -> None:
    """A PDF without a signature is reported unsigned."""
    sig = verify_pdf(write(tmp_path, "u.pdf", pdfs.unsigned), trust)
    assert sig is not None and sig.status is SignatureStatus.UNSIGNED


def test_non_pdf_is_not_applicable(trust: TrustStore, tmp_path: Path) -> None:
    """A file that is not a PDF (a .docx zip, an empty file) gets no signature at all."""
    assert verify_pdf(write(tmp_path, "a.docx", b"PK\x03\x04 not a pdf"), trust) is None
    assert verify_pdf(write(tmp_path, "empty.pdf", b""), trust) is None


def test_byte_range_without_signature_is_unsigned(trust: TrustStore, tmp_path: Path) -> None:
    """A PDF that merely mentions /ByteRange in its text but has no signature field is unsigned."""
    sig = verify_pdf(write(tmp_path, "b.pdf", minimal_pdf("see /ByteRange")), trust)
    assert sig is not None and sig.status is SignatureStatus.UNSIGNED


def test_broken_pdf_with_signature_marker_is_indeterminate(
    trust: TrustStore, tmp_path: Path
) -> None:
    """Garbage after a PDF header that claims a signature cannot be decided, and does not raise."""
    sig = verify_pdf(write(tmp_path, "x.pdf", b"%PDF-1.7\n/ByteRange [0 1 2 3] garbage"), trust)
    assert sig is not None and sig.status is SignatureStatus.INDETERMINATE


def test_unreachable_revocation_defaults_to_valid_with_note(
    pdfs: SignedPdfs, pki: Pki, tmp_path: Path
) -> None:
    """OCSP/CRL named but unreachable: valid by default, with a reason saying revocation was not checked."""
    trust = TrustStore.from_folder(write_trust_store(tmp_path / "t", pki.root), fetch_timeout_s=2)
    sig = verify_pdf(write(tmp_path, "r.pdf", pdfs.revocable), trust)
    assert sig is not None
    assert sig.status is SignatureStatus.VALID
    assert sig.reason is not None and "unreachable" in sig.reason


def test_unreachable_revocation_is_indeterminate_when_required(
    pdfs: SignedPdfs, pki: Pki, tmp_path: Path
) -> None:
    """With require_revocation, undecidable revocation yields indeterminate."""
    trust = TrustStore.from_folder(
        write_trust_store(tmp_path / "t", pki.root), require_revocation=True, fetch_timeout_s=2
    )
    sig = verify_pdf(write(tmp_path, "r.pdf", pdfs.revocable), trust)
    assert sig is not None and sig.status is SignatureStatus.INDETERMINATE
    unpublished = verify_pdf(write(tmp_path, "a.pdf", pdfs.valid), trust)
    assert unpublished is not None and unpublished.status is SignatureStatus.INDETERMINATE


def test_worst_of_two_signatures_is_reported(
    pdfs: SignedPdfs, pki: Pki, trust: TrustStore, tmp_path: Path
) -> None:
    """A PDF signed twice, once by an untrusted signer, reports untrusted and counts the signatures."""
    twice = sign_pdf(pdfs.valid, pki.stranger, [pki.stranger_root], field="ChuKySo2")
    sig = verify_pdf(write(tmp_path, "2.pdf", twice), trust)
    assert sig is not None and sig.status is SignatureStatus.UNTRUSTED
    assert sig.reason is not None and "2 chữ ký" in sig.reason
