"""The store's SQL, written once for both backends, one module per concern.

`SqlStore` joins the concerns; a backend is `SqlStore` over a driver (bridge/store/driver/),
whose dialect (bridge/store/dialect.py) supplies what the two databases write differently.
"""

from __future__ import annotations

from bridge.store.sql.alerts import Alerts
from bridge.store.sql.controls import Controls
from bridge.store.sql.directory import Directory
from bridge.store.sql.documents import Documents
from bridge.store.sql.leases import Leases
from bridge.store.sql.operator import Operator
from bridge.store.sql.outbox import Outbox
from bridge.store.sql.reading import Reading
from bridge.store.sql.records import Records
from bridge.store.sql.retention import Retention
from bridge.store.sql.schema import Schema
from bridge.store.sql.scope import Scope
from bridge.store.sql.status import Status
from bridge.store.sql.timeline import Timeline


class SqlStore(
    Records,
    Documents,
    Outbox,
    Status,
    Operator,
    Reading,
    Retention,
    Leases,
    Alerts,
    Scope,
    Controls,
    Timeline,
    Directory,
    Schema,
):
    """Every method of the store, over the hooks of a driver."""


__all__ = ["SqlStore"]
