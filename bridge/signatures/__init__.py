"""Digital signatures on documents: PDF attachments and edXML messages, checked against a trust store.

All entry points are blocking (crypto, file reads, OCSP/CRL requests with bounded timeouts):
the pipeline runs them on a worker thread, except where `verify_inline` can settle a document
at once (only small unsigned PDFs).
"""

import warnings

from bridge.signatures.document import verify_document, verify_inline
from bridge.signatures.edxml import may_be_signed, verify_edxml
from bridge.signatures.pdf import verify_pdf
from bridge.signatures.trust import TrustStore

# pyHanko imports cryptography's DSA key types to recognise DSA signers; cryptography 51 deprecates
# DSA and warns at that import. lienthong never makes or trusts a DSA signature (a DSA-signed PDF is
# still reported by pyHanko's validation), so this one warning, from pyHanko only, is silenced
# rather than printed at every start. Every other warning still shows.
warnings.filterwarnings(
    "ignore", message="DSA is deprecated", category=UserWarning, module=r"pyhanko\."
)

__all__ = [
    "TrustStore",
    "may_be_signed",
    "verify_document",
    "verify_edxml",
    "verify_inline",
    "verify_pdf",
]
