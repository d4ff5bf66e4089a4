"""edXML → common schema: every corpus record against truth.jsonl, and the Bussiness semantics."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from adapters.vxp import PROFILE, document_from_edxml, read_file, to_document, to_status
from adapters.vxp.edxml import emit_document, emit_status, parse_message
from adapters.vxp.mapping import STATUS_MEDIA_TYPE, parse_document_id
from adapters.vxp.message import (
    Business,
    Code,
    DocumentTypeInfo,
    EdxmlMessage,
    OrganInfo,
    OtherInfo,
    PromulgationInfo,
    ReplacementInfo,
    ResponseFor,
    StatusMessage,
)
from bridge.errors import PermanentError
from bridge.normalize import fold_key
from schemas import Action, Confidentiality, DocumentState, Priority, RawRecord
from tests.corpus_path import CORPUS as CORPUS_ROOT

SHARED = CORPUS_ROOT
TRUTH = [
    row
    for row in (json.loads(line) for line in (SHARED / "truth.jsonl").read_text().splitlines())
    if row["profile"] == "vxp"
]


def _fold(value: str | None) -> str | None:
    if value is None:
        return None
    return fold_key(value).replace("về việc", "v/v")


def assert_matches_truth(doc: Any, row: dict[str, Any]) -> None:
    """Compare a mapped Document with a truth row after fold_key (shared with the source tests)."""
    assert doc.number == row["number"]
    assert _fold(doc.notation) == _fold(row["notation"])
    assert doc.issued_on.isoformat() == row["promulgation_date"]
    assert doc.issuer.code == row["issuer_code"]
    assert _fold(doc.issuer.name) == _fold(row["issuer_name"])
    assert _fold(doc.type_name) == _fold(row["type_name"])
    assert _fold(doc.subject) == _fold(row["subject"])
    assert _fold(doc.signer.name) == _fold(row["signer_name"])
    assert _fold(doc.signer.position) == _fold(row["signer_position"])
    assert int(doc.priority) == row["priority"]
    assert int(doc.confidentiality) == row["confidentiality"]
    assert (doc.due_on.isoformat() if doc.due_on else None) == row["due_date"]
    assert [r.code for r in doc.recipients] == row["recipients"]
    assert doc.revision == row["revision"]
    assert [(_fold(a.name), a.sha256, a.size) for a in doc.attachments] == [
        (_fold(a["name"]), a["sha256"], a["size"]) for a in row["attachments"]
    ]


def _record(data: bytes, **extra: Any) -> RawRecord:
    fields: dict[str, Any] = {
        "source": "test-vxp",
        "unit": "000.00.33.H49",
        "external_id": "0" * 24,
        "version": "1",
        "media_type": "application/vnd.edxml+xml",
        "payload": data,
        "received_at": dt.datetime.now(dt.UTC),
    }
    return RawRecord(**(fields | extra))


@pytest.mark.parametrize("row", TRUTH, ids=lambda r: r["file"])
def test_corpus_record_maps_to_its_truth(row: dict[str, Any]) -> None:
    """Each corpus message maps to the truth row's values; `bad` ones raise PermanentError."""
    data = (SHARED / row["file"]).read_bytes()
    if row["kind"] == "bad":
        with pytest.raises(PermanentError):
            to_document(_record(data))
        return
    doc = to_document(_record(data))
    assert_matches_truth(doc, row)
    assert doc.provenance == ()
    assert all(a.blob is None for a in doc.attachments)
    if row["kind"] == "update":
        assert doc.action is Action.UPDATE
        assert doc.target is not None and doc.target.issuer.code == row["issuer_code"]
        assert (doc.target.number, doc.target.notation) == (row["number"], row["notation"])
    else:
        assert doc.action is Action.NEW and doc.target is None


def _message(name: str) -> EdxmlMessage:
    message = parse_message((SHARED / "vxp" / name).read_bytes())
    assert isinstance(message, EdxmlMessage)
    return message


def test_update_names_its_target_reason_and_revision() -> None:
    """BussinessDocType 2 → UPDATE, revision 2, target parsed from Bussiness/DocumentId (008)."""
    doc = document_from_edxml((SHARED / "vxp" / "008.edxml").read_bytes())
    assert doc.action is Action.UPDATE and doc.revision == 2
    assert doc.reason == "Cập nhật trích yếu văn bản"
    assert doc.target is not None
    assert doc.target.issued_on == dt.date(2023, 11, 1)
    assert doc.notation == "GM-UBND"  # the unicode dash of CodeNotation is normalized


