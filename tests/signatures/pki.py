"""Test PKI built at test time: a root, an intermediate, signer certificates, signed PDFs and edXML."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]  # no types shipped
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from lxml import etree  # type: ignore[import-untyped]  # no types shipped
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from signxml import methods
from signxml.algorithms import SignatureMethod
from signxml.signer import XMLSigner

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)
UNREACHABLE_URL = "http://127.0.0.1:9/"  # discard port: refused at once, no network needed


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def asn1(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        ]
    )


def issue(
    cn: str,
    org: str,
    issuer: Issued | None,
    *,
    is_ca: bool,
    not_before: dt.datetime,
    not_after: dt.datetime,
    revocation_url: str | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> Issued:
    """A certificate for `cn, org` signed by `issuer` (self-signed when None)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = _name(cn, org)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not is_ca,
                content_commitment=not is_ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=is_ca,
                crl_sign=is_ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if revocation_url:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(revocation_url + "ocsp"),
                    )
                ]
            ),
            critical=False,
        ).add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(revocation_url + "ca.crl")],
                        None,
                        None,
                        None,
                    )
                ]
            ),
            critical=False,
        )
    signing_key = issuer.key if issuer else key
    return Issued(builder.sign(signing_key, hashes.SHA256()), key)


def minimal_pdf(text: str = "Cong van so 335/UBND-HC", *, pad_bytes: int = 0) -> bytes:
    """A one-page PDF with a correct xref table; `pad_bytes` of comment make it larger."""
    content = b"BT /F1 12 Tf 56 780 Td (" + text.encode("ascii") + b") Tj ET\n"
    content += b"%" + b"x" * pad_bytes + b"\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def sign_pdf(pdf: bytes, signer: Issued, chain: list[Issued], *, field: str = "ChuKySo") -> bytes:
    """Sign `pdf` with pyhanko (PAdES-style detached CMS) as `signer`, embedding `chain`."""
    key = asn1_keys.PrivateKeyInfo.load(
        signer.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pdf_signer = signers.SimpleSigner(
        signing_cert=signer.asn1,
        signing_key=key,
        # pyhanko_certvalidator leaves from_certs unannotated
        cert_registry=SimpleCertificateStore.from_certs([c.asn1 for c in chain]),  # type: ignore[no-untyped-call]
    )
    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name=field),
        signer=pdf_signer,
        output=out,
    )
    return out.getvalue()


def sign_edxml(edxml: bytes, signer: Issued, chain: tuple[Issued, ...] = ()) -> bytes:
    """Place an enveloped XML signature at edXMLEnvelope/edXMLHeader/Signature."""
    root = etree.fromstring(edxml)
    header = root.xpath("./*[local-name()='edXMLEnvelope']/*[local-name()='edXMLHeader']")[0]
    placeholder = etree.SubElement(header, "{http://www.w3.org/2000/09/xmldsig#}Signature")
    placeholder.set("Id", "placeholder")
    signed = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
    ).sign(
        root,
        key=signer.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        # signxml reads PEM bytes as well as str (_get_cert_chain); its annotation names str only
        cert=[signer.pem, *(c.pem for c in chain)],  # type: ignore[arg-type]
    )
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def write_trust_store(folder: Path, *certs: Issued) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, issued in enumerate(certs):
        (folder / f"ca{index}.pem").write_bytes(issued.pem)
    return folder
