"""The normalized document: one issued official document as every adapter reports it.

Field names are English; enum members carry the Vietnamese labels the regulations use
(Decree 30/2020/NĐ-CP, QCVN 102:2016/BTTTT, the Law on Protection of State Secrets).
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum, StrEnum

from pydantic import AwareDatetime, Field

from schemas.base import Model


class Priority(IntEnum):
    """Độ khẩn, as edXML `OtherInfo/Priority` numbers it."""

    THUONG = 0
    KHAN = 1
    THUONG_KHAN = 2
    HOA_TOC = 3
    HOA_TOC_HEN_GIO = 4

    @property
    def label(self) -> str:
        return _PRIORITY_LABELS[self]


_PRIORITY_LABELS = {
    Priority.THUONG: "Thường",
    Priority.KHAN: "Khẩn",
    Priority.THUONG_KHAN: "Thượng khẩn",
    Priority.HOA_TOC: "Hỏa tốc",
    Priority.HOA_TOC_HEN_GIO: "Hỏa tốc hẹn giờ",
}


class Confidentiality(IntEnum):
    """Độ mật. Anything above THUONG must not travel over ordinary networks."""

    THUONG = 0
    MAT = 1
    TOI_MAT = 2
    TUYET_MAT = 3

    @property
    def label(self) -> str:
        return _SECRECY_LABELS[self]

    @property
    def is_secret(self) -> bool:
        return self is not Confidentiality.THUONG


_SECRECY_LABELS = {
    Confidentiality.THUONG: "Thường",
    Confidentiality.MAT: "Mật",
    Confidentiality.TOI_MAT: "Tối mật",
    Confidentiality.TUYET_MAT: "Tuyệt mật",
}


class DocumentState(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class Action(StrEnum):
    """What a record asks of the document it names (edXML `BussinessDocType` 0-3)."""

    NEW = "new"
    REVOKE = "revoke"
    UPDATE = "update"
    REPLACE = "replace"


class SignatureStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNTRUSTED = "untrusted"
    INDETERMINATE = "indeterminate"
    UNSIGNED = "unsigned"


class Organ(Model):
    """An organ as a record names it: its identifier code (Decision 20/2020), its name, or both."""

    code: str | None = None
    name: str | None = None


class Signer(Model):
    competence: str | None = None  # thẩm quyền ký: "KT. CHỦ TỊCH", "TM. ỦY BAN NHÂN DÂN"
    position: str | None = None  # chức vụ: "Phó Chủ tịch"
    name: str | None = None


class Signature(Model):
    status: SignatureStatus
    signer: str | None = None
    signed_at: AwareDatetime | None = None
    reason: str | None = None


class Attachment(Model):
    """A file of the document. `blob` is the blob-store key once the bytes are stored."""

    name: str
    content_type: str = "application/octet-stream"
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    blob: str | None = None
    signature: Signature | None = None


class DocumentRef(Model):
    """Names another document: the target of an update, replacement or revocation."""

    issuer: Organ = Organ()
    number: str | None = None
    notation: str | None = None
    issued_on: dt.date | None = None


class Provenance(Model):
    """Which source record a document (or revision) came from."""

    source: str
    profile: str
    unit: str
    external_id: str
    version: str
    received_at: AwareDatetime


class Document(Model):
    """One official document as a record describes it, normalized to one vocabulary.

    `number` has no leading zeros, `notation` is upper-case with ASCII hyphens, text is NFC.
    `action` says whether the record is the document itself or a change to `target`.
    `review_reason` is set when a person must look at the record before it may be delivered
    (say, a mail in which no number or date was found).
    """

    issuer: Organ
    number: str | None = None
    notation: str | None = None
    issued_on: dt.date | None = None
    place: str | None = None
    type_name: str | None = None
    subject: str = ""
    content: str | None = None
    signer: Signer | None = None
    priority: Priority = Priority.THUONG
    confidentiality: Confidentiality = Confidentiality.THUONG
    due_on: dt.date | None = None
    recipients: tuple[Organ, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    revision: int = Field(default=1, ge=1)
    state: DocumentState = DocumentState.ACTIVE
    action: Action = Action.NEW
    target: DocumentRef | None = None
    reason: str | None = None  # why a revocation/update was issued
    review_reason: str | None = None
    provenance: tuple[Provenance, ...] = ()

    @property
    def symbol(self) -> str:
        """Số/ký hiệu as printed: `335/UBND-HC`."""
        return "/".join(part for part in (self.number, self.notation) if part)
