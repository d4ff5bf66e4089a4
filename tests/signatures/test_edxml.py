"""verify_edxml on the corpus vxp messages and on an edXML signed at test time."""

from __future__ import annotations

import pytest

from bridge.signatures import TrustStore, verify_edxml
from schemas.document import SignatureStatus
from tests.corpus_path import CORPUS as CORPUS_ROOT
from tests.signatures.conftest import Pki
from tests.signatures.pki import sign_edxml

CORPUS = CORPUS_ROOT / "vxp"
BASE = (CORPUS / "001.edxml").read_bytes()
UNVERIFIABLE = [
    "002.edxml",
    "006.edxml",
    "011.edxml",
    "017.edxml",
    "018.edxml",
    "019.edxml",
    "020.edxml",
]


def test_message_without_signature_is_not_applicable(trust: TrustStore) -> None:
    """An edXML without a Signature element returns None."""
    assert verify_edxml(BASE, trust) is None


def test_valid_enveloped_signature(pki: Pki, trust: TrustStore) -> None:
    """A signature at edXMLHeader/Signature by a trusted signer over the whole message is valid."""
    sig = verify_edxml(sign_edxml(BASE, pki.signer, (pki.intermediate,)), trust)
    assert sig is not None
    assert sig.status is SignatureStatus.VALID
    assert sig.signer == "Bùi Thị Thúy Vân, Ủy ban nhân dân huyện Vân Đồn"


def test_signature_sits_in_header(pki: Pki) -> None:
    """The test signer places the signature where QCVN 102 puts it (sanity of the fixture)."""
    signed = sign_edxml(BASE, pki.signer, (pki.intermediate,))
    assert signed.index(b"Signature") < signed.index(b"edXMLHeader>", signed.index(b"Signature"))


def test_tampered_message_is_invalid(pki: Pki, trust: TrustStore) -> None:
    """Changing the subject after signing makes the signature invalid."""
    signed = sign_edxml(BASE, pki.signer, (pki.intermediate,))
    tampered = signed.replace("triển khai".encode(), "hủy bỏ".encode(), 1)
    assert tampered != signed
    sig = verify_edxml(tampered, trust)
    assert sig is not None and sig.status is SignatureStatus.INVALID


def test_tampered_attachment_is_invalid(pki: Pki, trust: TrustStore) -> None:
    """The signature covers AttachmentEncoded too: a changed attachment byte is caught."""
    signed = sign_edxml(BASE, pki.signer, (pki.intermediate,))
    at = signed.index(b"JVBERi0xLjQK") + 20
    tampered = signed[:at] + (b"A" if signed[at : at + 1] != b"A" else b"B") + signed[at + 1 :]
    sig = verify_edxml(tampered, trust)
    assert sig is not None and sig.status is SignatureStatus.INVALID


def test_untrusted_signer(pki: Pki, trust: TrustStore) -> None:
    """A signer outside the trust store is untrusted."""
    sig = verify_edxml(sign_edxml(BASE, pki.stranger, (pki.stranger_root,)), trust)
    assert sig is not None and sig.status is SignatureStatus.UNTRUSTED


def test_expired_signer_is_invalid(pki: Pki, trust: TrustStore) -> None:
    """A certificate expired at receipt is invalid with the expiry in the reason."""
    sig = verify_edxml(sign_edxml(BASE, pki.expired, (pki.intermediate,)), trust)
    assert sig is not None and sig.status is SignatureStatus.INVALID
    assert sig.reason is not None and "expired" in sig.reason


@pytest.mark.parametrize("name", UNVERIFIABLE)
def test_corpus_unverifiable_signature_is_indeterminate(name: str, trust: TrustStore) -> None:
    """Corpus messages whose signature certificate is unreadable are indeterminate, never an exception."""
    sig = verify_edxml((CORPUS / name).read_bytes(), trust)
    assert sig is not None
    assert sig.status is SignatureStatus.INDETERMINATE
    assert sig.reason is not None and "certificate cannot be read" in sig.reason


def test_entities_are_refused(trust: TrustStore) -> None:
    """A message declaring a DTD (entity expansion, external entities) is refused, not expanded."""
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&x;</edXML>'
    )
    with pytest.raises(ValueError, match="DTD"):
        verify_edxml(hostile, trust)


def test_not_xml_raises_value_error(trust: TrustStore) -> None:
    """Bytes that are not XML raise ValueError."""
    with pytest.raises(ValueError, match="well-formed"):
        verify_edxml(b"<edXML", trust)
