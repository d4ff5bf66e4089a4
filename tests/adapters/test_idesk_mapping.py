"""The idesk mapper and XML safety on the labelled corpus: no network involved."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from adapters.idesk import PROFILE
from adapters.idesk.files import InlineFile, decoded_chunks
from adapters.idesk.mapping import read_file, to_document
from adapters.idesk.page import read_page
from adapters.idesk.soap import HostileXmlError, fault_error, parse_xml
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.normalize import fold_key
from schemas import Confidentiality, Document, RawRecord
from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT
if not CORPUS.is_dir():
    CORPUS = CORPUS_ROOT
ANSWER = CORPUS / "idesk.xml"
DOCUMENT_RE = re.compile(rb"<Document[\s>].*?</Document>", re.DOTALL)


def truth_rows() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (CORPUS / "truth.jsonl").read_text().splitlines()]
    return [row for row in rows if row["profile"] == "idesk"]


def answer_truth() -> list[dict[str, Any]]:
    return sorted((r for r in truth_rows() if r["file"] == "idesk.xml"), key=lambda r: r["index"])


def record_of(payload: bytes, external_id: str = "x") -> RawRecord:
    return RawRecord(
        source="test",
        unit="000.15.33.H49",
        external_id=external_id,
        version="1",
        media_type="application/xml",
        payload=payload,
        received_at=dt.datetime.now(dt.UTC),
    )


def same_text(got: str | None, want: str | None) -> bool:
    def key(s: str | None) -> str:
        folded = fold_key(s or "").rstrip(". ")
        return re.sub(r"^(về việc|v/v)\s*", "v/v ", folded)

    return key(got) == key(want)


def assert_matches_truth(doc: Document, row: dict[str, Any]) -> None:
    """Compare every field the record carries with its truth row (after fold_key)."""
    present = set(row["present"])
    where = f"{row['file']}#{row['index']}"
    checks: dict[str, tuple[Any, Any]] = {
        "number": (doc.number, row["number"]),
        "notation": (doc.notation, row["notation"]),
        "issuer_name": (doc.issuer.name, row["issuer_name"]),
        "type_name": (doc.type_name, row["type_name"]),
        "subject": (doc.subject, row["subject"]),
    }
    for field, (got, want) in checks.items():
        if field in present:
            assert same_text(got, want), f"{where} {field}: {got!r} != {want!r}"
    if "promulgation_date" in present:
        assert doc.issued_on == dt.date.fromisoformat(row["promulgation_date"]), where
    if "issuer_code" in present:
        assert doc.issuer.code == row["issuer_code"], where
    else:
        assert doc.issuer.code is None, where
    if "signer" in present:
        assert doc.signer is not None, where
        assert same_text(doc.signer.name, row["signer_name"]), where
        assert same_text(doc.signer.position, row["signer_position"]), where
    assert int(doc.priority) == row["priority"], where
    assert int(doc.confidentiality) == row["confidentiality"], where
    want_due = dt.date.fromisoformat(row["due_date"]) if row["due_date"] else None
    assert doc.due_on == (want_due if "due_date" in present else None), where
    got_files = [(fold_key(a.name), a.sha256, a.size) for a in doc.attachments]
    want_files = [(fold_key(a["name"]), a["sha256"], a["size"]) for a in row["attachments"]]
    assert got_files == want_files, where


def test_every_corpus_document_maps_to_its_truth() -> None:
    """Each Document of idesk.xml maps to the values its truth.jsonl row gives."""
    page = read_page(ANSWER.read_bytes())
    rows = answer_truth()
    assert len(page.items) == len(rows) == 14
    for item, row in zip(page.items, rows, strict=True):
        assert item.error is None and item.document_id == row["external_id"]
        assert_matches_truth(to_document(record_of(item.payload)), row)


def test_whole_answer_through_read_file_takes_the_first_document() -> None:
    """read_file on a whole SOAP answer maps its first Document (lienthong normalize)."""
    record = read_file(ANSWER.read_bytes(), "idesk.xml")
    assert record.external_id == answer_truth()[0]["external_id"]
    assert_matches_truth(PROFILE.to_document(record), answer_truth()[0])


def test_read_file_accepts_a_bare_document_element() -> None:
    """read_file on one Document element (no envelope, no namespace) maps it."""
    second = DOCUMENT_RE.findall(ANSWER.read_bytes())[1]
    record = read_file(second, "one.xml")
    assert_matches_truth(to_document(record), answer_truth()[1])


@pytest.mark.parametrize(
    ("name", "reason"),
    [("001.xml", "billion laughs"), ("002.xml", "malformed"), ("003.xml", "XXE")],
)
def test_hostile_corpus_files_are_refused_by_read_file(name: str, reason: str) -> None:
    """Billion laughs, malformed XML and XXE files raise PermanentError with their reason."""
    with pytest.raises(PermanentError) as caught:
        read_file((CORPUS / "idesk" / name).read_bytes(), name)
    assert reason in caught.value.reason


def test_parameter_entity_doctype_is_refused_before_parsing() -> None:
    """A parameter-entity XXE is refused by its DOCTYPE, whatever the body holds."""
    data = b'<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x"> %p;]><Document/>'
    with pytest.raises(HostileXmlError, match="parameter entity"):
        parse_xml(data)


def test_missing_mandatory_element_is_a_permanent_error() -> None:
    """A Document without SoHieu raises PermanentError naming the field in both languages."""
    first = DOCUMENT_RE.findall(ANSWER.read_bytes())[0]
    broken = re.sub(rb"<SoHieu>.*?</SoHieu>", b"", first)
    with pytest.raises(PermanentError, match="thiếu trường bắt buộc 'SoHieu'"):
        to_document(record_of(broken))


@pytest.mark.parametrize(
    ("element", "value"), [("DoKhan", "7"), ("DoMat", "x"), ("NgayBanHanh", "31/31/2024")]
)
def test_bad_codes_and_dates_are_permanent_errors(element: str, value: str) -> None:
    """Out-of-range DoKhan, unknown DoMat labels and impossible dates raise PermanentError."""
    first = DOCUMENT_RE.findall(ANSWER.read_bytes())[0]
    pattern = rf"<{element}>.*?</{element}>".encode()
    broken = re.sub(pattern, f"<{element}>{value}</{element}>".encode(), first)
    with pytest.raises(PermanentError, match=element):
        to_document(record_of(broken))


def test_secret_code_sets_confidentiality() -> None:
    """DoMat 2 maps to Tối mật (the pipeline quarantines it, the mapper still maps it)."""
    first = DOCUMENT_RE.findall(ANSWER.read_bytes())[0]
    secret = first.replace(b"<DoMat>0</DoMat>", b"<DoMat>2</DoMat>")
    assert to_document(record_of(secret)).confidentiality is Confidentiality.TOI_MAT


def test_error_record_is_not_mapped() -> None:
    """A record the adapter marked unreadable raises PermanentError with that reason."""
    record = record_of(b"<Document/>").model_copy(update={"error": "hỏng / broken"})
    with pytest.raises(PermanentError, match="broken"):
        to_document(record)


def test_wrapped_base64_decodes_like_unwrapped() -> None:
    """Base64 wrapped across lines decodes to the same bytes; broken base64 is refused."""
    data = bytes(range(256)) * 10
    import base64

    flat = base64.b64encode(data).decode()
    wrapped = "\n".join(flat[i : i + 76] for i in range(0, len(flat), 76))
    assert b"".join(decoded_chunks(InlineFile("a", "x", wrapped), 10**6)) == data
    with pytest.raises(PermanentError, match="base64"):
        list(decoded_chunks(InlineFile("a", "x", "QUJD*==="), 10**6))
    with pytest.raises(PermanentError, match="quá lớn"):
        list(decoded_chunks(InlineFile("a", "x", flat), 100))


def _fault(code: str, message: str) -> bytes:
    return (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
        f"<faultcode>{code}</faultcode><faultstring>{message}</faultstring>"
        "</s:Fault></s:Body></s:Envelope>"
    ).encode()


def test_fault_codes_map_to_the_error_taxonomy() -> None:
    """Client+credentials → AuthError, other Client → PermanentError, Server → Transient."""
    assert isinstance(
        fault_error(parse_xml(_fault("soap:Client", "Invalid password")), 500), AuthError
    )
    assert isinstance(fault_error(parse_xml(_fault("soap:Client", "Sai mật khẩu")), 500), AuthError)
    client = fault_error(parse_xml(_fault("soap:Client", "PageSize too big")), 500)
    assert isinstance(client, PermanentError)
    assert isinstance(fault_error(parse_xml(_fault("soap:Server", "db down")), 500), TransientError)
    assert fault_error(parse_xml(b"<a/>"), 200) is None
