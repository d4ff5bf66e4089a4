"""The durable store: raw records, documents, cursors, the outbox, quarantine, audit."""

from __future__ import annotations

from pathlib import Path

from bridge.errors import ConfigError
from bridge.store.base import Delivery, DocumentRow, NewDocument, Outcome, StoredRecord
from bridge.store.sqlite import SqliteStore

Store = SqliteStore


def open_store(database: str, data_dir: Path) -> Store:
    """The store the configuration names (not yet opened: use `async with`)."""
    if database == "sqlite":
        return SqliteStore(data_dir / "lienthong.sqlite3")
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
