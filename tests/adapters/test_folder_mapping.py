"""The folder mappers on the labelled corpus (metadata files alone, no disk scan)."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from adapters.folder import PROFILE
from adapters.folder.mapping import (
    EDXML_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    edxml_file_names,
    edxml_message,
    read_file,
    to_document,
)
from bridge.errors import PermanentError
from bridge.normalize import fold_key
from schemas import Confidentiality, Document, DocumentState, Priority
from simulators.demo_data import generate
from simulators.folder import render_metadata
from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT
TRUTH = [
    row
    for row in map(json.loads, (CORPUS / "truth.jsonl").read_text("utf-8").splitlines())
    if row["profile"] == "folder"
]


def _fold(value: str | None) -> str | None:
    if value is None:
        return None
    return fold_key(value).replace("về việc", "v/v")


def _check(doc: Document, row: dict[str, Any]) -> None:
    assert doc.number == row["number"]
    assert _fold(doc.notation) == _fold(row["notation"])
    assert doc.issued_on is not None and doc.issued_on.isoformat() == row["promulgation_date"]
    assert doc.issuer.code == row["issuer_code"]
    assert _fold(doc.issuer.name) == _fold(row["issuer_name"])
    assert _fold(doc.type_name) == _fold(row["type_name"])
    assert _fold(doc.subject) == _fold(row["subject"])
    assert doc.signer is not None
    assert _fold(doc.signer.name) == _fold(row["signer_name"])
    assert _fold(doc.signer.position) == _fold(row["signer_position"])
    assert doc.priority == row["priority"]
    assert doc.confidentiality == row["confidentiality"]
    due = doc.due_on.isoformat() if doc.due_on else None
    assert due == row["due_date"]
    assert [r.code for r in doc.recipients] == row["recipients"]


@pytest.mark.parametrize("row", TRUTH, ids=[row["file"] for row in TRUTH])
def test_corpus_record_matches_truth(row: dict[str, Any]) -> None:
    """Each corpus metadata file maps to its labelled values, or is refused when bad."""
    path = CORPUS / row["file"]
    record = read_file(path.read_bytes(), path.name)
    assert record.external_id == row["external_id"]
    if row["kind"] == "bad":
        with pytest.raises(PermanentError):
            to_document(record)
        return
    doc = to_document(record)
    _check(doc, row)
    if record.media_type == JSON_MEDIA_TYPE:
        assert [(fold_key(a.name), a.sha256) for a in doc.attachments] == [
            (fold_key(a["name"]), a["sha256"]) for a in row["attachments"]
        ]
        assert all(a.blob is None for a in doc.attachments)
    else:
        names = edxml_file_names(edxml_message(record.payload))
        assert [fold_key(n) for n in names] == [fold_key(a["name"]) for a in row["attachments"]]


def test_bad_records_say_why_in_vietnamese_then_english() -> None:
    """A missing field and a cut-short file are refused with a two-language reason."""
    missing = CORPUS / "folder/VB20240209_0006.json"
    with pytest.raises(PermanentError, match="thiếu trường bắt buộc 'promulgationDate' / missing"):
        to_document(read_file(missing.read_bytes(), missing.name))
    cut = CORPUS / "folder/VB20230627_0003.json"
    with pytest.raises(PermanentError, match=r"không phải JSON hợp lệ / .*not valid JSON"):
        to_document(read_file(cut.read_bytes(), cut.name))


def test_read_file_picks_the_media_type_by_extension() -> None:
    """`.json` and `.xml` are metadata; any other extension is refused with a reason."""
    assert read_file(b"{}", "a/B.JSON").media_type == JSON_MEDIA_TYPE
    assert read_file(b"<x/>", "B.xml").media_type == EDXML_MEDIA_TYPE
    with pytest.raises(PermanentError, match="json"):
        read_file(b"{}", "B.pdf")
    assert PROFILE.read_file is read_file and PROFILE.to_document is to_document


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"priority": "cao"}, "priority"),
        ({"priority": 4}, "priority"),
        ({"confidentiality": 9}, "confidentiality"),
        ({"codeNumber": ["1"]}, "codeNumber"),
        ({"subject": "  "}, "subject"),
        ({"issuer": {"organId": None, "organName": None}}, "issuer"),
        ({"promulgationDate": "31/02/2026"}, "promulgationDate"),
        ({"attachments": [{"name": "a.pdf", "size": 1, "sha256": "xyz"}]}, "sha256"),
        ({"attachments": "a.pdf"}, "attachments"),
    ],
)
def test_wrong_values_are_permanent_errors(change: dict[str, Any], reason: str) -> None:
    """Wrong types and impossible values are refused, naming the field."""
    data = json.loads((CORPUS / "folder/VB20231120_0005.json").read_bytes())
    data.update(change)
    with pytest.raises(PermanentError, match=reason):
        to_document(read_file(orjson.dumps(data), "x.json"))


def test_rendered_seed_documents_round_trip() -> None:
    """A demo document rendered as the dropper writes it maps back to the same fields."""
    for seed in generate(7, 40, units=["000.00.33.H49"]):
        rendered = orjson.dumps(render_metadata(seed.document))
        doc = to_document(read_file(rendered, "VB.json"))
        original = seed.document
        assert (doc.number, doc.notation, doc.issued_on) == (
            original.number,
            original.notation,
            original.issued_on,
        )
        assert doc.issuer == original.issuer
        assert doc.subject == original.subject and doc.type_name == original.type_name
        assert doc.priority == original.priority and doc.due_on == original.due_on
        assert doc.attachments == original.attachments


def test_symbol_in_the_number_field_is_split() -> None:
    """A whole symbol in codeNumber with no codeNotation is parsed into number and notation."""
    data = json.loads((CORPUS / "folder/VB20231120_0005.json").read_bytes())
    data.update({"codeNumber": "Số: 0113 / GM – UBND", "codeNotation": None})
    doc = to_document(read_file(orjson.dumps(data), "x.json"))
    assert (doc.number, doc.notation) == ("113", "GM-UBND")


def test_secret_and_revoked_documents_are_mapped() -> None:
    """Confidentiality is kept for the pipeline to quarantine; state revoked is a revocation."""
    data = json.loads((CORPUS / "folder/VB20231120_0005.json").read_bytes())
    data.update({"confidentiality": 2, "priority": 3, "state": "revoked", "version": 3})
    doc = to_document(read_file(orjson.dumps(data), "x.json"))
    assert doc.confidentiality is Confidentiality.TOI_MAT
    assert doc.priority is Priority.HOA_TOC
    assert doc.state is DocumentState.REVOKED and doc.revision == 3
    assert doc.target is not None and doc.target.number == "113"
