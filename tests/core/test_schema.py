"""The exported JSON Schema stays in step with the pydantic model."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from schemas import Attachment, Document, Organ
from schemas.export import SCHEMA_PATH, document_schema


def test_schema_file_matches_model() -> None:
    """schemas/document.schema.json is exactly what the model exports (run `make schema`)."""
    assert SCHEMA_PATH.read_text(encoding="utf-8") == document_schema()


def test_schema_is_valid_json_with_required_issuer() -> None:
    """The exported schema names issuer as required and forbids unknown keys."""
    schema = json.loads(document_schema())
    assert "issuer" in schema["required"]
    assert schema["additionalProperties"] is False


def test_document_is_frozen_and_strict() -> None:
    """Documents cannot be mutated and refuse unknown fields."""
    doc = Document(issuer=Organ(code="000.00.31.H59"), number="335", notation="UBND-HC")
    assert doc.symbol == "335/UBND-HC"
    with pytest.raises(ValidationError):
        doc.subject = "x"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Document.model_validate({"issuer": {}, "bogus": 1})
    with pytest.raises(ValidationError):
        Attachment(name="a.pdf", size=1, sha256="not-a-hash")
