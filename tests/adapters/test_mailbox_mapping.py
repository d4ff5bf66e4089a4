"""The mailbox mapper on the labelled corpus and on crafted messages (no network)."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.mailbox import PROFILE
from adapters.mailbox.mapping import REVIEW_REASON, map_mail, media_type_for, read_file
from adapters.mailbox.parse import find_reference, from_subject, html_to_text
from adapters.mailbox.settings import AddressBookEntry, MailboxSettings
from bridge.errors import PermanentError
from bridge.normalize import fold_key
from tests.corpus_path import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT
TRUTH = [
    row
    for row in map(json.loads, (CORPUS / "truth.jsonl").read_text(encoding="utf-8").splitlines())
    if row["profile"] == "mailbox"
]
ADDRESS_BOOK: dict[str, AddressBookEntry] = {}


def _sender(path: Path) -> str:
    from adapters.mailbox.parse import read_mail

    address = read_mail(path.read_bytes()).sender_address
    assert address is not None
    return address


for _row in TRUTH:
    ADDRESS_BOOK[_sender(CORPUS / _row["file"])] = AddressBookEntry(code=_row["issuer_code"])


def folded(value: Any) -> Any:
    if value is None:
        return None
    text = fold_key(str(value))
    return text.replace("về việc", "v/v")


def _record(row: dict[str, Any]) -> Any:
    data = (CORPUS / row["file"]).read_bytes()
    record = read_file(data, row["file"])
    entry = ADDRESS_BOOK[_sender(CORPUS / row["file"])]
    return record.model_copy(update={"media_type": media_type_for(entry)})


@pytest.mark.parametrize("row", TRUTH, ids=[r["file"] for r in TRUTH])
def test_corpus_record_maps_to_truth(row: dict[str, Any]) -> None:
    """Every corpus mail gives the labelled number, notation, date, issuer, subject and files."""
    doc = PROFILE.to_document(_record(row))
    assert row["external_id"] == _record(row).external_id
    expected = {
        "number": doc.number,
        "notation": doc.notation,
        "promulgation_date": doc.issued_on.isoformat() if doc.issued_on else None,
        "issuer_code": doc.issuer.code,
        "issuer_name": doc.issuer.name,
        "subject": doc.subject,
    }
    for key, got in expected.items():
        if key in row["present"]:
            assert folded(got) == folded(row[key]), key
    if row["note"] == "no-number":
        assert doc.review_reason == REVIEW_REASON
        assert doc.number is None and doc.issued_on is None
    else:
        assert doc.review_reason is None
        assert folded(doc.type_name) == folded(row["type_name"])
    assert [(a.name, a.sha256, a.size) for a in doc.attachments] == [
        (a["name"], a["sha256"], a["size"]) for a in row["attachments"]
    ]
    assert all(a.blob is None for a in doc.attachments)
    assert doc.confidentiality.value == row["confidentiality"]


def test_cp1258_subject_is_nfc() -> None:
    """A Windows-1258 encoded-word subject decodes to NFC text (no combining marks left)."""
    row = next(r for r in TRUTH if "mail.cp1258_words" in r["variants"])
    doc = PROFILE.to_document(_record(row))
    assert doc.subject == "V/v triển khai gửi, nhận văn bản điện tử"
    assert doc.issuer.name == "Sở Nội vụ tỉnh Quảng Ninh"


def test_html_body_used_when_no_plain_part() -> None:
    """An HTML-only body is read without tags, its image and script ignored."""
    msg = EmailMessage()
    msg["From"] = "Văn thư UBND huyện Chợ Gạo <vt@chogao.gov.vn>"
    msg["Subject"] = "Gửi văn bản"
    msg.set_content(
        "<html><head><script>alert('x')</script></head><body><p>UBND huyện gửi công văn số"
        " 0335/UBND-HC ngày 24/3/2014 về việc triển khai gửi, nhận văn bản điện tử.</p>"
        '<img src="cid:logo"></body></html>',
        subtype="html",
    )
    doc = map_mail(bytes(msg), None)
    assert (doc.number, doc.notation, str(doc.issued_on)) == ("335", "UBND-HC", "2014-03-24")
    assert doc.subject == "V/v triển khai gửi, nhận văn bản điện tử"
    assert doc.content is not None and "alert" not in doc.content
    assert doc.type_name == "Công văn"


def test_html_to_text_keeps_blocks_apart() -> None:
    """Block elements become lines; entities are decoded."""
    assert html_to_text("<p>a&amp;b</p><div>c</div>") == "a&b\nc"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (
            "Số 335/UBND-HC ngày 24/3/2014 V/v triển khai",
            ("335", "UBND-HC", "2014-03-24", "V/v triển khai"),
        ),
        ("335/UBND-HC - V/v triển khai", ("335", "UBND-HC", None, "V/v triển khai")),
        ("[Văn bản đến] CV 335/UBND-HC (24/03/2014)", ("335", "UBND-HC", "2014-03-24", None)),
        (
            "Fwd: SỐ: 012/QĐ-UBND, ngày 05-03-2020: Quyết định",
            ("12", "QĐ-UBND", "2020-03-05", "Quyết định"),
        ),
        (
            "Khẩn: số 7/TB-UBND ngày 1/2/2024 Thông báo lịch họp",
            ("7", "TB-UBND", "2024-02-01", "Thông báo lịch họp"),
        ),
        ("Gửi văn bản", (None, None, None, None)),
    ],
)
def test_subject_shapes(subject: str, expected: tuple[Any, ...]) -> None:
    """The subject shapes of the profile give number, notation, date and trích yếu."""
    ref = from_subject(subject)
    got = (
        ref.number,
        ref.notation,
        ref.issued_on.isoformat() if ref.issued_on else None,
        ref.subject,
    )
    assert got == expected


def test_urgent_subject_sets_priority() -> None:
    """An urgency word before the number becomes the document's priority."""
    msg = EmailMessage()
    msg["From"] = "vt@x.gov.vn"
    msg["Subject"] = "HỎA TỐC số 9/UBND-VP ngày 3/4/2024 V/v phòng chống bão"
    msg.set_content("xin gửi")
    assert map_mail(bytes(msg), None).priority == 3


