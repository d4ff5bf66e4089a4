"""Reading one official mail (RFC 5322 / MIME): headers, body text, document files, and the
number, notation, date and subject its subject line or body states.

Pure functions over bytes and strings; nothing here touches the network or the blob store.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser

from bridge.normalize import clean_text, parse_date, parse_symbol, type_name_for, unify_marks

# A số/ký hiệu: a number, a slash, then a notation that starts with a letter (so that the date
# "24/3/2014" is not one). Dashes are unified first (`unify_marks`); across a spaced dash or
# slash only a segment in capitals continues it ("189 /QĐ - UBND - Về việc …" stops before
# "Về", "358/ UBND - KT - V/v …" before "V/v").
_CAPITALS = r"(?-i:(?!V/v)[A-ZĐ0-9][A-ZĐ0-9&]*(?![^\W_]))"
SYMBOL = (
    r"(?<![\w/])\d{1,9}[a-zA-Z]?\s?/\s?(?:(?:19|20)\d\d/)?[^\W\d_][\w&.\-/]*(?<![.\-/])"
    rf"(?:\s*[-/]\s*{_CAPITALS})*"
)
DATE = (
    r"(?<!\d)\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*(?:19|20)\d\d(?!\d)"
    r"|ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}"
)
# forwarding and reply marks, and the prefixes of a sender's later versions ("Cập nhật: ",
# "Thu hồi: ", mailbox.md "Sending"), before the subject's own shape
_FORWARD = re.compile(
    r"^\s*(?:(?:fwd?|re|tr|tl|chuyển tiếp|trả lời|cập nhật|thu hồi)\s*:\s*)+", re.IGNORECASE
)
_NUMBER_FIRST = re.compile(
    rf"^\W*(?:số|so)?\s*:?\s*(?P<sym>{SYMBOL})\s*(?:,?\s*ngày\s*(?P<date>{DATE}))?"
    rf"\s*[-–—:,]?\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_TAGGED = re.compile(
    rf"^\s*\[[^\]]*\]\s*(?:[^\W\d_]{{1,4}}\s+)?(?P<sym>{SYMBOL})\s*"
    rf"\(\s*(?P<date>{DATE})\s*\)\s*[-–—:,]?\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_SYMBOL_RE = re.compile(SYMBOL)
_DATE_RE = re.compile(DATE, re.IGNORECASE)
_NEAR_DATE = re.compile(rf"^\W{{0,3}}(?:,?\s*ngày\s*)?(?P<date>{DATE})", re.IGNORECASE)
_STATED_TYPE = re.compile(
    rf"gửi\s+(?P<type>[^\W\d_]+(?:\s+[^\W\d_]+){{0,2}}?)\s+số\s*:?\s*(?={SYMBOL})",
    re.IGNORECASE,
)
_ABOUT = re.compile(r"\bvề\s+việc\s+(?P<text>[^\n]+?)\s*\.?\s*$", re.IGNORECASE | re.MULTILINE)
_SENT_DOCUMENT = re.compile(
    r"\bgửi\s+văn\s+bản\s+(?P<text>[^\n(]+?)\s*(?:\([^)\n]*\))?\s*\.?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_URGENCY = re.compile(r"^\W*(?P<label>hỏa tốc|hoả tốc|thượng khẩn|khẩn)\b\W*", re.IGNORECASE)
_SIGNATURE_TYPES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
_DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".odt", ".rtf", ".xls", ".xlsx", ".ods", ".zip")
_DOCUMENT_TYPES = frozenset({"application/pdf", "application/msword", "application/zip"})


@dataclass(frozen=True)
class MailFile:
    """One document file carried by the mail, decoded from its transfer encoding."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Reference:
    """What the mail says about the document it carries; any field may be missing."""

    number: str | None = None
    notation: str | None = None
    issued_on: dt.date | None = None
    subject: str | None = None
    type_name: str | None = None
    urgency: str | None = None


@dataclass(frozen=True)
class Mail:
    """The parts of a message the mapper needs."""

    message_id: str | None
    subject: str | None
    sender_address: str | None
    sender_name: str | None
    body: str
    files: tuple[MailFile, ...]


def read_mail(data: bytes) -> Mail:
    """Parse a message. Never raises on malformed MIME: the email package records defects."""
    msg = BytesParser(policy=policy.default).parsebytes(data)
    address, name = _sender(msg)
    message_id = _header(msg, "Message-ID")
    return Mail(
        message_id=message_id.strip().strip("<>").strip() or None if message_id else None,
        subject=clean_text(_header(msg, "Subject")),
        sender_address=address,
        sender_name=clean_text(name),
        body=body_text(msg),
        files=tuple(document_files(msg)),
    )


def _header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except (ValueError, LookupError, TypeError):  # a broken encoded-word or charset name
        raw = msg.get_all(name, failobj=[])
        value = str(raw[0]) if raw else None
    return None if value is None else str(value)


def _sender(msg: Message) -> tuple[str | None, str | None]:
    try:
        header = msg.get("From")
        addresses = getattr(header, "addresses", ())
    except (ValueError, LookupError, TypeError):
        return None, None
    if not addresses:
        return None, None
    first = addresses[0]
    address = first.addr_spec.strip().lower() or None
    return address, _display_name(msg) or first.display_name or None


def _display_name(msg: Message) -> str | None:
    """The From display name with adjacent encoded-words joined as RFC 2047 says (the address
    parser leaves a space where a sender split "Đồn" into two encoded-words)."""
    raw = next((v for k, v in msg.raw_items() if k.lower() == "from"), None)
    if raw is None:
        return None
    try:
        decoded = str(make_header(decode_header(raw)))
    except (ValueError, LookupError, UnicodeDecodeError):
        return None
    name, _ = parseaddr(decoded)
    return name or None


