"""Vietnamese normalization: text, legacy encodings, số/ký hiệu, dates, organ names, labels,
and document identity."""

from bridge.normalize.dates import VN_TZ, parse_date, parse_local_datetime
from bridge.normalize.directory import OrganDirectory, normalize_code, parent_code
from bridge.normalize.identity import (
    FallbackKey,
    Identity,
    clean_subject,
    fallback_key,
    fallback_matches,
    identity_of,
    identity_triple,
    same_document,
    same_issuer,
    subject_similarity,
)
from bridge.normalize.labels import confidentiality_from_label, priority_from_label
from bridge.normalize.legacy import Repair, clean_text, repair_field
from bridge.normalize.organs import canonical_organ_name, organ_name_key
from bridge.normalize.symbol import (
    Symbol,
    normalize_notation,
    normalize_number,
    parse_symbol,
    type_name_for,
    unify_marks,
)
from bridge.normalize.text import fold_key

__all__ = [
    "VN_TZ",
    "FallbackKey",
    "Identity",
    "OrganDirectory",
    "Repair",
    "Symbol",
    "canonical_organ_name",
    "clean_subject",
    "clean_text",
    "confidentiality_from_label",
    "fallback_key",
    "fallback_matches",
    "fold_key",
    "identity_of",
    "identity_triple",
    "normalize_code",
    "normalize_notation",
    "normalize_number",
    "organ_name_key",
    "parent_code",
    "parse_date",
    "parse_local_datetime",
    "parse_symbol",
    "priority_from_label",
    "repair_field",
    "same_document",
    "same_issuer",
    "subject_similarity",
    "type_name_for",
    "unify_marks",
]
