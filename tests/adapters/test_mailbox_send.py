"""The mail road: the message a unit sends (read back by the mailbox parser, property-based)
and its submission against a real SMTP server (simulators/smtp.py): AUTH, STARTTLS, implicit
TLS, 451 and 550 answers, a dead mailbox, a refused login, nothing listening."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import AsyncIterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.mailbox import PROFILE
from adapters.mailbox.compose import compose_mail
from adapters.mailbox.parse import find_reference, read_mail
from adapters.mailbox.send import SmtpSender
from bridge.blobs import BlobStore
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext, MailRefusedError, MailSender, OutgoingMessage
from bridge.normalize import VN_TZ
from bridge.settings import SmtpSettings
from schemas import Document, Organ, Signer
from simulators.demo_data import pdf_attachments
from simulators.smtp import SmtpSim
from tests.imap_server import make_certificates

UNIT = "000.00.31.H59"
FROM = "ubndtieucan@travinh.gov.vn"
TO = "sonv@travinh.gov.vn"
USER, PASSWORD = "ubndtieucan", "mật-khẩu-smtp"
BUILT = dt.datetime(2026, 11, 22, 8, 15, tzinfo=VN_TZ)


def _message(
    files: dict[str, bytes],
    *,
    kind: str = "new",
    number: str = "335",
    notation: str = "UBND-VP",
    subject: str = "V/v triển khai gửi, nhận văn bản điện tử",
    issued_on: dt.date = dt.date(2026, 11, 20),
) -> OutgoingMessage:
    doc = Document(
        issuer=Organ(code=UNIT, name="Ủy ban nhân dân huyện Tiểu Cần"),
        number=number,
        notation=notation,
        issued_on=issued_on,
        type_name="Công văn",
        subject=subject,
        signer=Signer(position="Phó Chủ tịch", name="Trần Văn B"),
        attachments=pdf_attachments(files),
    )
    return OutgoingMessage(
        document=doc,
        version={"new": 1, "update": 2, "revocation": 3}[kind],
        kind=kind,
        document_key=f"{UNIT},{issued_on:%Y/%m/%d},{number}/{notation}",
        to_places=("Sở Nội vụ", "Sở Tài chính"),
        reason=None if kind == "new" else "Điều chỉnh thời hạn",
        built_at=BUILT,
        files=tuple(files.values()),
    )


_WORDS = [
    "triển",
    "khai",
    "gửi",
    "nhận",
    "văn",
    "bản",
    "điện",
    "tử",
    "báo",
    "cáo",
    "tình",
    "hình",
    "thực",
    "hiện",
    "kế",
    "hoạch",
    "năm",
    "cải",
    "cách",
    "hành",
    "chính",
    "tăng",
    "cường",
    "công",
    "tác",
    "phòng",
    "chống",
    "thiên",
    "tai",
    "tổ",
    "chức",
    "hội",
    "nghị",
    "đề",
    "nghị",
    "cung",
    "cấp",
    "thông",
    "tin",
    "về",
    "việc",
    "điều",
    "chỉnh",
    "quy",
    "hoạch",
    "sử",
    "dụng",
    "đất",
    "huyện",
    "Tiểu",
    "Cần",
]
_word = st.sampled_from(_WORDS)
_names = st.lists(
    st.tuples(
        st.lists(_word, min_size=1, max_size=3).map(" ".join), st.sampled_from([".pdf", ".docx"])
    ).map("".join),
    unique=True,
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(
    number=st.integers(1, 99999).map(str),
    notation=st.sampled_from(["UBND-VP", "QĐ-UBND", "SNV-TCCB", "TB-VPCP"]),
    words=st.lists(_word, min_size=1, max_size=10),
    names=_names,
    data=st.data(),
    kind=st.sampled_from(["new", "update", "revocation"]),
    issued_on=st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
)
def test_what_compose_writes_the_mailbox_parser_reads(
    number: str,
    notation: str,
    words: list[str],
    names: list[str],
    data: st.DataObject,
    kind: str,
    issued_on: dt.date,
) -> None:
    files = {name: data.draw(st.binary(max_size=200)) for name in names}
    subject = " ".join(words)
    message = _message(
        files, kind=kind, number=number, notation=notation, subject=subject, issued_on=issued_on
    )
    first = "first-copy@travinh.gov.vn" if kind != "new" else None
    raw = compose_mail(message, sender=FROM, to=TO, message_id="m-1", in_reply_to=first)
    assert raw == compose_mail(message, sender=FROM, to=TO, message_id="m-1", in_reply_to=first)
    mail = read_mail(raw)
    ref = find_reference(mail.subject, mail.body)
    assert (ref.number, ref.notation, ref.issued_on) == (number, notation, issued_on)
    assert ref.subject == f"V/v {subject}"
    assert [(f.name, f.data) for f in mail.files] == list(files.items())
    assert mail.message_id == "m-1@travinh.gov.vn" and mail.sender_address == FROM
    headers = BytesParser(policy=policy.default).parsebytes(raw)
    prefix = {"new": "Số ", "update": "Cập nhật: Số ", "revocation": "Thu hồi: Số "}[kind]
    assert str(headers["Subject"]).startswith(prefix)
    assert headers["X-LienThong-DocumentId"] == message.document_key
    assert headers["X-LienThong-Version"] == str(message.version)
    assert headers["In-Reply-To"] == (f"<{first}>" if first else None)
    assert headers["References"] == (f"<{first}>" if first else None)
    assert headers.get_content_type() == "multipart/mixed"
    assert raw.isascii() and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    for name in files:
        if not name.isascii():
            assert b"filename*=utf-8''" in raw or b"filename*0*=utf-8''" in raw


def test_compose_refuses_a_message_it_cannot_build() -> None:
    message = _message({"a.pdf": b"%PDF"})
    with pytest.raises(PermanentError, match="with_files"):
        compose_mail(
            OutgoingMessage(**{**message.__dict__, "files": ()}), sender=FROM, to=TO, message_id="x"
        )
    with pytest.raises(PermanentError, match="kind"):
        compose_mail(
            OutgoingMessage(**{**message.__dict__, "kind": "recall"}),
            sender=FROM,
            to=TO,
            message_id="x",
        )
    undated = message.document.model_copy(update={"issued_on": None})
    with pytest.raises(PermanentError, match="issue date"):
        compose_mail(
            OutgoingMessage(**{**message.__dict__, "document": undated}),
            sender=FROM,
            to=TO,
            message_id="x",
        )


# ---- over SMTP --------------------------------------------------------------------------


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSim]:
    async with SmtpSim(seed=5, users={USER: PASSWORD}) as server:
        yield server


def _sender(port: int, tmp_path: Path, **extra: object) -> SmtpSender:
    raw = {"host": "127.0.0.1", "port": port, "tls": "none", "username": USER, "password": PASSWORD}
    settings = SmtpSettings.model_validate({**raw, "from": FROM, "timeout_s": 5, **extra})
    assert PROFILE.make_mail_sender is not None
    sender = PROFILE.make_mail_sender(
        settings, AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path))
    )
    assert isinstance(sender, MailSender) and isinstance(sender, SmtpSender)
    return sender


async def test_a_message_is_submitted_once_with_auth(smtp: SmtpSim, tmp_path: Path) -> None:
    sender = _sender(smtp.port, tmp_path)
    raw = sender.compose(_message({"335.pdf": b"%PDF-1.7"}), to=TO, message_id="m-1")
    await sender.send(to=TO, message=raw)
    assert smtp.count("m-1@travinh.gov.vn", TO) == 1
    assert smtp.received[0].data.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert smtp.received[0].mail_from == FROM
    assert smtp.logins == [f"PLAIN:{USER}"]


async def test_refusals_for_good_and_for_now(smtp: SmtpSim, tmp_path: Path) -> None:
    sender = _sender(smtp.port, tmp_path)
    raw = sender.compose(_message({}), to=TO, message_id="m-2")
    smtp.dead.add("chet@travinh.gov.vn")
    with pytest.raises(MailRefusedError, match="550"):
        await sender.send(to="chet@travinh.gov.vn", message=raw)
    smtp.temp_fail[TO] = 2
    for _ in range(2):
        with pytest.raises(TransientError, match="451"):
            await sender.send(to=TO, message=raw)
    await sender.send(to=TO, message=raw)
    smtp.data_554_rate = 1.0
    with pytest.raises(MailRefusedError, match="554"):
        await sender.send(to=TO, message=raw)
    smtp.data_554_rate, smtp.data_451_rate = 0.0, 1.0
    with pytest.raises(TransientError, match="451"):
        await sender.send(to=TO, message=raw)
    assert smtp.count("m-2@travinh.gov.vn", TO) == 1
    assert smtp.refusals == {"rcpt_550": 1, "rcpt_451": 2, "data_554": 1, "data_451": 1}


async def test_a_wrong_password_is_an_auth_error_that_hides_it(
    smtp: SmtpSim, tmp_path: Path
) -> None:
    sender = _sender(smtp.port, tmp_path, password="sai-mat-khau")
    with pytest.raises(AuthError) as refused:
        await sender.send(to=TO, message=sender.compose(_message({}), to=TO, message_id="m-3"))
    assert "sai-mat-khau" not in str(refused.value)
    assert smtp.received == []


async def test_nothing_listening_is_transient(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = _sender(port, tmp_path)
    with pytest.raises(TransientError, match="kết nối"):
        await sender.send(to=TO, message=sender.compose(_message({}), to=TO, message_id="m-4"))


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
async def test_tls_with_the_operators_ca(tmp_path: Path, tls: str) -> None:
    ca, cert, key = make_certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpSim(users={USER: PASSWORD}, tls_context=context, implicit_tls=tls == "implicit")
    async with server:
        sender = _sender(server.port, tmp_path, tls=tls, ca_file=str(ca))
        await sender.send(to=TO, message=sender.compose(_message({}), to=TO, message_id="m-5"))
        other = tmp_path / "other"
        other.mkdir()
        wrong, _, _ = make_certificates(other)
        stranger = _sender(server.port, tmp_path, tls=tls, ca_file=str(wrong))
        with pytest.raises(TransientError):
            await stranger.send(to=TO, message=b"Subject: x\r\n\r\nx\r\n")
    assert server.count("m-5@travinh.gov.vn", TO) == 1


def test_an_ascii_unit_name_with_a_comma_is_quoted() -> None:
    message = _message({})
    named = message.document.model_copy(
        update={"issuer": Organ(code=UNIT, name="UBND, huyen Tieu Can")}
    )
    raw = compose_mail(
        OutgoingMessage(**{**message.__dict__, "document": named}),
        sender=FROM,
        to=TO,
        message_id="q",
    )
    mail = read_mail(raw)
    assert (mail.sender_address, mail.sender_name) == (FROM, "UBND, huyen Tieu Can")


async def test_retrying_451s_delivers_each_message_once(smtp: SmtpSim, tmp_path: Path) -> None:
    smtp.rcpt_451_rate = smtp.data_451_rate = 0.1
    sender = _sender(smtp.port, tmp_path)
    ids = [f"m-{n}" for n in range(30)]
    for message_id in ids:
        raw = sender.compose(_message({}), to=TO, message_id=message_id)
        while True:
            try:
                await sender.send(to=TO, message=raw)
                break
            except TransientError:
                continue
    assert smtp.refusals["rcpt_451"] + smtp.refusals["data_451"] > 0
    assert [smtp.count(f"{m}@travinh.gov.vn", TO) for m in ids] == [1] * 30
