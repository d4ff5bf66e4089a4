"""PDF signatures: integrity of the signed bytes, then the signer's chain at signing time.

Cheap first: a file that is not a PDF is not applicable, a PDF without `/ByteRange` is
unsigned (found by reading the file in bounded chunks, so a large scan costs no memory), and
only then is the PDF parsed. pyhanko is imported on that first signed PDF, not before: most
attachments are unsigned, and the import alone weighs some 20 MB of resident memory.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from bridge.signatures.trust import TrustStore
from schemas.document import Signature, SignatureStatus

if TYPE_CHECKING:  # the chain check (pyhanko's validator, ~20 MB) loads with the first signature
    from bridge.signatures.chain import Verdict

log = structlog.get_logger(__name__)

PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW_BYTES = 1024  # the header may follow a little junk; readers accept that
BYTE_RANGE = b"/ByteRange"
SCAN_CHUNK_BYTES = 1024 * 1024
QUICK_BYTES = 256 * 1024  # files up to this size are settled by verify_small when unsigned
_SEVERITY = {
    SignatureStatus.VALID: 0,
    SignatureStatus.INDETERMINATE: 1,
    SignatureStatus.UNTRUSTED: 2,
    SignatureStatus.INVALID: 3,
}
UNREADABLE = "không đọc được chữ ký trong tệp PDF / the PDF's signature cannot be read"


def verify_small(data: bytes) -> tuple[bool, Signature | None]:
    """`verify_pdf` without crypto, from the first QUICK_BYTES + 1 bytes of a file, for a file
    of at most QUICK_BYTES naming no signature (/ByteRange): (True, its status: UNSIGNED, or
    None when it is not a PDF). (False, None) when the file is bigger or signed: then
    `verify_pdf` must look."""
    if len(data) > QUICK_BYTES or BYTE_RANGE in data:
        return False, None
    if PDF_MAGIC not in data[:MAGIC_WINDOW_BYTES]:
        return True, None
    return True, Signature(status=SignatureStatus.UNSIGNED)


def verify_pdf(
    path: Path, trust: TrustStore, *, now: dt.datetime | None = None
) -> Signature | None:
    """The signature status of the PDF at `path`; None when the file is not a PDF.

    Blocking (file I/O, crypto, possibly OCSP/CRL requests): run it in a worker thread. When a
    file carries several signatures the worst one is reported. The signer's certificate is
    judged at the signing time the signature states (never later than `now`), so a document
    signed while its certificate was valid stays valid after the certificate expires.
    """
    now = now or dt.datetime.now(dt.UTC)
    with path.open("rb") as file:
        if PDF_MAGIC not in file.read(MAGIC_WINDOW_BYTES):
            return None
        if not _has_byte_range(file):
            return Signature(status=SignatureStatus.UNSIGNED)
        results = _verify_all(file, path, trust, now)
        if isinstance(results, Signature):
            return results
    worst = max(results, key=lambda s: _SEVERITY.get(s.status, 0))
    if len(results) > 1:
        worst = worst.model_copy(
            update={"reason": f"{worst.reason} ({len(results)} chữ ký / signatures)"}
        )
    return worst


def _verify_all(
    file: io.BufferedReader, path: Path, trust: TrustStore, now: dt.datetime
) -> list[Signature] | Signature:
    """Each embedded signature's status, or one Signature for the whole file (unsigned,
    unreadable)."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.errors import SignatureValidationError

    try:
        signatures = PdfFileReader(file, strict=False).embedded_signatures
        if not signatures:
            return Signature(status=SignatureStatus.UNSIGNED)
        return [_verify_one(sig, trust, now) for sig in signatures]
    except (PdfError, SignatureValidationError, ValueError, KeyError) as exc:
        log.warning("pdf_signature_unreadable", file=path.name, error=type(exc).__name__)
        return Signature(status=SignatureStatus.INDETERMINATE, reason=UNREADABLE)


def _has_byte_range(file: io.BufferedReader) -> bool:
    """Every PDF signature dictionary names the bytes it covers with /ByteRange.

    Reads at most one chunk at a time: the last chunk first (an incremental update that adds
    a signature is appended at the end), then the rest from the start, each chunk carrying
    over the previous one's last bytes so a name split across two chunks is still found.
    """
    size = file.seek(0, os.SEEK_END)
    tail_start = max(0, size - SCAN_CHUNK_BYTES)
    file.seek(tail_start)
    if BYTE_RANGE in file.read(SCAN_CHUNK_BYTES):
        return True
    if tail_start == 0:
        return False
    overlap = len(BYTE_RANGE) - 1
    end = tail_start + overlap  # past this, a match would lie wholly inside the tail
    buffer = bytearray(SCAN_CHUNK_BYTES + overlap)
    file.seek(0)
    position = kept = 0
    with memoryview(buffer) as view:
        while position < end:
            read = file.readinto(view[kept : kept + min(SCAN_CHUNK_BYTES, end - position)])
            if not read:
                return False
            position += read
            filled = kept + read
            if buffer.find(BYTE_RANGE, 0, filled) != -1:
                return True
            kept = min(overlap, filled)
            buffer[:kept] = buffer[filled - kept : filled]
    return False


def _verify_one(sig: Any, trust: TrustStore, now: dt.datetime) -> Signature:
    from bridge.signatures.chain import check_chain, signer_label

    cert = sig.signer_cert
    signed_at = sig.self_reported_timestamp
    verdict = _integrity(sig)
    if verdict is None:
        moment = min(signed_at, now) if signed_at is not None else now
        verdict = check_chain(cert, sig.other_embedded_certs, trust, moment)
    return Signature(
        status=verdict.status,
        signer=signer_label(cert),
        signed_at=signed_at,
        reason=verdict.reason,
    )


def _integrity(sig: Any) -> Verdict | None:
    """INVALID when the signed bytes changed or later revisions alter the content; else None."""
    from pyhanko.sign.validation.generic_cms import validate_sig_integrity

    from bridge.signatures.chain import Verdict

    sig.compute_integrity_info()
    content_type = sig.signed_data["encap_content_info"]["content_type"].native
    intact, valid = validate_sig_integrity(
        sig.signer_info, sig.signer_cert, content_type, sig.compute_digest()
    )
    if not (intact and valid):
        return Verdict(
            SignatureStatus.INVALID,
            "nội dung tệp đã bị thay đổi sau khi ký / the file was changed after signing",
        )
    if sig.summarise_integrity_info().get("docmdp_ok") is False:
        return Verdict(
            SignatureStatus.INVALID,
            "tệp bị sửa nội dung sau khi ký (bản cập nhật thêm vào) / "
            "content modified by an update appended after signing",
        )
    return None
