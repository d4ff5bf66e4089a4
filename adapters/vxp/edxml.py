"""Reads and writes edXML (QCVN 102:2016) document and status messages, safely.

Parsing never expands entities, never touches the network and refuses any DOCTYPE. It builds a
light tree: from lxml's own tree for a message too small to hold a text node past libxml2's
limit (no Python call per parser event), else through an lxml parser target, so huge-tree mode
stays off while multi-megabyte base64 attachments (one text node each) still parse. Elements are
matched by local name: the namespace may be the default one or redeclared with the `edXML:`
prefix.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped

from adapters.vxp.emit import emit_document, emit_status
from adapters.vxp.message import (
    ELEMENT_NAMES,
    NAMESPACE,
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

__all__ = ["EdxmlError", "emit_document", "emit_status", "parse_message"]

T = TypeVar("T")


class EdxmlError(ValueError):
    """The bytes are not a readable edXML message; `str(exc)` is the operator-facing reason."""


class _Node:
    """One element of the light tree: local name, namespace, attributes, children, text."""

    __slots__ = ("attrib", "children", "local", "ns", "parts")

    def __init__(self, tag: str, attrib: dict[str, str]) -> None:
        ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        self.ns = ns
        self.local = local
        self.attrib = attrib
        self.children: list[_Node] = []
        self.parts: list[str] = []

    @property
    def text(self) -> str | None:
        return "".join(self.parts) or None

    def child(self, local: str) -> _Node | None:
        return next((c for c in self.children if c.local == local), None)

    def all(self, local: str) -> list[_Node]:
        return [c for c in self.children if c.local == local]

    def leaf(self, local: str) -> str | None:
        node = self.child(local)
        return None if node is None else node.text


class _Builder:
    """lxml parser target building `_Node`s; refuses a DOCTYPE outright."""

    def __init__(self) -> None:
        self.stack: list[_Node] = []
        self.root: _Node | None = None

    def start(self, tag: str, attrib: dict[str, str], nsmap: Any = None) -> None:
        node = _Node(tag, dict(attrib))
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def data(self, data: str) -> None:
        if self.stack:
            self.stack[-1].parts.append(data)

    def doctype(self, *args: Any) -> None:
        raise EdxmlError(_DOCTYPE_REFUSED)

    def comment(self, text: str) -> None:
        return None

    def pi(self, target: str, data: str | None = None) -> None:
        return None

    def close(self) -> _Node | None:
        return self.root


_DOCTYPE_REFUSED = (
    "edXML có khai báo DOCTYPE/ENTITY, bị từ chối / edXML declares a DOCTYPE (refused)"
)


# Below this size no text node can reach libxml2's 10 MB limit without huge-tree mode.
_C_TREE_MAX_BYTES = 8 * 1024 * 1024


def _from_element(el: Any) -> _Node:
    """The light tree of an lxml element (text and the children's tails, in order, as the
    parser target collects them)."""
    node = _Node(el.tag, dict(el.attrib))
    if el.text:
        node.parts.append(el.text)
    for child in el:
        node.children.append(_from_element(child))
        if child.tail:
            node.parts.append(child.tail)
    return node


def _c_tree(data: bytes) -> _Node | None:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        el = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise EdxmlError(f"edXML không đúng cú pháp XML / malformed XML: {exc}") from exc
    if el.getroottree().docinfo.doctype:
        raise EdxmlError(_DOCTYPE_REFUSED)
    return _from_element(el)


def _tree(data: bytes) -> _Node:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise EdxmlError(_DOCTYPE_REFUSED)
    root: _Node | None = _c_tree(data) if len(data) <= _C_TREE_MAX_BYTES else _target_tree(data)
    if root is None or root.local != "edXML":
        raise EdxmlError("không phải thông điệp edXML / not an edXML message")
    if root.ns not in (NAMESPACE, ""):
        raise EdxmlError(f"không gian tên edXML lạ / unknown edXML namespace {root.ns!r}")
    return root


def _target_tree(data: bytes) -> _Node | None:
    parser = etree.XMLParser(
        target=_Builder(),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
    )
    try:
        root: _Node | None = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise EdxmlError(f"edXML không đúng cú pháp XML / malformed XML: {exc}") from exc
    return root


def _require(node: _Node | None, local: str) -> _Node:
    found = None if node is None else node.child(local)
    if found is None:
        raise EdxmlError(f"thiếu phần tử bắt buộc '{local}' / missing mandatory element '{local}'")
    return found


def _flat(node: _Node | None, cls: type[T]) -> T | None:
    """A flat dataclass from leaf children named as its fields (see `ELEMENT_NAMES`)."""
    if node is None:
        return None
    names = ELEMENT_NAMES[cls]
    return cls(**{f: node.leaf(e) for f, e in names.items()})


def parse_message(data: bytes) -> EdxmlMessage | StatusMessage:
    """Parse one edXML file. Raises EdxmlError (a ValueError) with the reason when unreadable.

    Attachments stay base64 text; nothing is decoded here.
    """
    root = _tree(data)
    header = _require(_require(root, "edXMLEnvelope"), "edXMLHeader")
    message = _require(header, "MessageHeader")
    traces = header.child("TraceHeaderList")
    trace_items = tuple(_flat_req(t, TraceHeader) for t in _all(traces, "TraceHeader"))
    sender = _flat_req(_require(message, "From"), OrganInfo)
    if message.child("StatusCode") is not None:
        return StatusMessage(
            sender=sender,
            response_for=_flat_req(_require(message, "ResponseFor"), ResponseFor),
            status_code=message.leaf("StatusCode"),
            description=message.leaf("Description"),
            timestamp=message.leaf("Timestamp"),
            staff=_flat(message.child("StaffInfo"), StaffInfo),
            traces=trace_items,
        )
    return _document(root, header, message, sender, trace_items)


def _flat_req(node: _Node, cls: type[T]) -> T:
    value = _flat(node, cls)
    assert value is not None
    return value


def _document(
    root: _Node, header: _Node, mh: _Node, sender: OrganInfo, traces: tuple[TraceHeader, ...]
) -> EdxmlMessage:
    other = mh.child("OtherInfo")
    trace_list = header.child("TraceHeaderList")
    signature = header.child("Signature")
    body = _require(root, "edXMLEnvelope").child("edXMLBody")
    manifest = body.child("edXMLManifest") if body else None
    encoded = root.child("AttachmentEncoded")
    return EdxmlMessage(
        sender=sender,
        recipients=tuple(_flat_req(n, OrganInfo) for n in mh.all("To")),
        document_id=mh.leaf("DocumentId"),
        code=_flat(mh.child("Code"), Code),
        promulgation=_flat(mh.child("PromulgationInfo"), PromulgationInfo),
        document_type=_flat(mh.child("DocumentType"), DocumentTypeInfo),
        subject=mh.leaf("Subject"),
        content=mh.leaf("Content"),
        signer=_flat(mh.child("SignerInfo"), SignerInfo),
        due_date=mh.leaf("DueDate"),
        to_places=_texts(mh.child("ToPlaces"), "Place"),
        other_info=_other_info(other),
        response_for=tuple(_flat_req(n, ResponseFor) for n in mh.all("ResponseFor")),
        steering_type=mh.leaf("SteeringType"),
        traces=traces,
        business=_business(trace_list.child("Bussiness") if trace_list else None),
        signature=_serialize(signature) if signature is not None else None,
        manifest=tuple(_flat_req(n, ManifestReference) for n in _all(manifest, "Reference")),
        attachments=tuple(_attachment(n) for n in _all(encoded, "Attachment")),
    )


def _all(node: _Node | None, local: str) -> list[_Node]:
    return [] if node is None else node.all(local)


def _texts(node: _Node | None, local: str) -> tuple[str, ...]:
    return tuple(n.text or "" for n in _all(node, local))


def _other_info(node: _Node | None) -> OtherInfo | None:
    if node is None:
        return None
    flat = _flat_req(node, OtherInfo)
    return OtherInfo(
        **{f.name: getattr(flat, f.name) for f in fields(OtherInfo) if f.name != "appendixes"},
        appendixes=_texts(node.child("Appendixes"), "Appendix"),
    )


def _business(node: _Node | None) -> Business | None:
    if node is None:
        return None
    info = node.child("BussinessDocumentInfo")
    receivers = info.child("ReceiverList") if info else None
    replacements = node.child("ReplacementInfoList")
    return Business(
        doc_type=node.leaf("BussinessDocType"),
        reason=node.leaf("BussinessDocReason"),
        paper=node.leaf("Paper"),
        document_id=node.leaf("DocumentId"),
        staff=_flat(node.child("StaffInfo"), StaffInfo),
        document_info=info.leaf("DocumentInfo") if info else None,
        document_receiver=info.leaf("DocumentReceiver") if info else None,
        receivers=tuple(_flat_req(n, Receiver) for n in _all(receivers, "Receiver")),
        replacements=tuple(
            ReplacementInfo(
                document_id=n.leaf("DocumentId"),
                organ_ids=_texts(n.child("OrganIdList"), "OrganId"),
            )
            for n in _all(replacements, "ReplacementInfo")
        ),
    )


def _attachment(node: _Node) -> InlineAttachment:
    return InlineAttachment(
        content_id=node.leaf("ContentId"),
        name=node.leaf("AttachmentName"),
        content_type=node.leaf("ContentType"),
        description=node.leaf("Description"),
        encoded=node.leaf("ContentTransferEncoded") or "",
    )


def _serialize(node: _Node) -> str:
    """Re-serialize a kept subtree (the XML signature) with lxml's escaping."""
    element = _to_lxml(node)
    return str(etree.tostring(element, encoding="unicode"))


def _to_lxml(node: _Node) -> Any:
    tag = f"{{{node.ns}}}{node.local}" if node.ns else node.local
    element = etree.Element(tag, node.attrib, nsmap={None: node.ns} if node.ns else None)
    _fill(element, node)
    return element


def _fill(element: Any, node: _Node) -> None:
    if not node.children:
        element.text = node.text
    for child in node.children:
        tag = f"{{{child.ns}}}{child.local}" if child.ns else child.local
        sub = etree.SubElement(element, tag, child.attrib)
        _fill(sub, child)