def test_revocation_maps_to_revoke_with_reason() -> None:
    """BussinessDocType 1 → REVOKE, state revoked, the reason kept."""
    base = _message("016.edxml")
    revoke = dataclasses.replace(
        base,
        business=Business(
            doc_type="1",
            reason="Thu hồi do sai sót",
            document_id="000.00.31.H49,2024/05/15,0122/QÐ–UBND",
        ),
    )
    doc = document_from_edxml(emit_document(revoke))
    assert doc.action is Action.REVOKE and doc.state is DocumentState.REVOKED
    assert doc.reason == "Thu hồi do sai sót"
    assert doc.target is not None
    assert (doc.target.number, doc.target.notation) == ("122", "QĐ-UBND")


def test_replacement_targets_replacement_info_when_document_id_is_empty() -> None:
    """BussinessDocType 3 with only ReplacementInfoList → REPLACE of that document."""
    base = _message("016.edxml")
    replace = dataclasses.replace(
        base,
        business=Business(
            doc_type="3",
            replacements=(ReplacementInfo(document_id="000.00.31.H49,2024/05/01,100/QĐ-UBND"),),
        ),
    )
    doc = document_from_edxml(emit_document(replace))
    assert doc.action is Action.REPLACE and doc.revision == 2
    assert doc.target is not None and doc.target.number == "100"


def test_type_name_wins_over_type_codes() -> None:
    """Type 18 with TypeName 'Công văn' is a Công văn; no TypeName falls back to the notation."""
    base = _message("016.edxml")
    noisy = dataclasses.replace(
        base, document_type=DocumentTypeInfo(type="18", type_name="Công văn")
    )
    assert document_from_edxml(emit_document(noisy)).type_name == "Công văn"
    bare = dataclasses.replace(base, document_type=DocumentTypeInfo(type="1"))
    assert document_from_edxml(emit_document(bare)).type_name == "Quyết định"


@pytest.mark.parametrize(
    "raw, expected", [("4", Priority.HOA_TOC_HEN_GIO), (None, Priority.THUONG)]
)
def test_priority_zero_to_four(raw: str | None, expected: Priority) -> None:
    """Priority 4 (Hỏa tốc hẹn giờ) exists in edXML; an absent one is Thường."""
    base = _message("016.edxml")
    message = dataclasses.replace(base, other_info=OtherInfo(priority=raw))
    doc = document_from_edxml(emit_document(message))
    assert doc.priority is expected
    assert doc.confidentiality is Confidentiality.THUONG


@pytest.mark.parametrize(
    "change",
    [
        {"other_info": OtherInfo(priority="7")},
        {"business": Business(doc_type="9")},
        {"promulgation": None},
        {"code": None, "document_id": None},
    ],
    ids=["priority", "business-type", "no-date", "no-number"],
)
def test_unreadable_fields_raise_permanent_error(change: dict[str, Any]) -> None:
    """Invalid priority or business type, missing date or number → PermanentError."""
    message = dataclasses.replace(_message("016.edxml"), **change)
    with pytest.raises(PermanentError, match=" / "):
        document_from_edxml(emit_document(message))


def test_document_id_splits_at_the_first_two_commas() -> None:
    """`OrganId,yyyy/MM/dd,Number/Notation` with padding, dashes and Ð normalized."""
    ref = parse_document_id("000.00.00.G22, 2015/09/30 ,07816/VPCP–TTÐT")
    assert ref.issuer.code == "000.00.00.G22"
    assert ref.issued_on == dt.date(2015, 9, 30)
    assert (ref.number, ref.notation) == ("7816", "VPCP-TTĐT")
    with pytest.raises(PermanentError):
        parse_document_id("000.00.00.G22;2015/09/30")


def _status_bytes() -> bytes:
    return emit_status(
        StatusMessage(
            sender=OrganInfo(organ_id="000.15.33.H49"),
            response_for=ResponseFor(
                organ_id="000.00.33.H49",
                code="502/UBND-NV",
                promulgation_date="2023/05/29",
                document_id="000.00.33.H49,2023/05/29,502/UBND-NV",
            ),
            status_code="09",
            description="Mã chưa dùng",
            timestamp="2023/05/29 10:00:00",
        )
    )


def test_status_record_maps_with_to_status_not_to_document() -> None:
    """A status message (even an unused code 09) maps via to_status; to_document refuses it."""
    record = _record(_status_bytes(), media_type=STATUS_MEDIA_TYPE)
    status = to_status(record)
    assert status.status_code == "09" and status.response_for.code == "502/UBND-NV"
    with pytest.raises(PermanentError):
        to_document(record)
    with pytest.raises(PermanentError):
        to_status(_record((SHARED / "vxp" / "016.edxml").read_bytes()))


