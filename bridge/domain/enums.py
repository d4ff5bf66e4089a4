"""One name, one meaning: the values the bridge stores, compares and shows.

Each is a `StrEnum`, so a member is the very string the store holds and the API returns
(`RecordOutcome.DUPLICATE == "duplicate"`); compare with members, never with literals.
"""

from __future__ import annotations

from enum import StrEnum


class RecordOutcome(StrEnum):
    """What matching decided for one raw record."""

    DOCUMENT = "document"  # the first road of a new document
    DUPLICATE = "duplicate"  # the same document by another road (or again by the same)
    REVISION = "revision"  # a later version of a known document
    STATUS = "status"  # a business status message about a document, not a document
    QUARANTINED = "quarantined"  # unreadable or unsafe: held for an operator
    WAITING = "waiting"  # held until something it refers to arrives


class DocumentState(StrEnum):
    """Where a document stands in the unit's register."""

    ACTIVE = "active"
    REVOKED = "revoked"
    MERGED = "merged"


class DeliveryState(StrEnum):
    """One outbox row: a document's operation owed to one home system."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up: waits for an operator's retry
    CANCELLED = "cancelled"


class StatusMessageState(StrEnum):
    """One business status message owed to a sender."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class QuarantineKind(StrEnum):
    """Why a record is held in quarantine for an operator."""

    UNREADABLE = "unreadable"  # could not be read, or unsafe
    SECRET = "secret"  # noqa: S105 (a classification: marked Mật / Tối mật / Tuyệt mật)
    REVIEW = "review"  # a person must look at it (no number, an ambiguous issuer)
    SIGNATURE = "signature"  # a digital signature that does not verify


class EndpointRole(StrEnum):
    """What an endpoint is to its unit: a road documents arrive on, or a home they go to."""

    SOURCE = "source"
    SINK = "sink"


class ProcessRole(StrEnum):
    """Which loops one daemon process runs (`[bridge] delivery_process` splits them)."""

    ALL = "all"
    DELIVERIES = "deliveries"


class HealthState(StrEnum):
    """An endpoint's or task's health as the page, /status and /metrics show it."""

    UNKNOWN = "unknown"  # nothing known yet: no first success or failure
    OK = "ok"
    BACKOFF = "backoff"
    FAILING = "failing"
    DISABLED = "disabled"


class Operation(StrEnum):
    """What one outbox row asks of a home system."""

    CREATE = "create"
    UPDATE = "update"
    REVOKE = "revoke"
    CORRECT = "correct"  # a later road wrote fields better: same version, a note says which
