"""The durable store: raw records, documents, cursors, the outbox, quarantine, audit.

Layers: `api` names what the rest of the bridge may ask of the store, one Protocol per
concern; `sql` holds every statement, written once; `driver` runs them on SQLite or
PostgreSQL through a small shim; `dialect` holds what the two databases write differently.
The rules behind the statements (which outbox rows a decision makes, how a home system's
status is mirrored to senders) and the types the store keeps are the domain's (bridge/domain).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bridge.domain.decision import NewDocument, Outcome
from bridge.domain.entities import Delivery, DocumentRow, StatusOut, StoredRecord
from bridge.domain.status_mirror import StatusReply
from bridge.errors import ConfigError
from bridge.store import api
from bridge.store.blobs_pg import PgBlobStore
from bridge.store.driver.postgres import PgDriver
from bridge.store.driver.sqlite import SqliteDriver
from bridge.store.sql import SqlStore
from bridge.store.sql.base import now_iso


class SqliteStore(SqliteDriver, SqlStore):
    """The embedded store: one SQLite file (WAL, synchronous=FULL)."""


class PostgresStore(PgDriver, SqlStore):
    """The shared store: PostgreSQL, for several instances on one database."""


Store = SqliteStore | PostgresStore


def open_postgres(
    url: str, *, instance: str | None = None, claim_ttl_s: float | None = None
) -> PostgresStore:
    """The PostgreSQL store a `postgresql://…` database URL names (not yet opened).

    `claim_ttl_s` (default 300 s): how long a delivery claimed by this instance stays reserved;
    follow the lease time, so a dead instance's deliveries come back as soon as its sources do.
    """
    if claim_ttl_s is None:
        return PostgresStore(url, instance=instance)
    return PostgresStore(url, instance=instance, claim_ttl_s=claim_ttl_s)


def open_store(
    database: str, data_dir: Path, *, instance: str | None = None, claim_ttl_s: float | None = None
) -> Store:
    """The store the configuration names (not yet opened: use `async with`)."""
    if database == "sqlite":
        return SqliteStore(data_dir / "lienthong.sqlite3")
    if database.startswith(("postgresql://", "postgres://")):
        return open_postgres(database, instance=instance, claim_ttl_s=claim_ttl_s or 300.0)
    if database.startswith("sqlite:"):
        return SqliteStore(Path(database.removeprefix("sqlite:").removeprefix("//")))
    raise ConfigError([f"bridge.database: không hỗ trợ {database!r} / unsupported database"])


if TYPE_CHECKING:  # both backends keep the whole contract (checked by mypy)

    def _conform(sqlite: SqliteStore, postgres: PostgresStore) -> tuple[api.Store, api.Store]:
        return sqlite, postgres


__all__ = [
    "Delivery",
    "DocumentRow",
    "NewDocument",
    "Outcome",
    "PgBlobStore",
    "PostgresStore",
    "SqliteStore",
    "StatusOut",
    "StatusReply",
    "Store",
    "StoredRecord",
    "api",
    "now_iso",
    "open_postgres",
    "open_store",
]
