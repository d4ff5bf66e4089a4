"""The narrow services the outside layers receive from the running daemon.

The HTTP layer, the /status snapshot and the metrics never see the daemon: they are handed a
`Services` holding the store, a read-only `RuntimeView` (health, tasks, readiness), the
`OperatorActions` an operator's call may start, and the push intake of each endpoint. The
runtime provides them (`bridge.daemon`), the composition root (`bridge.app`) hands them over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bridge.config import HttpSection, UnitConfig
from bridge.domain.enums import EndpointRole
from bridge.health import Health
from bridge.normalize.directory import OrganDirectory
from bridge.operators import OperatorEntry
from bridge.store import Store
from bridge.supervisor import TaskState


class Tasks(Protocol):
    """The supervised background tasks, read-only (`bridge.supervisor.Supervisor`)."""

    @property
    def gave_up(self) -> str | None: ...

    def failing(self) -> list[TaskState]: ...

    def snapshot(self) -> list[dict[str, object]]: ...


class RuntimeView(Protocol):
    """What /status, /readyz and /metrics read of the running daemon; changes nothing."""

    @property
    def ready(self) -> bool: ...

    @property
    def version(self) -> str: ...

    @property
    def started_at(self) -> dt.datetime: ...

    @property
    def instance(self) -> str: ...

    @property
    def tasks(self) -> Tasks: ...

    def units(self) -> tuple[UnitConfig, ...]: ...

    def health_of(self, name: str) -> Health | None:
        """The health of a running source or sink; None when it is not running."""
        ...

    def disk(self) -> dict[str, object]:
        """The data folder's use as retention last measured it."""
        ...

    def node_of(self, source: str) -> tuple[str, tuple[str, ...]]:
        """The endpoint polling for configured source `source` and the units it serves:
        the source itself, or the shared node (one poller for several units) it points at."""
        ...

    def directory(self) -> OrganDirectory | None:
        """The organ directory the matcher resolves with (refreshed after each sync)."""
        ...

    async def outbox_rows(self) -> dict[str, list[dict[str, object]]]:
        """Per unit, its outboxes as /status shows them (sending)."""
        ...


@dataclass(frozen=True)
class ControlResult:
    """What a control did: the endpoint's name and role, whether it is paused now, and for
    retry now how many deliveries were made due."""

    name: str
    role: EndpointRole
    paused: bool = False
    changed: bool = True
    released: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": str(self.role),
            "paused": self.paused,
            "changed": self.changed,
            "released": self.released,
        }


class OperatorActions(Protocol):
    """What an operator's call sets going once the store has changed."""

    def records_changed(self) -> None:
        """Records were released, split or merged: the processor looks again."""
        ...

    def deliveries_changed(self) -> None:
        """Dead letters were replayed: every sink's delivery worker looks again."""
        ...

    async def pause_source(self, name: str, actor: str) -> ControlResult:
        """Stop pulling `name` (kept across restarts) until resumed; audited."""
        ...

    async def resume_source(self, name: str, actor: str) -> ControlResult: ...

    async def poll_now(self, name: str, actor: str) -> ControlResult:
        """The source's runner pulls at once instead of at its next poll; audited."""
        ...

    async def retry_sink(self, name: str, actor: str) -> ControlResult:
        """The sink's parked deliveries are due now and its worker woken; audited."""
        ...

    async def retry_recipient(self, doc_id: int, code: str, actor: str) -> dict[str, object]:
        """An outgoing document's recipient tried again now; audited. Raises
        RecipientActionError (404, 409)."""
        ...

    async def cancel_recipient(self, doc_id: int, code: str, actor: str) -> dict[str, object]:
        """An outgoing document's recipient's road stopped, a paper dispatch left; audited."""
        ...


class PushIntake(Protocol):
    """One endpoint's push intake: reads and stores one pushed body; returns how many items.

    Raises AuthError (bad signature), PermanentError (unreadable body), TransientError."""

    async def __call__(self, headers: Mapping[str, str], body: bytes) -> int: ...


@dataclass(frozen=True)
class Services:
    """Everything the HTTP layer uses, and nothing more."""

    http: HttpSection
    store: Store
    view: RuntimeView
    actions: OperatorActions
    intake_of: Callable[[str], PushIntake | None]
    operators: Callable[[], tuple[OperatorEntry, ...]] = tuple  # as configured now (SIGHUP)
