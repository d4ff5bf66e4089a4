"""A simulated iDesk DocumentService.asmx: both operations, faults, paging and awkward text.

Faithful to the profile: SOAPAction checked, credentials as the operation's first children
(a `soap:Client` fault when wrong), `soap:Server` faults on demand, pages by FromDate (on
ModifiedDate, inclusive) and PageIndex/PageSize, inline base64 files. Raw corpus `Document`
elements, hostile ones included, are served verbatim inside a page.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from aiohttp import web
from lxml import etree  # type: ignore[import-untyped]

from adapters.idesk.cursor import WIRE_FORMAT, modified_second
from adapters.idesk.soap import (
    IDESK_NS,
    SERVICE_PATH,
    SOAP_NS,
    XSI_NS,
    child,
    local_name,
    parse_xml,
    soap_action,
    text_of,
)
from bridge.errors import PermanentError
from schemas import Document, Organ, Priority, Signer
from simulators.server import SimServer

TextStyle = Literal["plain", "cdata", "nfd", "mojibake"]
MAX_PAGE_SIZE = 50
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")
_ID = re.compile(rb"<DocumentID>\s*([^<\s]+)\s*<")
_MODIFIED = re.compile(rb"<ModifiedDate>\s*([^<\s]+)\s*<")
_ENVELOPE_OPEN = (
    '<?xml version="1.0" encoding="utf-8"?>'
    f'<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:xsi="{XSI_NS}" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
)
_ENVELOPE_CLOSE = "</soap:Body></soap:Envelope>"


@dataclass
class _Entry:
    document_id: str
    unit: str | None  # None: served to every unit
    modified: str
    xml: bytes


class IdeskSim(SimServer):
    """Knobs: `text_style` (plain, CDATA, NFD, or mojibake: UTF-8 mis-read as Windows-1252;
    corpus records carry the TCVN3/VNI cases), `base64_line` (wrap Content every N
    characters), `server_faults` (the next N calls answer soap:Server), `raw_pages` (answers
    served verbatim to the next GetIncomingDocuments calls), `broken_pages` ((FromDate,
    PageIndex) → how many more answers to that query are unreadable), `broken_calls` (the
    GetIncomingDocuments calls, counted from 1 in `listings`, answered unreadable), `max_page_items` (a
    server that answers at most that many documents per page whatever PageSize asks, while
    TotalRecord counts them all), `check_soap_action`. `confirmed` lists every
    ConfirmReceived as (DocumentID, UnitCode).
    """

    profile = "idesk"

    def __init__(
        self,
        *,
        seed: int = 0,
        username: str = "vanthu",
        password: str = "idesk-secret",  # noqa: S107 - the simulator's demo account
    ) -> None:
        super().__init__(seed=seed)
        self.username = username
        self.password = password
        self.text_style: TextStyle = "plain"
        self.base64_line: int | None = None
        self.server_faults = 0
        self.raw_pages: list[bytes] = []
        self.broken_pages: dict[tuple[str, int], int] = {}
        self.broken_calls: set[int] = set()
        self.listings = 0
        self.max_page_items: int | None = None
        self.check_soap_action = True
        self.confirmed: list[tuple[str, str]] = []
        self.clock = dt.datetime(2024, 1, 2, 8, 0, 0)
        self._entries: dict[str, _Entry] = {}
        self._order: list[tuple[str, str]] = []  # (ModifiedDate, DocumentID), kept sorted
        self.app.router.add_post(SERVICE_PATH, self._handle)

    # ---- content -------------------------------------------------------------------------

    def add_document(
        self,
        doc: Document,
        files: dict[str, bytes],
        *,
        unit: str | None,
        modified: str | None = None,
        document_id: str | None = None,
    ) -> str:
        """Render `doc` as an iDesk `Document` with `files` inline; return its DocumentID."""
        doc_id = document_id or str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        xml = self._render(doc, files, doc_id, modified or self._tick()).encode()
        self._put(_Entry(doc_id, unit, modified_second(modified) or self._now(), xml))
        return doc_id

    def add_raw_document_xml(self, xml_bytes: bytes, *, unit: str | None = None) -> str:
        """Serve a captured `Document` element verbatim (a DOCTYPE before it included)."""
        xml = _XML_DECLARATION.sub(b"", xml_bytes).strip()
        found_id, found_mod = _ID.search(xml), _MODIFIED.search(xml)
        doc_id = found_id.group(1).decode() if found_id else str(uuid.uuid4())
        modified = modified_second(found_mod.group(1).decode()) if found_mod else None
        self._put(_Entry(doc_id, unit, modified or self._tick(), xml))
        return doc_id

    def touch(self, document_id: str, modified: str | None = None) -> None:
        """Change a document's ModifiedDate (as an edit in iDesk would)."""
        entry = self._entries[document_id]
        self._unindex(entry)
        entry.modified = modified or self._tick()
        entry.xml = _MODIFIED.sub(f"<ModifiedDate>{entry.modified}<".encode(), entry.xml, count=1)
        bisect.insort(self._order, (entry.modified, entry.document_id))

    def _put(self, entry: _Entry) -> None:
        """Add or replace an entry, keeping the listing order (ModifiedDate, DocumentID)."""
        old = self._entries.get(entry.document_id)
        if old is not None:
            self._unindex(old)
        self._entries[entry.document_id] = entry
        bisect.insort(self._order, (entry.modified, entry.document_id))

    def _unindex(self, entry: _Entry) -> None:
        del self._order[bisect.bisect_left(self._order, (entry.modified, entry.document_id))]

    def _tick(self) -> str:
        self.clock += dt.timedelta(seconds=1)
        return self._now()

    def _now(self) -> str:
        return self.clock.strftime(WIRE_FORMAT)

    def _text(self, value: str | None) -> str:
        if not value:
            return ""
        if self.text_style == "nfd":
            return escape(unicodedata.normalize("NFD", value))
        if self.text_style == "mojibake":  # UTF-8 bytes read back as Windows-1252
            return escape("".join(map(_sloppy_cp1252, value.encode("utf-8"))))
        if self.text_style == "cdata":
            return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
        return escape(value)

    def _element(self, name: str, value: str | None) -> str:
        return f"<{name}>{self._text(value)}</{name}>" if value else f"<{name} />"

    def _render(self, doc: Document, files: dict[str, bytes], doc_id: str, modified: str) -> str:
        signer = doc.signer
        parts = [
            f"<DocumentID>{doc_id}</DocumentID>",
            self._element("SoHieu", doc.symbol),
            self._element("NgayBanHanh", doc.issued_on.isoformat() if doc.issued_on else None),
            self._element("CoQuanBanHanh", doc.issuer.name),
            self._element("MaDinhDanh", doc.issuer.code),
            self._element("LoaiVanBan", doc.type_name),
            self._element("TrichYeu", doc.subject),
            self._element("NguoiKy", signer.name if signer else None),
            self._element("ChucVu", signer.position if signer else None),
            f"<DoKhan>{min(int(doc.priority), 3)}</DoKhan>",
            f"<DoMat>{int(doc.confidentiality)}</DoMat>",
            self._element("HanXuLy", doc.due_on.isoformat() if doc.due_on else None),
            "<NoiNhan>"
            + "".join(self._element("Ten", r.name) for r in doc.recipients if r.name)
            + "</NoiNhan>",
            f"<ModifiedDate>{modified}</ModifiedDate>",
            "<Files>" + "".join(self._file(n, b) for n, b in files.items()) + "</Files>",
        ]
        return "<Document>\n  " + "\n  ".join(parts) + "\n</Document>"

    def _file(self, name: str, data: bytes) -> str:
        content = base64.b64encode(data).decode()
        if self.base64_line:
            step = self.base64_line
            content = "\n".join(content[i : i + step] for i in range(0, len(content), step))
        mime = "application/pdf" if name.lower().endswith(".pdf") else "application/octet-stream"
        return (
            f"<File><FileName>{escape(name)}</FileName><MimeType>{mime}</MimeType>"
            f"<Size>{len(data)}</Size><Content>{content}</Content></File>"
        )

    # ---- wire ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            operation_el = _operation(parse_xml(await request.read()))
        except PermanentError as exc:
            return _fault("soap:Client", f"Yêu cầu không hợp lệ / bad request: {exc.reason}")
        operation = local_name(operation_el)
        if self.check_soap_action and request.headers.get("SOAPAction") != soap_action(operation):
            return _fault(
                "soap:Client",
                "Server did not recognize the value of HTTP Header SOAPAction: "
                f"{request.headers.get('SOAPAction', '')}",
            )
        given = [local_name(el) for el in operation_el][:2]
        user, password = (text_of(child(operation_el, n)) for n in ("Username", "Password"))
        if given != ["Username", "Password"] or (user, password) != (self.username, self.password):
            return _fault(
                "soap:Client", "Sai tên đăng nhập hoặc mật khẩu / invalid username or password"
            )
        if self.server_faults > 0:
            self.server_faults -= 1
            return _fault("soap:Server", "Lỗi hệ thống, thử lại sau / internal error, try later")
        if operation == "GetIncomingDocuments":
            return self._incoming(operation_el)
        if operation == "ConfirmReceived":
            return self._confirm(operation_el)
        return _fault("soap:Client", f"Unknown operation {operation}")

    def _incoming(self, op: etree._Element) -> web.Response:
        args = {name: (text_of(child(op, name)) or "").strip() for name in _QUERY_ARGS}
        from_date = modified_second(args["FromDate"])
        if not args["PageIndex"].isdigit() or not args["PageSize"].isdigit() or from_date is None:
            return _fault(
                "soap:Client", "Tham số không hợp lệ / invalid FromDate, PageIndex or PageSize"
            )
        index, size = int(args["PageIndex"]), int(args["PageSize"])
        if not 1 <= size <= MAX_PAGE_SIZE:
            return _fault(
                "soap:Client", f"PageSize phải từ 1 đến 50 / PageSize must be 1..50: {size}"
            )
        self.listings += 1
        if self.raw_pages:
            return _xml(self.raw_pages.pop(0))
        if self.broken_pages.get((from_date, index), 0) > 0 or self.listings in self.broken_calls:
            self.broken_pages[(from_date, index)] = self.broken_pages.get((from_date, index), 1) - 1
            return _xml(b"<html><body>502 Bad Gateway</body></html>")
        start = bisect.bisect_left(self._order, (from_date, ""))
        matching = [
            e
            for _, doc_id in self._order[start:]
            if (e := self._entries[doc_id]).unit in (None, args["UnitCode"])
        ]
        shown = min(size, self.max_page_items or size)
        return _xml(_page(matching[index * shown : index * shown + shown], len(matching)))

    def _confirm(self, op: etree._Element) -> web.Response:
        doc_id = (text_of(child(op, "DocumentID")) or "").strip()
        self.confirmed.append((doc_id, (text_of(child(op, "UnitCode")) or "").strip()))
        body = (
            f'{_ENVELOPE_OPEN}<ConfirmReceivedResponse xmlns="{IDESK_NS}">'
            f"<ConfirmReceivedResult>true</ConfirmReceivedResult></ConfirmReceivedResponse>"
            f"{_ENVELOPE_CLOSE}"
        )
        return _xml(body.encode())


