"""Mapping one stored mail to the common schema, and reading an `.eml` file as a raw record.

The sender's organ comes from the unit's address book. The source resolves it when it pulls
and records it as parameters of the record's media type (`organ-code`, `organ-name`), so the
stored payload stays the exact message and `to_document(record)` needs nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from email.message import EmailMessage

from adapters.mailbox.parse import Mail, MailFile, Reference, find_reference, read_mail
from adapters.mailbox.settings import AddressBookEntry
from bridge.errors import PermanentError
from bridge.normalize import (
    VN_TZ,
    canonical_organ_name,
    clean_subject,
    clean_text,
    normalize_code,
    priority_from_label,
    type_name_for,
)
from schemas import Attachment, Document, Organ, Priority, RawRecord

MEDIA_TYPE = "message/rfc822"
REVIEW_REASON = "không tìm thấy số, ký hiệu và ngày / number and date not found: held for review"
_CLERK_PREFIX = re.compile(r"^\s*(?:bộ phận\s+)?(?:văn thư|vt)\s*[-:–]?\s+", re.IGNORECASE)
_FORWARD = re.compile(r"^\s*(?:(?:fwd?|re|tr|tl)\s*:\s*)+", re.IGNORECASE)


def media_type_for(entry: AddressBookEntry | None) -> str:
    """`message/rfc822` with the sender's organ from the address book as parameters."""
    msg = EmailMessage()
    msg["Content-Type"] = MEDIA_TYPE
    if entry is not None:
        msg.set_param("organ-code", entry.code)
        if entry.name:
            msg.set_param("organ-name", entry.name, charset="utf-8")
    return str(msg["Content-Type"])


def _organ_from_media_type(media_type: str) -> AddressBookEntry | None:
    msg = EmailMessage()
    msg["Content-Type"] = media_type
    code = msg.get_param("organ-code")
    if not isinstance(code, str) or not code:
        return None
    name = msg.get_param("organ-name")
    text = name if isinstance(name, str) else None
    if isinstance(name, tuple):
        text = name[2]
    return AddressBookEntry(code=code, name=text or None)


def organ_name_from_sender(display_name: str | None) -> str | None:
    """The organ a sender's display name stands for: `Văn thư Sở Nội vụ` → `Sở Nội vụ`."""
    name = clean_text(display_name)
    if name is None:
        return None
    return canonical_organ_name(_CLERK_PREFIX.sub("", name))


def _issuer(mail: Mail, entry: AddressBookEntry | None) -> Organ:
    name = canonical_organ_name(clean_text(entry.name)) if entry and entry.name else None
    return Organ(
        code=normalize_code(entry.code) if entry else None,
        name=name or organ_name_from_sender(mail.sender_name),
    )


def _attachments(files: tuple[MailFile, ...]) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(
            name=f.name,
            content_type=f.content_type,
            size=len(f.data),
            sha256=hashlib.sha256(f.data).hexdigest(),
        )
        for f in files
    )


def _priority(ref: Reference) -> Priority:
    if ref.urgency is None:
        return Priority.THUONG
    try:
        return priority_from_label(ref.urgency)
    except ValueError:
        return Priority.THUONG


def _review_reason(ref: Reference) -> str | None:
    if ref.number is not None and ref.issued_on is not None:
        return None
    return REVIEW_REASON


def map_mail(
    data: bytes,
    entry: AddressBookEntry | None,
    *,
    stored: tuple[Attachment, ...] | None = None,
) -> Document:
    """The document a message carries.

    `stored` are its files as the source put them in the blob store; without them the files
    are described from the message itself (blob None). A mail whose number or date cannot be
    found is still mapped, with `review_reason` set. Raises PermanentError when the bytes are
    not a mail at all.
    """
    mail = read_mail(data)
    if mail.sender_address is None and mail.subject is None and not mail.files:
        raise PermanentError(
            "không đọc được thư: thiếu người gửi, tiêu đề và tệp / "
            "unreadable mail: no sender, subject or files"
        )
    ref = find_reference(mail.subject, mail.body)
    subject = clean_subject(ref.subject or _FORWARD.sub("", mail.subject or "")) or ""
    abbr = None
    if ref.notation:
        abbr = ref.notation.split("-", 1)[0].split("/")[-1]
    return Document(
        issuer=_issuer(mail, entry),
        number=ref.number,
        notation=ref.notation,
        issued_on=ref.issued_on,
        type_name=ref.type_name or type_name_for(None, abbr),
        subject=subject,
        content=mail.body or None,
        priority=_priority(ref),
        attachments=stored if stored is not None else _attachments(mail.files),
        review_reason=_review_reason(ref),
    )


def to_document(record: RawRecord) -> Document:
    """The pure mapper the pipeline calls on a stored mail record."""
    if record.error is not None:
        raise PermanentError(record.error)
    stored = record.attachments if record.attachments else None
    return map_mail(record.payload, _organ_from_media_type(record.media_type), stored=stored)


def message_key(data: bytes, message_id: str | None) -> tuple[str, str]:
    """(`external_id`, `version`): the Message-ID (else the content hash) and the content hash.

    A message never changes, so a re-read after a UIDVALIDITY change is the same record.
    """
    digest = hashlib.sha256(data).hexdigest()
    return (message_id or f"sha256:{digest}"), digest[:32]


def read_file(data: bytes, filename: str) -> RawRecord:
    """A raw record from one `.eml` file (for `lienthong normalize`); no address book applies."""
    if not data.strip():
        raise PermanentError(f"tệp rỗng / empty file: {filename}")
    mail = read_mail(data)
    if mail.sender_address is None and mail.subject is None:
        raise PermanentError(
            f"không phải thư điện tử (RFC 5322) / not an e-mail message (RFC 5322): {filename}"
        )
    external_id, version = message_key(data, mail.message_id)
    return RawRecord(
        source="file",
        unit="",
        external_id=external_id,
        version=version,
        media_type=MEDIA_TYPE,
        payload=data,
        received_at=dt.datetime.now(VN_TZ),
    )
