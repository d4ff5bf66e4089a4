"""The schema's numbered migrations, one list per backend (their DDL differs); append only.

Versions 1-9 are shared: the same tables and columns on both. PostgreSQL-only migrations are
numbered from `PG_ONLY_FROM`; version `search.REKEY_AT` recomputes every search key.
"""

from __future__ import annotations

from bridge.store.migrations.postgres import MIGRATIONS_PG, PG_ONLY_FROM
from bridge.store.migrations.sqlite import MIGRATIONS

__all__ = ["MIGRATIONS", "MIGRATIONS_PG", "PG_ONLY_FROM"]
