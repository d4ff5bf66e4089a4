"""Reading one GetIncomingDocuments answer into its `Document` items, salvaging broken pages.

A well-formed answer is parsed whole. One that is not (a broken document, a hostile DOCTYPE)
is cut at its `<Document>` boundaries and each piece parsed alone, so the good documents still
flow and only the bad one becomes an error record. Nothing is ever entity-expanded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree  # type: ignore[import-untyped]

from adapters.idesk.soap import (
    IDESK_NS,
    SOAP_NS,
    XSI_NS,
    HostileXmlError,
    child,
    children,
    descendants,
    entity_refusal,
    hostile_doctype,
    parse_xml,
    text_of,
)
from bridge.errors import PermanentError

_CHUNK = re.compile(rb"<(?:[\w.-]+:)?Document[\s>].*?</(?:[\w.-]+:)?Document\s*>", re.DOTALL)
_DOCUMENTS_OPEN = re.compile(rb"<(?:[\w.-]+:)?Documents\s*>")
_TOTAL = re.compile(rb"<(?:[\w.-]+:)?TotalRecord>\s*(\d+)\s*<")
_ID = re.compile(rb"<(?:[\w.-]+:)?DocumentID>\s*([0-9A-Za-z{}-]{1,64})\s*<")
_MODIFIED = re.compile(rb"<(?:[\w.-]+:)?ModifiedDate>\s*([0-9T:.-]{10,32})\s*<")
_ENTITY_REF = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);|#)[\w.-]+;")
_WRAP_OPEN = f'<Documents xmlns="{IDESK_NS}" xmlns:soap="{SOAP_NS}" xmlns:xsi="{XSI_NS}">'.encode()


@dataclass(frozen=True)
class Item:
    """One `Document` of a page: its element, or why it could not be read."""

    payload: bytes
    element: etree._Element | None = None
    error: str | None = None
    document_id: str | None = None
    modified: str | None = None


@dataclass(frozen=True)
class ReadPage:
    items: list[Item]
    total: int | None
    is_salvaged: bool = False


def read_page(data: bytes) -> ReadPage:
    """The documents of one answer. Raises PermanentError when none can be read at all."""
    try:
        root = parse_xml(data)
    except PermanentError as exc:
        return _salvage(data, exc)
    result = next(descendants(root, "GetIncomingDocumentsResult"), None)
    if result is None:
        raise PermanentError(
            "trả lời thiếu 'GetIncomingDocumentsResult' / answer lacks 'GetIncomingDocumentsResult'"
        )
    holder = child(result, "Documents")
    elements = list(children(holder, "Document")) if holder is not None else []
    return ReadPage(items=[item_of(el) for el in elements], total=_total(result))


def item_of(el: etree._Element) -> Item:
    return Item(
        payload=etree.tostring(el, encoding="utf-8", with_tail=False),
        element=el,
        document_id=_strip(text_of(child(el, "DocumentID"))),
        modified=_strip(text_of(child(el, "ModifiedDate"))),
    )


def _strip(value: str | None) -> str | None:
    return value.strip() if value is not None else None


def _total(result: etree._Element) -> int | None:
    raw = _strip(text_of(child(result, "TotalRecord")))
    return int(raw) if raw is not None and raw.isdigit() else None


def _salvage(data: bytes, cause: PermanentError) -> ReadPage:
    chunks = list(_CHUNK.finditer(data))
    if not chunks:
        raise cause
    opening = _DOCUMENTS_OPEN.search(data)
    prolog_end = opening.end() if opening is not None else 0
    previous_end = prolog_end if prolog_end <= chunks[0].start() else 0
    prolog_doctype = hostile_doctype(data[:previous_end])
    page_reason = entity_refusal(prolog_doctype) if prolog_doctype is not None else None
    items: list[Item] = []
    for match in chunks:
        own_doctype = hostile_doctype(data[previous_end : match.start()])
        reason = entity_refusal(own_doctype) if own_doctype is not None else None
        items.append(_salvage_chunk(match.group(0), reason, page_reason))
        previous_end = match.end()
    total = _TOTAL.search(data)
    return ReadPage(items=items, total=int(total.group(1)) if total else None, is_salvaged=True)


def _salvage_chunk(chunk: bytes, own_reason: str | None, page_reason: str | None) -> Item:
    document_id = _first(_ID, chunk)
    modified = _first(_MODIFIED, chunk)
    if own_reason is None and page_reason is not None and _ENTITY_REF.search(chunk):
        own_reason = page_reason
    if own_reason is None:
        try:
            wrapper = parse_xml(_WRAP_OPEN + chunk + b"</Documents>")
            return item_of(wrapper[0])
        except HostileXmlError as exc:
            own_reason = exc.reason
        except PermanentError as exc:
            own_reason = f"Document hỏng trong trang / broken Document in page: {exc.reason}"
    return Item(payload=chunk, error=own_reason, document_id=document_id, modified=modified)


def _first(pattern: re.Pattern[bytes], chunk: bytes) -> str | None:
    found = pattern.search(chunk)
    return found.group(1).decode("ascii") if found else None
