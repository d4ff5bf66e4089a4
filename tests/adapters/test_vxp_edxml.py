"""edXML parsing and emitting: the corpus, round trips, and hostile input."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.vxp.edxml import EdxmlError, emit_document, emit_status, parse_message
from adapters.vxp.mapping import describe_attachments
from adapters.vxp.message import (
    Business,
    Code,
    DocumentTypeInfo,
    EdxmlMessage,
    InlineAttachment,
    ManifestReference,
    OrganInfo,
    OtherInfo,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusMessage,
    TraceHeader,
)
from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT / "vxp"
GOOD = sorted(p for p in CORPUS.glob("*.edxml") if p.name != "024.edxml")


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_corpus_message_parses_and_survives_a_round_trip(path: Path) -> None:
    """Every readable corpus message parses, and emit → parse gives the same message."""
    message = parse_message(path.read_bytes())
    assert isinstance(message, EdxmlMessage)
    assert message.sender.organ_id
    assert parse_message(emit_document(message)) == message


def test_prefixed_envelope_and_default_namespace_read_alike() -> None:
    """`edXML:`-prefixed envelopes (001) read the same fields as default-namespace ones."""
    prefixed = parse_message((CORPUS / "001.edxml").read_bytes())
    assert isinstance(prefixed, EdxmlMessage)
    assert prefixed.code == Code(number="502", notation="UBND-NV")
    assert prefixed.business is not None and prefixed.business.doc_type == "0"
    assert [a.name for a in prefixed.attachments] == ["CV 502 UBND-NV.pdf", "Phụ lục kèm theo.pdf"]


def test_content_id_links_with_cid_prefix_on_one_side_only() -> None:
    """A manifest `cid:x` reference and an attachment `x` are linked (001)."""
    message = parse_message((CORPUS / "001.edxml").read_bytes())
    assert isinstance(message, EdxmlMessage)
    assert message.manifest[0].content_id is not None
    assert message.manifest[0].content_id.startswith("cid:")
    assert not (message.attachments[0].content_id or "").startswith("cid:")
    names = [name for _, name, _ in describe_attachments(message)]
    assert names == ["CV 502 UBND-NV.pdf", "Phụ lục kèm theo.pdf"]


def test_xml_signature_is_kept_raw() -> None:
    """An XML-DSig element (017) is kept as text and written back by the emitter."""
    message = parse_message((CORPUS / "017.edxml").read_bytes())
    assert isinstance(message, EdxmlMessage)
    assert message.signature is not None
    assert "SignatureValue" in message.signature
    assert b"SignatureValue" in emit_document(message)


def test_update_carries_its_business_block() -> None:
    """BussinessDocType, reason, target DocumentId and update flags are read (008)."""
    message = parse_message((CORPUS / "008.edxml").read_bytes())
    assert isinstance(message, EdxmlMessage)
    assert message.business == Business(
        doc_type="2",
        reason="Cập nhật trích yếu văn bản",
        paper="0",
        document_id="000.00.33.H49,2023/11/01,104/GM-UBND",
        staff=StaffInfo(department="Văn thư", email="vanthu@vandon.quangninh.gov.vn"),
        document_info="1",
        document_receiver="0",
    )


HOSTILE = {
    "xxe": b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&x;</edXML>',
    "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b"<edXML>&c;</edXML>",
    "xxe-parameter": (CORPUS / "024.edxml").read_bytes(),
    "malformed": b"<edXML><edXMLEnvelope>",
    "not-edxml": b"<html><body>maintenance</body></html>",
    "no-header": b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope/></edXML>',
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_or_broken_xml_is_refused(name: str) -> None:
    """DOCTYPEs, entities, broken and foreign XML raise EdxmlError, never expand or fetch."""
    with pytest.raises(EdxmlError):
        parse_message(HOSTILE[name])


def test_attachment_text_node_over_ten_megabytes_parses_without_huge_tree() -> None:
    """A 12 MB base64 text node parses (the light-tree target has no text-node cap)."""
    message = parse_message((CORPUS / "016.edxml").read_bytes())
    assert isinstance(message, EdxmlMessage)
    big = base64.b64encode(b"\0" * 9_000_000).decode("ascii")
    grown = dataclasses.replace(
        message, attachments=(dataclasses.replace(message.attachments[0], encoded=big),)
    )
    again = parse_message(emit_document(grown))
    assert isinstance(again, EdxmlMessage)
    assert again.attachments[0].encoded == big


# ---- round-trip property ----------------------------------------------------------------

_xml_char = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"
) | st.sampled_from("\t\n\r")
_text = st.text(_xml_char, min_size=1, max_size=20)
_opt = st.none() | _text
_texts = st.lists(st.text(_xml_char, max_size=10), max_size=3).map(tuple)


def _flat(cls: type) -> st.SearchStrategy:
    names = [f.name for f in dataclasses.fields(cls)]
    return st.builds(cls, **{n: _opt for n in names})


_business = st.builds(
    Business,
    doc_type=_opt,
    reason=_opt,
    paper=_opt,
    document_id=_opt,
    staff=st.none() | _flat(StaffInfo),
    document_info=_opt,
    document_receiver=_opt,
    receivers=st.lists(_flat(Receiver), max_size=2).map(tuple),
    replacements=st.lists(
        st.builds(ReplacementInfo, document_id=_opt, organ_ids=_texts), max_size=2
    ).map(tuple),
)
_messages = st.builds(
    EdxmlMessage,
    sender=_flat(OrganInfo),
    recipients=st.lists(_flat(OrganInfo), max_size=3).map(tuple),
    document_id=_opt,
    code=st.none() | _flat(Code),
    promulgation=st.none() | _flat(PromulgationInfo),
    document_type=st.none() | _flat(DocumentTypeInfo),
    subject=_opt,
    content=_opt,
    signer=st.none() | _flat(SignerInfo),
    due_date=_opt,
    to_places=_texts,
    other_info=st.none()
    | st.builds(
        OtherInfo,
        priority=_opt,
        sphere_of_promulgation=_opt,
        typer_notation=_opt,
        promulgation_amount=_opt,
        page_amount=_opt,
        appendixes=_texts,
    ),
    response_for=st.lists(_flat(ResponseFor), max_size=2).map(tuple),
    steering_type=_opt,
    traces=st.lists(_flat(TraceHeader), max_size=3).map(tuple),
    business=st.none() | _business,
    manifest=st.lists(_flat(ManifestReference), max_size=2).map(tuple),
    attachments=st.lists(
        st.builds(
            InlineAttachment,
            content_id=_opt,
            name=_opt,
            content_type=_opt,
            description=_opt,
            encoded=st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode("ascii")),
        ),
        max_size=2,
    ).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(_messages)
def test_document_emit_then_parse_loses_nothing(message: EdxmlMessage) -> None:
    """Any document message survives emit → parse unchanged."""
    assert parse_message(emit_document(message)) == message


@settings(max_examples=100, deadline=None)
@given(
    st.builds(
        StatusMessage,
        sender=_flat(OrganInfo),
        response_for=_flat(ResponseFor),
        status_code=_opt,
        description=_opt,
        timestamp=_opt,
        staff=st.none() | _flat(StaffInfo),
        traces=st.lists(_flat(TraceHeader), max_size=2).map(tuple),
    )
)
def test_status_emit_then_parse_loses_nothing(message: StatusMessage) -> None:
    """Any status message survives emit → parse unchanged."""
    assert parse_message(emit_status(message)) == message
