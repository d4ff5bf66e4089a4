"""Digital signatures on documents: PDF attachments and edXML messages, checked against a trust store.

All entry points are blocking (crypto, file reads, OCSP/CRL requests with bounded timeouts):
the pipeline runs them on a worker thread, except where `verify_inline` can settle a document
at once (only small unsigned PDFs).
"""

from bridge.signatures.document import verify_document, verify_inline
from bridge.signatures.edxml import verify_edxml
from bridge.signatures.pdf import verify_pdf
from bridge.signatures.trust import TrustStore

__all__ = ["TrustStore", "verify_document", "verify_edxml", "verify_inline", "verify_pdf"]
