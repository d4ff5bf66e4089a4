"""The durable store: raw records, documents, cursors, the outbox, quarantine, audit."""

from __future__ import annotations

from pathlib import Path

from bridge.errors import ConfigError
from bridge.store.base import Delivery, DocumentRow, NewDocument, Outcome, StoredRecord
from bridge.store.postgres import PostgresStore, open_postgres
from bridge.store.sqlite import SqliteStore

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
    "Delivery",
    "DocumentRow",
    "NewDocument",
    "Outcome",
    "Store",
    "StoredRecord",
    "open_store",
]
