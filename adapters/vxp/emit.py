"""Writes edXML document and status messages (the inverse of `adapters.vxp.edxml.parse_message`).

A None leaf is left out; an empty tuple leaves its list element empty or out. The root declares
the edXML namespace as default; an XML signature kept from a parsed message is written back as
it was re-serialized.
"""

from __future__ import annotations

from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped

from adapters.vxp.message import (
    ELEMENT_NAMES,
    NAMESPACE,
    Business,
    EdxmlMessage,
    InlineAttachment,
    OtherInfo,
    StatusMessage,
    TraceHeader,
)


def _q(local: str) -> str:
    return f"{{{NAMESPACE}}}{local}"


def _leaf(parent: Any, local: str, value: str | None) -> None:
    if value is not None:
        etree.SubElement(parent, _q(local)).text = value


def _flat(parent: Any, local: str, value: object | None) -> None:
    if value is None:
        return
    element = etree.SubElement(parent, _q(local))
    for field, name in ELEMENT_NAMES[type(value)].items():
        _leaf(element, name, getattr(value, field))


def _texts(parent: Any, local: str, item: str, values: tuple[str, ...]) -> Any:
    element = etree.SubElement(parent, _q(local))
    for value in values:
        etree.SubElement(element, _q(item)).text = value
    return element


def _envelope() -> tuple[Any, Any, Any]:
    root = etree.Element(_q("edXML"), nsmap={None: NAMESPACE})
    envelope = etree.SubElement(root, _q("edXMLEnvelope"))
    header = etree.SubElement(envelope, _q("edXMLHeader"))
    return root, envelope, header


def _traces(header: Any, traces: tuple[TraceHeader, ...], business: Business | None) -> None:
    if not traces and business is None:
        return
    element = etree.SubElement(header, _q("TraceHeaderList"))
    for trace in traces:
        _flat(element, "TraceHeader", trace)
    if business is not None:
        _business(element, business)


def _business(parent: Any, business: Business) -> None:
    element = etree.SubElement(parent, _q("Bussiness"))
    _leaf(element, "BussinessDocType", business.doc_type)
    _leaf(element, "BussinessDocReason", business.reason)
    _leaf(element, "Paper", business.paper)
    _leaf(element, "DocumentId", business.document_id)
    _flat(element, "StaffInfo", business.staff)
    flags = (business.document_info, business.document_receiver)
    if any(flag is not None for flag in flags) or business.receivers:
        info = etree.SubElement(element, _q("BussinessDocumentInfo"))
        _leaf(info, "DocumentInfo", business.document_info)
        _leaf(info, "DocumentReceiver", business.document_receiver)
        receivers = etree.SubElement(info, _q("ReceiverList"))
        for receiver in business.receivers:
            _flat(receivers, "Receiver", receiver)
    if business.replacements:
        replacements = etree.SubElement(element, _q("ReplacementInfoList"))
        for item in business.replacements:
            entry = etree.SubElement(replacements, _q("ReplacementInfo"))
            _leaf(entry, "DocumentId", item.document_id)
            _texts(entry, "OrganIdList", "OrganId", item.organ_ids)


def _other_info(parent: Any, other: OtherInfo | None) -> None:
    if other is None:
        return
    element = etree.SubElement(parent, _q("OtherInfo"))
    for field, name in ELEMENT_NAMES[OtherInfo].items():
        _leaf(element, name, getattr(other, field))
    _texts(element, "Appendixes", "Appendix", other.appendixes)


def _signature(header: Any, signature: str | None) -> None:
    if signature is None:
        return
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    header.append(etree.fromstring(signature.encode("utf-8"), parser))


def _attachments(root: Any, attachments: tuple[InlineAttachment, ...]) -> None:
    encoded = etree.SubElement(root, _q("AttachmentEncoded"))
    for item in attachments:
        element = etree.SubElement(encoded, _q("Attachment"))
        _leaf(element, "ContentId", item.content_id)
        _leaf(element, "AttachmentName", item.name)
        _leaf(element, "ContentType", item.content_type)
        _leaf(element, "Description", item.description)
        etree.SubElement(element, _q("ContentTransferEncoded")).text = item.encoded


def _header(parent: Any, msg: EdxmlMessage) -> None:
    mh = etree.SubElement(parent, _q("MessageHeader"))
    _flat(mh, "From", msg.sender)
    for recipient in msg.recipients:
        _flat(mh, "To", recipient)
    _leaf(mh, "DocumentId", msg.document_id)
    _flat(mh, "Code", msg.code)
    _flat(mh, "PromulgationInfo", msg.promulgation)
    _flat(mh, "DocumentType", msg.document_type)
    _leaf(mh, "Subject", msg.subject)
    _leaf(mh, "Content", msg.content)
    _flat(mh, "SignerInfo", msg.signer)
    _leaf(mh, "DueDate", msg.due_date)
    _texts(mh, "ToPlaces", "Place", msg.to_places)
    _other_info(mh, msg.other_info)
    for response in msg.response_for:
        _flat(mh, "ResponseFor", response)
    _leaf(mh, "SteeringType", msg.steering_type)


def emit_document(msg: EdxmlMessage) -> bytes:
    """The edXML file of a document message, UTF-8 with an XML declaration."""
    root, envelope, header = _envelope()
    _header(header, msg)
    _traces(header, msg.traces, msg.business)
    _signature(header, msg.signature)
    body = etree.SubElement(envelope, _q("edXMLBody"))
    manifest = etree.SubElement(body, _q("edXMLManifest"), version="1.0")
    for reference in msg.manifest:
        _flat(manifest, "Reference", reference)
    _attachments(root, msg.attachments)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def emit_status(msg: StatusMessage) -> bytes:
    """The edXML file of a status message, UTF-8 with an XML declaration."""
    root, _, header = _envelope()
    mh = etree.SubElement(header, _q("MessageHeader"))
    _flat(mh, "From", msg.sender)
    _flat(mh, "ResponseFor", msg.response_for)
    _flat(mh, "StaffInfo", msg.staff)
    etree.SubElement(mh, _q("StatusCode")).text = msg.status_code
    _leaf(mh, "Description", msg.description)
    _leaf(mh, "Timestamp", msg.timestamp)
    _traces(header, msg.traces, None)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
