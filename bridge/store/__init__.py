"""The durable store: raw records, documents, cursors, the outbox, quarantine, audit.

Layers: `api` names what the rest of the bridge may ask of the store, one Protocol per
concern; `sql` holds every statement, written once; `driver` runs them on SQLite or
PostgreSQL through a small shim; `dialect` holds what the two databases write differently.
The rules behind the statements (which outbox rows a decision makes, how a home system's
status is mirrored to senders) are pure functions in `bridge.domain`.
"""

from __future__ import annotations

from pathlib import Path

from bridge.domain.search import EXACT, PARTIAL, STATES, search_patterns
from bridge.errors import ConfigError
from bridge.store.backends import PostgresStore, SqliteStore, open_postgres
from bridge.store.blobs_pg import PgBlobStore
from bridge.store.rows import (
    Delivery,
    DocumentRow,
    NewDocument,
    Outcome,
    StatusOut,
    StatusReply,
    StoredRecord,
)
from bridge.store.search import FoundDocument
from bridge.store.sql.base import now_iso

Store = SqliteStore | PostgresStore


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


__all__ = [
    "EXACT",
    "PARTIAL",
    "STATES",
    "Delivery",
    "DocumentRow",
    "FoundDocument",
    "NewDocument",
    "Outcome",
    "PgBlobStore",
    "PostgresStore",
    "SqliteStore",
    "StatusOut",
    "StatusReply",
    "Store",
    "StoredRecord",
    "now_iso",
    "open_postgres",
    "open_store",
    "search_patterns",
]
