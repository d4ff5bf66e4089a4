"""The official mail a unit sends on the mail road (mailbox.md "Sending (SMTP)"). Pure.

One message per (document, version, recipient), built once and stored: the same bytes on every
retry. Headers are RFC 2047 encoded-words (UTF-8) where not ASCII, file names RFC 2231 UTF-8,
lines end in CRLF; the multipart boundary and `Date` come from the message itself, so the
output depends on nothing but the OutgoingMessage and the arguments.
"""

from __future__ import annotations

import hashlib
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from bridge.errors import PermanentError
from bridge.interfaces import OutgoingMessage
from bridge.normalize import VN_TZ
from schemas import Document

SUBJECT_PREFIXES = {"new": "", "update": "Cập nhật: ", "revocation": "Thu hồi: "}
DOCUMENT_ID_HEADER = "X-LienThong-DocumentId"
VERSION_HEADER = "X-LienThong-Version"


def subject_line(message: OutgoingMessage) -> str:
    """`Số {number}/{notation} ngày {dd/MM/yyyy} V/v {subject}`, with the kind's prefix."""
    doc = message.document
    if doc.issued_on is None or not doc.number:
        raise PermanentError("thiếu số hoặc ngày ban hành / no number or issue date")
    about = " ".join(doc.subject.split())
    if about[:4].lower() == "v/v ":
        about = about[4:]
    day = doc.issued_on.strftime("%d/%m/%Y")
    return f"{SUBJECT_PREFIXES[message.kind]}Số {doc.symbol} ngày {day} V/v {about}"


def body_text(message: OutgoingMessage) -> str:
    """The text part naming the document: number, date, issuer, subject, signer (and why,
    for an update or a revocation)."""
    doc = message.document
    lines = [
        f"Số, ký hiệu: {doc.symbol}",
        f"Ngày ban hành: {doc.issued_on.strftime('%d/%m/%Y') if doc.issued_on else ''}",
        f"Cơ quan ban hành: {doc.issuer.name or doc.issuer.code or ''}",
        f"Trích yếu: {doc.subject}",
    ]
    if doc.signer is not None:
        who = ", ".join(p for p in (doc.signer.position, doc.signer.name) if p)
        lines.append(f"Người ký: {who}")
    if message.kind != "new":
        what = "Văn bản cập nhật" if message.kind == "update" else "Văn bản bị thu hồi"
        lines.append(f"{what}" + (f": {message.reason}" if message.reason else ""))
    if doc.recipients or message.to_places:
        lines.append("Nơi nhận: " + "; ".join(message.to_places))
    return "\r\n".join(lines) + "\r\n"


def _encoded(name: str, value: str) -> bytes:
    """A header line with `value` as RFC 2047 encoded-words where it is not ASCII, split
    between characters (the standard library's folder can drop the space between two
    encoded-words it makes, turning "khai triển" into "khaitriển")."""
    if value.isascii():
        text = value
    else:
        text = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {text}\r\n".encode("ascii")


def _bracketed(message_id: str, domain: str) -> str:
    value = message_id.strip().strip("<>")
    if "@" not in value:
        value = f"{value}@{domain}"
    return f"<{value}>"


def _attach(mail: EmailMessage, doc: Document, files: tuple[bytes, ...]) -> None:
    if len(files) != len(doc.attachments):
        raise PermanentError(
            "chưa nạp nội dung tệp đính kèm / attachment bytes not loaded "
            "(OutgoingMessage.with_files)"
        )
    for att, data in zip(doc.attachments, files, strict=True):
        if hashlib.sha256(data).hexdigest() != att.sha256:
            raise PermanentError(f"tệp '{att.name[:80]}' sai SHA-256 / attachment SHA-256 mismatch")
        kind = "application/pdf" if att.name.lower().endswith(".pdf") else att.content_type
        maintype, _, subtype = kind.partition("/")
        mail.add_attachment(
            data, maintype=maintype, subtype=subtype or "octet-stream", filename=att.name
        )


def compose_mail(
    message: OutgoingMessage,
    *,
    sender: str,
    to: str,
    message_id: str,
    in_reply_to: str | None = None,
) -> bytes:
    """The MIME message of `message` from the unit's address `sender` to `to`.

    `message_id` is kept (a bare token gets `@` and the From domain); `in_reply_to` names the
    first message about the document, for later versions. Raises PermanentError for a
    message that cannot be sent (no number or date, bytes not loaded, unknown kind).
    """
    if message.kind not in SUBJECT_PREFIXES:
        raise PermanentError(
            f"loại thông điệp không hợp lệ / unknown message kind {message.kind!r}"
        )
    domain = sender.rpartition("@")[2]
    doc = message.document
    mail = EmailMessage(policy=policy.SMTP)
    # From and Subject are written by `_encoded`, in place of these markers
    mail["From"] = "x-lienthong-from"
    mail["To"] = to
    mail["Subject"] = "x-lienthong-subject"
    mail["Message-ID"] = _bracketed(message_id, domain)
    if in_reply_to:
        first = _bracketed(in_reply_to, domain)
        mail["In-Reply-To"] = first
        mail["References"] = first
    built = message.built_at
    if built is not None:
        mail["Date"] = format_datetime(built.astimezone(VN_TZ) if built.tzinfo else built)
    mail[DOCUMENT_ID_HEADER] = message.document_key
    mail[VERSION_HEADER] = str(message.version)
    mail.set_content(body_text(message), charset="utf-8", cte="base64")
    _attach(mail, doc, message.files)
    if not mail.is_multipart():
        mail.make_mixed()  # always multipart/mixed, as the profile says
    for part in mail.iter_parts():
        del part["MIME-Version"]  # only the message itself carries it
    seed = f"{mail['Message-ID']}\n{message.document_key}\n{message.version}\n{to}"
    mail.set_boundary("=_lienthong_" + hashlib.sha256(seed.encode()).hexdigest()[:32])
    raw = mail.as_bytes(policy=policy.SMTP)
    name = doc.issuer.name
    if name and not name.isascii():
        from_line = _encoded("From", name)[:-2] + f" <{sender}>\r\n".encode()
    else:
        from_line = _encoded("From", formataddr((name, sender)) if name else sender)
    raw = raw.replace(b"From: x-lienthong-from\r\n", from_line, 1)
    return raw.replace(
        b"Subject: x-lienthong-subject\r\n", _encoded("Subject", subject_line(message)), 1
    )
