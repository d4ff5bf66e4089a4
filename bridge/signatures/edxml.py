"""XML signatures of edXML messages (`edXMLEnvelope/edXMLHeader/Signature`).

The message is parsed without DTDs, entities or network; the signature must cover the
whole message, and its certificate is judged like a PDF signer's.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import structlog
from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped

from bridge.signatures.trust import TrustStore
from schemas.document import Signature, SignatureStatus

if TYPE_CHECKING:
    from signxml.verifier import SignatureConfiguration

# signxml, cryptography and pyhanko's validator (~20 MB together) are loaded by the first
# message that carries a signature: most carry none (`may_be_signed` says so without parsing).

log = structlog.get_logger(__name__)

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
_NS = {"ds": DSIG_NS}
_DSIG_MARK = DSIG_NS.encode()


def may_be_signed(data: bytes) -> bool:
    """Whether an edXML message may carry an XML signature: False when it never names the
    XML-DSig namespace (then `verify_edxml` would find none, and nothing needs parsing)."""
    return _DSIG_MARK in data


@functools.cache
def _config() -> SignatureConfiguration:
    """The national axis and its senders still sign with RSA-SHA1, so SHA-1 is accepted."""
    from signxml.algorithms import DigestAlgorithm, SignatureMethod
    from signxml.verifier import SignatureConfiguration

    return SignatureConfiguration(
        location=".//",
        expect_references=True,
        signature_methods=frozenset(SignatureMethod),
        digest_algorithms=frozenset(DigestAlgorithm),
    )


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def verify_edxml(
    data: bytes, trust: TrustStore, *, now: dt.datetime | None = None
) -> Signature | None:
    """The status of the message's XML signature; None when it carries none.

    Blocking: run it in a worker thread. XML DSig states no signing time, so the certificate
    is judged at `now` (the moment of receipt). Raises ValueError when `data` is not
    well-formed XML or declares a DTD (the adapter has already refused such a record).
    """
    now = now or dt.datetime.now(dt.UTC)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"edXML is not well-formed: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise ValueError("edXML declares a DTD")
    signature = _find_signature(root)
    if signature is None:
        return None
    certs = _certificates(signature)
    if not certs:
        return Signature(
            status=SignatureStatus.INDETERMINATE,
            reason="không đọc được chứng thư số trong chữ ký / "
            "the signature's certificate cannot be read",
        )
    from bridge.signatures.chain import check_chain, signer_label

    cert, others = certs[0], certs[1:]
    signer = signer_label(cert)
    problem = _check_signature(root, cert)
    if problem is not None:
        return Signature(status=problem[0], signer=signer, reason=problem[1])
    verdict = check_chain(cert, others, trust, now)
    return Signature(status=verdict.status, signer=signer, reason=verdict.reason)


def _find_signature(root: Any) -> Any:
    """The header's signature as QCVN 102 places it, else any enveloped signature."""
    placed = root.xpath(
        "./*[local-name()='edXMLEnvelope']/*[local-name()='edXMLHeader']/ds:Signature",
        namespaces=_NS,
    )
    if placed:
        return placed[0]
    anywhere = root.findall(f".//{{{DSIG_NS}}}Signature")
    return anywhere[0] if anywhere else None


def _certificates(signature: Any) -> list[Any]:
    """KeyInfo's X509Certificates as asn1crypto, signer first; [] when one is unreadable."""
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
    from cryptography import x509

    texts = signature.xpath("ds:KeyInfo/ds:X509Data/ds:X509Certificate/text()", namespaces=_NS)
    certs = []
    try:
        for text in texts:
            der = base64.b64decode("".join(str(text).split()), validate=True)
            x509.load_der_x509_certificate(der)
            cert = asn1_x509.Certificate.load(der)
            cert.native  # noqa: B018 -- forces the lazy parse
            certs.append(cert)
    except (ValueError, binascii.Error):
        return []
    return certs


def _check_signature(root: Any, cert: Any) -> tuple[SignatureStatus, str] | None:
    """Cryptographic check; returns (status, reason) on failure, None when it holds."""
    from cryptography import x509
    from signxml.exceptions import InvalidInput, InvalidSignature
    from signxml.verifier import XMLVerifier

    pem = x509.load_der_x509_certificate(cert.dump())
    try:
        results = XMLVerifier().verify(
            root,
            x509_cert=pem,
            expect_config=_replace_time(cert),
        )
    except InvalidSignature:
        return (
            SignatureStatus.INVALID,
            "thông điệp đã bị thay đổi sau khi ký / the message was changed after signing",
        )
    except InvalidInput as exc:
        return (
            SignatureStatus.INDETERMINATE,
            f"chữ ký XML không đúng cấu trúc / malformed XML signature: {exc}",
        )
    results = results if isinstance(results, list) else [results]
    if not any(etree.QName(r.signed_xml).localname == "edXML" for r in results):
        return (
            SignatureStatus.INVALID,
            "chữ ký không phủ toàn bộ thông điệp / the signature does not cover the whole message",
        )
    return None


def _replace_time(cert: Any) -> SignatureConfiguration:
    """signxml rechecks the validity period; pin it inside it, check_chain judges the time."""
    moment = cert.not_valid_before + (cert.not_valid_after - cert.not_valid_before) / 2
    return replace(_config(), verification_time=moment)
