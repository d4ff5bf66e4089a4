"""The two stores: the SQL layer over the SQLite driver and over the PostgreSQL driver."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.store import api
from bridge.store.driver.postgres import PgDriver
from bridge.store.driver.sqlite import SqliteDriver
from bridge.store.sql import SqlStore


class SqliteStore(SqliteDriver, SqlStore):
    """The embedded store: one SQLite file (WAL, synchronous=FULL)."""


class PostgresStore(PgDriver, SqlStore):
    """The shared store: PostgreSQL, for several instances on one database."""


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


if TYPE_CHECKING:  # both backends keep the whole contract (checked by mypy)

    def _conform(sqlite: SqliteStore, postgres: PostgresStore) -> tuple[api.Store, api.Store]:
        return sqlite, postgres