class _TextOfHtml(HTMLParser):
    """Collects the visible text of an HTML body; scripts, styles and images give nothing."""

    _HIDDEN = frozenset({"script", "style", "head", "title"})
    _BREAKS = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        elif tag in self._BREAKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._hidden_depth:
            self._hidden_depth -= 1
        elif tag in self._BREAKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, one line per block element."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.chunks).splitlines())
    return "\n".join(line for line in lines if line)


def body_text(msg: EmailMessage) -> str:
    """The message's text: its text/plain body, else its text/html body without tags."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError):  # unknown charset: keep what decodes
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(text, str):
        return ""
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    lines = (clean_text(line) or "" for line in text.splitlines())
    return "\n".join(lines).strip()


def _is_document(part: Message, name: str | None) -> bool:
    ctype = part.get_content_type()
    lower = (name or "").lower()
    if ctype.startswith(("image/", "text/", "multipart/")) or ctype in _SIGNATURE_TYPES:
        return False
    if lower.endswith((".p7s", ".p7m", ".sig", ".asc")):
        return False
    if part.get_content_disposition() == "inline" and part.get("Content-ID"):
        return False  # a logo or picture referenced from the HTML body
    return lower.endswith(_DOCUMENT_SUFFIXES) or ctype in _DOCUMENT_TYPES


def safe_file_name(name: str | None, index: int, content_type: str) -> str:
    """The part's file name without any directory part or control characters."""
    cleaned = clean_text(name) or ""
    cleaned = re.sub(r"[\x00-\x1f\x7f]", "", cleaned).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = cleaned.strip(" .")
    if cleaned:
        return cleaned
    return f"tep-{index}.pdf" if content_type == "application/pdf" else f"tep-{index}"


def document_files(msg: EmailMessage) -> list[MailFile]:
    """The files that are the document (PDFs, office files); not signatures, logos or images."""
    files: list[MailFile] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            name = part.get_filename()
        except (ValueError, LookupError):
            name = None
        if not _is_document(part, name):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        ctype = part.get_content_type()
        files.append(MailFile(safe_file_name(name, len(files) + 1, ctype), ctype, data))
    return files


def _symbol_parts(text: str) -> tuple[str | None, str | None]:
    try:
        symbol = parse_symbol(text)
    except ValueError:
        return None, None
    return symbol.number, symbol.notation


def _date_of(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return parse_date(" ".join(text.split()))
    except ValueError:
        return None


def _clean_rest(rest: str | None) -> str | None:
    return clean_text((rest or "").strip(" -–—:,;."))


def from_subject(subject: str | None) -> Reference:
    """Number, notation, date and trích yếu from the subject shapes the profile lists."""
    written = _FORWARD.sub("", subject or "")
    urgency_match = _URGENCY.match(written)
    urgency = urgency_match.group("label") if urgency_match else None
    if urgency_match:
        written = written[urgency_match.end() :]
    # matched with dashes unified (one character for one: the offsets hold in `written`)
    text = unify_marks(written)
    match = _TAGGED.match(text) or _NUMBER_FIRST.match(text)
    if match is None:
        found = _SYMBOL_RE.search(text)
        if found is None:
            return Reference(urgency=urgency)
        number, notation = _symbol_parts(found.group(0))
        date_match = _DATE_RE.search(text)
        issued = _date_of(date_match.group(0) if date_match else None)
        return Reference(number, notation, issued, urgency=urgency)
    number, notation = _symbol_parts(match.group("sym"))
    issued = _date_of(match.group("date"))
    if issued is None:
        date_match = _DATE_RE.search(match.group("rest"))
        issued = _date_of(date_match.group(0) if date_match else None)
    rest = written[match.start("rest") : match.end("rest")]
    return Reference(number, notation, issued, _clean_rest(rest), urgency=urgency)


def from_body(body: str) -> Reference:
    """Number, notation, date, stated type and trích yếu from the sentence naming the document."""
    written, body = body, unify_marks(body)  # one character for one: offsets hold in both
    found = _SYMBOL_RE.search(body)
    if found is None:
        sent = _SENT_DOCUMENT.search(body)
        return Reference(subject=_clean_rest(sent.group("text")) if sent else None)
    number, notation = _symbol_parts(found.group(0))
    near = _NEAR_DATE.match(body[found.end() : found.end() + 60])
    issued = _date_of(near.group("date") if near else None)
    line_end = body.find("\n", found.end())
    line = written[found.end() : None if line_end < 0 else line_end]
    about = _ABOUT.search(line)
    subject: str | None = None
    if about:
        text = about.group("text").strip(" .")
        subject = text if text[:1].isupper() else f"V/v {text}"
    stated = None
    for match in _STATED_TYPE.finditer(body[: found.end()]):
        stated = match.group("type")
    type_name = type_name_for(stated) if stated and stated.lower() != "văn bản" else None
    return Reference(number, notation, issued, _clean_rest(subject), type_name)


def find_reference(subject: str | None, body: str) -> Reference:
    """Combine the subject line and the body: the subject wins for each field it states."""
    head = from_subject(subject)
    tail = from_body(body)
    same_document = head.number is None or head.number == tail.number
    return Reference(
        number=head.number or tail.number,
        notation=head.notation or (tail.notation if head.number is None else None),
        issued_on=head.issued_on or (tail.issued_on if same_document else None),
        subject=head.subject or tail.subject,
        type_name=tail.type_name if same_document else None,
        urgency=head.urgency,
    )
