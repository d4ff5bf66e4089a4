"""The tdoffice mappers on the labelled corpus and on rendered documents (no network)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.tdoffice.mapping import read_file, to_document
from adapters.tdoffice.payload import (
    TIMED_URGENT_NOTE,
    from_document,
    revoke_payload,
    to_payload,
    to_update_payload,
)
from bridge.errors import PermanentError
from bridge.normalize import fold_key
from schemas import (
    Action,
    Attachment,
    Confidentiality,
    Document,
    DocumentState,
    Organ,
    Priority,
    RawRecord,
    Signer,
)
from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT
LINES = (CORPUS / "tdoffice.jsonl").read_bytes().splitlines()
TRUTH = [
    row
    for row in map(json.loads, (CORPUS / "truth.jsonl").read_text("utf-8").splitlines())
    if row["profile"] == "tdoffice"
]


def _fold(value: str | None) -> str | None:
    if value is None:
        return None
    text = fold_key(value)
    for long_form in ("về việc", "v/v"):
        text = text.replace(long_form, "v/v")
    return text


def _record(line: bytes) -> RawRecord:
    return read_file(line, "corpus.json")


def _check(doc: Document, row: dict[str, Any]) -> None:
    assert doc.number == row["number"]
    assert doc.notation == row["notation"]
    assert doc.issued_on == dt.date.fromisoformat(row["promulgation_date"])
    assert _fold(doc.issuer.name) == _fold(row["issuer_name"])
    if "issuer_code" in row["present"]:
        assert doc.issuer.code == row["issuer_code"]
    assert _fold(doc.type_name) == _fold(row["type_name"])
    assert _fold(doc.subject) == _fold(row["subject"])
    assert doc.signer is not None
    assert _fold(doc.signer.name) == _fold(row["signer_name"])
    assert _fold(doc.signer.position) == _fold(row["signer_position"])
    assert doc.priority == row["priority"]
    assert doc.confidentiality == row["confidentiality"]
    due = row["due_date"]
    assert doc.due_on == (dt.date.fromisoformat(due) if due else None)
    assert [r.code for r in doc.recipients] == row["recipients"]
    assert [(a.name, a.sha256) for a in doc.attachments] == [
        (a["name"], a["sha256"]) for a in row["attachments"]
    ]


@pytest.mark.parametrize("row", TRUTH, ids=lambda r: f"line{r['index']}-{r['kind']}")
def test_corpus_record_maps_as_labelled(row: dict[str, Any]) -> None:
    """Every tdoffice corpus line maps to its truth row; bad ones raise PermanentError."""
    record = _record(LINES[row["index"] - 1])
    if row["kind"] == "bad":
        with pytest.raises(PermanentError) as info:
            to_document(record)
        assert " / " in info.value.reason
        return
    doc = to_document(record)
    _check(doc, row)
    if row["kind"] == "revoke":
        assert doc.action is Action.REVOKE
        assert doc.state is DocumentState.REVOKED
        assert doc.target is not None
        assert (doc.target.number, doc.target.notation) == (doc.number, doc.notation)
        assert doc.target.issued_on == doc.issued_on
        assert doc.target.issuer == doc.issuer
    else:
        assert doc.action is Action.NEW
        assert doc.revision == row["version"]
    if row["kind"] == "secret":
        assert doc.confidentiality.is_secret
    assert doc.provenance == ()


def test_every_corpus_line_has_a_truth_row() -> None:
    """The truth file labels every line of tdoffice.jsonl (the parametrized test sees all)."""
    assert sorted(row["index"] for row in TRUTH) == list(range(1, len(LINES) + 1))


def test_secret_document_keeps_its_confidentiality() -> None:
    """A Tối mật record is still mapped, with its level, for the pipeline to quarantine."""
    obj = orjson.loads(LINES[1])
    obj["confidentiality"] = 2
    doc = to_document(_record(orjson.dumps(obj)))
    assert doc.confidentiality is Confidentiality.TOI_MAT


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"codeNumber": None}, "codeNumber"),
        ({"subject": "  "}, "subject"),
        ({"promulgationDate": "32/13/2024"}, "promulgationDate"),
        ({"issuer": None}, "issuer"),
        ({"priority": 4}, "priority"),
        ({"confidentiality": "Mật"}, "confidentiality"),
        ({"recipients": "000.00.33.H49"}, "recipients"),
        ({"signer": "Nguyễn Văn A"}, "signer"),
    ],
)
def test_unreadable_fields_raise_permanent_error(change: dict[str, Any], reason: str) -> None:
    """Missing, wrong-typed or out-of-range fields name the field, Vietnamese first."""
    obj = {**orjson.loads(LINES[1]), **change}
    with pytest.raises(PermanentError) as info:
        to_document(_record(orjson.dumps(obj)))
    assert reason in info.value.reason


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b'"text"'])
def test_read_file_refuses_what_is_not_one_object(data: bytes) -> None:
    """`lienthong normalize` gets a one-line PermanentError for input that is not an object."""
    with pytest.raises(PermanentError) as info:
        read_file(data, "x.json")
    assert "\n" not in info.value.reason


def test_error_record_raises_its_reason() -> None:
    """A record the adapter could not read is never mapped: its reason comes back."""
    record = _record(LINES[0]).model_copy(update={"error": "hỏng / broken"})
    with pytest.raises(PermanentError, match="hỏng / broken"):
        to_document(record)


def test_whole_symbol_in_code_number_is_split() -> None:
    """A sender that puts "Số: 012/UBND-VP" in codeNumber still gives number and notation."""
    obj = {**orjson.loads(LINES[5]), "codeNumber": "Số: 012/UBND-VP", "codeNotation": None}
    doc = to_document(_record(orjson.dumps(obj)))
    assert (doc.number, doc.notation) == ("12", "UBND-VP")


def _sample(priority: Priority = Priority.KHAN) -> Document:
    data = b"%PDF-1.4 sample"
    return Document(
        issuer=Organ(code="000.00.33.H49", name="Ủy ban nhân dân huyện Vân Đồn"),
        number="335",
        notation="UBND-HC",
        issued_on=dt.date(2024, 3, 5),
        type_name="Công văn",
        subject="V/v triển khai công tác chuyển đổi số",
        signer=Signer(name="Đỗ Hoàng Lũy", position="Chủ tịch"),
        priority=priority,
        confidentiality=Confidentiality.THUONG,
        due_on=dt.date(2024, 3, 20),
        recipients=(Organ(code="000.15.33.H49", name="Ủy ban nhân dân xã Bình Dân"),),
        attachments=(
            Attachment(
                name="335-UBND-HC.pdf",
                content_type="application/pdf",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            ),
        ),
        revision=2,
    )


def test_rendered_document_maps_back_to_itself() -> None:
    """from_document then to_document gives back the fields of the common schema."""
    doc = _sample()
    wire = from_document(
        doc, ["f1"], document_id="d1", version=2, updated_at="2024-03-05T08:00:00+07:00"
    )
    back = to_document(_record(orjson.dumps(wire)))
    assert back.model_dump(exclude={"attachments"}) == doc.model_dump(exclude={"attachments"})
    assert back.attachments[0].sha256 == doc.attachments[0].sha256


def test_create_payload_has_no_document_id_and_carries_file_ids() -> None:
    """The incoming body has no documentId, uploaded fileIds, and the revision as version."""
    body = to_payload(_sample(), ["file-1"])
    assert "documentId" not in body
    assert body["attachments"][0]["fileId"] == "file-1"
    assert body["version"] == 2
    assert body["documentType"] == {"code": "CV", "name": "Công văn"}
    assert "note" not in body


def test_priority_four_goes_as_three_with_a_note() -> None:
    """Hỏa tốc hẹn giờ (4) cannot be held by tdoffice: it is sent as 3 and a note says so."""
    body = to_payload(_sample(Priority.HOA_TOC_HEN_GIO), ["file-1"])
    assert body["priority"] == 3
    assert body["note"] == TIMED_URGENT_NOTE
    assert "Hỏa tốc hẹn giờ" in body["note"]


def test_update_and_revoke_bodies() -> None:
    """A PATCH body leaves the identity out and carries version; a revoke carries the reason."""
    doc = _sample()
    update = to_update_payload(doc, ["file-1"])
    assert update["version"] == 2
    assert not {"codeNumber", "codeNotation", "promulgationDate", "issuer"} & update.keys()
    reason = doc.model_copy(update={"reason": "Sai thể thức"})
    assert revoke_payload(reason) == {"reason": "Sai thể thức"}


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "codeNumber",
                "codeNotation",
                "promulgationDate",
                "issuer",
                "subject",
                "signer",
                "priority",
                "confidentiality",
                "dueDate",
                "recipients",
                "attachments",
                "version",
                "state",
                "documentType",
            ]
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=10), inner, max_size=3)
            ),
            max_leaves=8,
        ),
    )
)
def test_mapper_raises_only_permanent_error_on_arbitrary_objects(obj: dict[str, Any]) -> None:
    """Whatever JSON object arrives, the mapper gives a Document or a PermanentError."""
    with contextlib.suppress(PermanentError):
        to_document(_record(orjson.dumps(obj)))