def test_extra_parts_skipped_and_hostile_name_flattened() -> None:
    """.p7s signatures, inline logos and images are not the document; a path-like name is cut."""
    msg = EmailMessage()
    msg["From"] = "vt@x.gov.vn"
    msg["Subject"] = "Số 1/UBND-VP ngày 3/4/2024 V/v a"
    msg.set_content("body")
    msg.add_attachment(
        b"%PDF-1.4 a", maintype="application", subtype="pdf", filename="../../etc/vb.pdf"
    )
    msg.add_attachment(
        b"sig", maintype="application", subtype="pkcs7-signature", filename="vb.pdf.p7s"
    )
    msg.add_attachment(b"png", maintype="image", subtype="jpeg", filename="scan.jpg")
    doc = map_mail(bytes(msg), AddressBookEntry(code="000.00.00.H49", name="UBND tỉnh Quảng Ninh"))
    assert [a.name for a in doc.attachments] == ["vb.pdf"]
    assert doc.issuer.code == "000.00.00.H49"
    assert doc.issuer.name == "Ủy ban nhân dân tỉnh Quảng Ninh"


def test_rfc2047_filename_and_windows_1258() -> None:
    """An encoded-word file name in Windows-1258 decodes to NFC."""
    name = base64.b64encode("văn ba\u0309n.pdf".encode("cp1258"))
    raw = (
        b"From: vt@x.gov.vn\r\nSubject: =?windows-1258?B?c/TsIDI4OC9TTlYtQ0NIQw==?=\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
        b"Content-Type: text/plain\r\n\r\nngay\r\n--B\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="=?windows-1258?B?' + name + b'?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--B--\r\n"
    )
    doc = map_mail(raw, None)
    assert doc.number == "288"
    assert [a.name for a in doc.attachments] == ["văn bản.pdf"]


def test_read_file_rejects_non_mail() -> None:
    """Bytes that are not a message raise PermanentError with a one-line reason."""
    with pytest.raises(PermanentError):
        read_file(b"", "x.eml")
    with pytest.raises(PermanentError):
        read_file(b"\x00\x01garbage without headers", "x.eml")


def test_error_record_raises_permanent() -> None:
    """A record the source marked unreadable is quarantined by the mapper."""
    row = TRUTH[0]
    record = _record(row).model_copy(update={"error": "thư quá lớn / too large"})
    with pytest.raises(PermanentError):
        PROFILE.to_document(record)


def test_settings_accept_codes_and_tables() -> None:
    """The address book takes `addr = "code"` or `addr = {code, name}`; addresses fold case."""
    settings = MailboxSettings.model_validate(
        {
            "name": "m",
            "profile": "mailbox",
            "host": "mail.example",
            "username": "u",
            "password": "p",
            "address_book": {
                "VT@X.gov.vn": "000.00.00.H49",
                "b@y": {"code": "000.00.02.H49", "name": "Sở Nội vụ"},
            },
        }
    )
    assert settings.address_book["vt@x.gov.vn"].code == "000.00.00.H49"
    assert settings.address_book["b@y"].name == "Sở Nội vụ"
    assert settings.effective_port == 993
    assert "p" not in repr(settings.password)


@given(st.text(max_size=300), st.text(max_size=500))
def test_reference_never_raises(subject: str, body: str) -> None:
    """Arbitrary subject and body text never make the reference finder raise."""
    find_reference(subject, body)


def test_sender_name_split_across_encoded_words_is_joined() -> None:
    """A display name split mid-word into two encoded-words ("…Vân Đ" + "ồn") reads whole:
    whitespace between adjacent encoded-words is no part of the text (RFC 2047)."""
    data = (
        b"From: =?utf-8?b?VsSDbiB0aMawIOG7pnkgYmFuIG5ow6JuIGTDom4gaHV54buHbiBWw6JuIMSQ?=\r\n"
        b" =?utf-8?q?=E1=BB=93n?= <vt@vandon.gov.vn>\r\n"
        b"Subject: 12/UBND-VP ngay 05/03/2024 V/v thu\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n"
    )
    assert map_mail(data, None).issuer.name == "Ủy ban nhân dân huyện Vân Đồn"
