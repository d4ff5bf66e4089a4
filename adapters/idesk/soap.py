"""SOAP 1.1 for iDesk: building request envelopes, parsing hostile XML safely, mapping faults.

Every byte from the wire goes through `parse_xml`: no DTD is loaded, no entity is expanded,
nothing is fetched, and a DOCTYPE that declares entities is refused before lxml sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

from lxml import etree  # type: ignore[import-untyped]

from bridge.errors import AuthError, BridgeError, PermanentError, TransientError

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
IDESK_NS = "http://idesk.vn/services/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SERVICE_PATH = "/services/DocumentService.asmx"

_DOCTYPE = re.compile(rb"<!DOCTYPE\b(?:[^\[>]*\[.*?\]\s*>|[^>]*>)", re.DOTALL)
_ENTITY_DECL = re.compile(rb"<!ENTITY\b", re.IGNORECASE)
_PARAMETER_ENTITY = re.compile(rb"<!ENTITY\s+%")
_EXTERNAL_ENTITY = re.compile(rb"<!ENTITY\s+(?:%\s*)?[\w.-]+\s+(?:SYSTEM|PUBLIC)\b")
_CREDENTIAL_WORDS = (
    "credential",
    "password",
    "username",
    "user name",
    "login",
    "logon",
    "authenticat",
    "unauthori",
    "mật khẩu",
    "đăng nhập",
    "xác thực",
    "tài khoản",
)


class HostileXmlError(PermanentError):
    """The XML declares entities (XXE, billion laughs): refused without being parsed."""


def soap_action(operation: str) -> str:
    """The quoted SOAPAction header value for `operation`."""
    return f'"{IDESK_NS}{operation}"'


def build_envelope(operation: str, fields: Iterable[tuple[str, str]]) -> bytes:
    """A SOAP 1.1 request whose operation element holds `fields` in order, text escaped."""
    children = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body>'
        f'<{operation} xmlns="{IDESK_NS}">{children}</{operation}>'
        "</soap:Body></soap:Envelope>"
    ).encode()


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def entity_refusal(doctype: bytes) -> str:
    """Operator-facing reason for refusing a DOCTYPE with entity declarations."""
    if _PARAMETER_ENTITY.search(doctype):
        return (
            "XML khai báo thực thể tham số (XXE), bị từ chối / "
            "XML declares a parameter entity (XXE), refused"
        )
    if _EXTERNAL_ENTITY.search(doctype):
        return (
            "XML khai báo thực thể ngoài (XXE), bị từ chối / "
            "XML declares an external entity (XXE), refused"
        )
    return (
        "XML khai báo thực thể lồng nhau (billion laughs), bị từ chối / "
        "XML declares entities (billion laughs expansion), refused"
    )


def hostile_doctype(data: bytes) -> bytes | None:
    """The first DOCTYPE in `data` that declares entities, or None."""
    for match in _DOCTYPE.finditer(data):
        if _ENTITY_DECL.search(match.group(0)):
            return match.group(0)
    return None


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML into its root element.

    Raises HostileXmlError for a DOCTYPE declaring entities, PermanentError for XML that is
    not well-formed (the reason carries lxml's message).
    """
    doctype = hostile_doctype(data)
    if doctype is not None:
        raise HostileXmlError(entity_refusal(doctype))
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise PermanentError(f"XML không hợp lệ / malformed XML: {str(exc)[:200]}") from exc
    if root is None:
        raise PermanentError("XML rỗng / empty XML")
    return root


def local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]  # "{namespace}name" or "name"


def child(el: etree._Element, name: str) -> etree._Element | None:
    """The first child element named `name` in any namespace (iDesk mixes both)."""
    found: etree._Element | None = el.find("{*}" + name)
    return found


def children(el: etree._Element, name: str) -> Iterator[etree._Element]:
    return (sub for sub in el if local_name(sub) == name)


def descendants(el: etree._Element, name: str) -> Iterator[etree._Element]:
    return (sub for sub in el.iter() if local_name(sub) == name)


def text_of(el: etree._Element | None) -> str | None:
    """Element text (CDATA included), None when absent, `xsi:nil` or blank."""
    if el is None or el.get(f"{{{XSI_NS}}}nil") in ("true", "1"):
        return None
    text = el.text
    if text is None or not text.strip():
        return None
    return str(text)


def fault_error(root: etree._Element, http_status: int) -> BridgeError | None:
    """The bridge error a SOAP Fault in `root` stands for, or None without a Fault.

    `Client` faults about credentials are AuthError, other `Client` faults PermanentError,
    `Server` faults (and anything else) TransientError.
    """
    fault = next(descendants(root, "Fault"), None)
    if fault is None:
        return None
    code = (text_of(child(fault, "faultcode")) or "").strip()
    message = (text_of(child(fault, "faultstring")) or "").strip()[:300]
    kind = code.rpartition(":")[2].split(".")[0]
    detail = f"SOAP {code or 'Fault'} (HTTP {http_status}): {message}"
    if kind == "Client":
        lowered = message.casefold()
        if any(word in lowered for word in _CREDENTIAL_WORDS):
            return AuthError(f"iDesk từ chối thông tin đăng nhập / credentials refused: {detail}")
        return PermanentError(f"iDesk từ chối yêu cầu / request refused: {detail}")
    return TransientError(f"iDesk báo lỗi máy chủ / service failure: {detail}")