def test_error_record_raises_its_reason() -> None:
    """A record the adapter could not read raises PermanentError with the adapter's reason."""
    with pytest.raises(PermanentError, match="hỏng"):
        to_document(_record(b"", error="hỏng / broken"))


def test_read_file_builds_a_record_for_normalize() -> None:
    """PROFILE.read_file reads one edXML file; the profile's mapper reads that record."""
    data = (SHARED / "vxp" / "017.edxml").read_bytes()
    record = read_file(data, "017.edxml")
    assert record.unit == "000.08.33.H49" and record.payload == data
    assert PROFILE.to_document(record).number == "376"
    assert read_file(_status_bytes(), "s.edxml").media_type == STATUS_MEDIA_TYPE
    with pytest.raises(PermanentError):
        read_file(b"<not-xml", "x.edxml")


def test_notation_with_eth_and_em_dash_stays_latin() -> None:
    """CodeNotation "QÐ—UBND" (eth look-alike, em dash) is QĐ-UBND, never "repaired" into
    Cyrillic ("QЗUBND"): the statuses sent back must name the sender's notation."""
    base = _message("016.edxml")
    message = dataclasses.replace(base, code=Code(number="0122", notation="QÐ—UBND"))
    doc = document_from_edxml(emit_document(message))
    assert doc.notation == "QĐ-UBND"


def test_update_with_impossible_target_date_names_element_and_date() -> None:
    """An update whose Bussiness/DocumentId carries 2023/02/30 is refused with a reason naming
    the element and the date."""
    base = _message("016.edxml")
    update = dataclasses.replace(
        base,
        business=Business(
            doc_type="2", reason="Cập nhật", document_id="000.00.31.H49,2023/02/30,122/QĐ-UBND"
        ),
    )
    with pytest.raises(PermanentError) as caught:
        document_from_edxml(emit_document(update))
    assert "Bussiness/DocumentId" in caught.value.reason
    assert "2023/02/30" in caught.value.reason


@pytest.mark.parametrize(
    ("code", "date", "contradicted"),
    [
        (Code(number="74fass22", notation="VPCP-TTĐT"), "2015/09/30", "CodeNumber"),
        (Code(number="7816", notation="VPCP-TTĐT"), "2015/10/30", "PromulgationDate"),
        (Code(number="7816", notation="UBND-VP"), "2015/09/30", "CodeNotation"),
    ],
    ids=["number", "date", "notation"],
)
def test_contradiction_with_document_id_is_held_for_review(
    code: Code, date: str, contradicted: str
) -> None:
    """A CodeNumber, CodeNotation or PromulgationDate that contradicts the message's own
    DocumentId is kept for review with the reason, not guessed."""
    base = _message("016.edxml")
    message = dataclasses.replace(
        base,
        code=code,
        document_id="000.00.00.G22,2015/09/30,7816/VPCP-TTĐT",
        promulgation=PromulgationInfo(place="Hà Nội", date=date),
    )
    doc = document_from_edxml(emit_document(message))
    assert doc.review_reason is not None
    assert contradicted in doc.review_reason and "DocumentId" in doc.review_reason


def test_agreeing_document_id_holds_nothing() -> None:
    """Padding, dashes and the Đ look-alike in DocumentId are no contradiction."""
    base = _message("016.edxml")
    message = dataclasses.replace(
        base,
        code=Code(number="07816", notation="VPCP–TTÐT"),
        document_id="000.00.00.G22, 2015/09/30 ,7816/VPCP-TTĐT",
        promulgation=PromulgationInfo(place="Hà Nội", date="2015/09/30"),
    )
    assert document_from_edxml(emit_document(message)).review_reason is None


@pytest.mark.parametrize("raw", ["000.14.31.h59", " 000.14.31.H59 ", "000.14.31.h59\t"])
def test_sender_code_is_normalized(raw: str) -> None:
    """A lowercase or padded OrganId is delivered as 000.14.31.H59."""
    base = _message("016.edxml")
    sender = dataclasses.replace(base.sender, organ_id=raw)
    doc = document_from_edxml(emit_document(dataclasses.replace(base, sender=sender)))
    assert doc.issuer.code == "000.14.31.H59"


@pytest.mark.parametrize("written", ["Văn phòng tỉnh ủy", "Văn phòng Tỉnh ủy", "VĂN PHÒNG TỈNH ỦY"])
def test_party_committee_office_keeps_its_proper_name(written: str) -> None:
    """Real messages write the Party committee's office three ways: all are Văn phòng Tỉnh ủy."""
    base = _message("016.edxml")
    sender = dataclasses.replace(base.sender, organ_name=written)
    doc = document_from_edxml(emit_document(dataclasses.replace(base, sender=sender)))
    assert doc.issuer.name == "Văn phòng Tỉnh ủy"