_QUERY_ARGS = ("UnitCode", "FromDate", "PageIndex", "PageSize")


def _sloppy_cp1252(byte: int) -> str:
    """One byte as Windows-1252 shows it; its five unassigned bytes pass through as Latin-1."""
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


def _operation(root: etree._Element) -> etree._Element:
    body = child(root, "Body")
    if local_name(root) != "Envelope" or body is None or len(body) == 0:
        raise PermanentError("không phải phong bì SOAP / not a SOAP envelope")
    return body[0]


def _page(entries: Iterable[_Entry], total: int) -> bytes:
    head = (
        f'{_ENVELOPE_OPEN}<GetIncomingDocumentsResponse xmlns="{IDESK_NS}">'
        f"<GetIncomingDocumentsResult><TotalRecord>{total}</TotalRecord><Documents>\n"
    ).encode()
    tail = (
        "\n</Documents></GetIncomingDocumentsResult></GetIncomingDocumentsResponse>"
        + _ENVELOPE_CLOSE
    )
    return head + b"\n".join(e.xml for e in entries) + tail.encode()


def _xml(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type="text/xml", charset="utf-8")


def _fault(code: str, message: str) -> web.Response:
    body = (
        f"{_ENVELOPE_OPEN}<soap:Fault><faultcode>{code}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring><detail /></soap:Fault>{_ENVELOPE_CLOSE}"
    )
    return _xml(body.encode(), status=500)


_DEMO_SUBJECTS = (
    "V/v triển khai gửi, nhận văn bản điện tử",
    "Kế hoạch kiểm tra công tác an toàn thực phẩm năm 2024",
    "V/v cử cán bộ tham dự tập huấn chuyển đổi số",
)


def make_simulator(seed: int) -> IdeskSim:
    """A simulator holding a few demo documents for every unit."""
    sim = IdeskSim(seed=seed)
    for position, subject in enumerate(_DEMO_SUBJECTS, start=1):
        number = 100 + sim.rng.randrange(900)
        doc = Document(
            issuer=Organ(code="000.00.33.H49", name="Ủy ban nhân dân huyện Vân Đồn"),
            number=str(number),
            notation="UBND-VP",
            issued_on=dt.date(2024, 3, position),
            type_name="Công văn",
            subject=subject,
            signer=Signer(name="Đỗ Hoàng Lũy", position="Chủ tịch"),
            priority=Priority(position % 3),
        )
        files = {f"{number}-UBND-VP.pdf": b"%PDF-1.4\n% demo " + str(number).encode() + b"\n"}
        sim.add_document(doc, files, unit=None)
    return sim
