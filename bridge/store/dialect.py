"""What SQLite and PostgreSQL write differently, in one place.

Statements of the SQL layer are written once in PostgreSQL's form: numbered placeholders
(`$1`), casts (`data::text`) where asyncpg needs them. For SQLite `Dialect.sql` rewrites a
statement once (cached): `$n` becomes `?n` and casts are dropped. What cannot be rewritten
is a field here: boolean literals (SQLite's partial indexes match `0`, not `FALSE`), row locks,
delivery claims, index hints, the clock of leases, string aggregation, JSON append, and the
column types of the schema (ids and their sequences, JSON, bytes, booleans, epoch seconds).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

_PARAM = re.compile(r"\$(\d+)")
_CAST = re.compile(r"::[a-z0-9_]+(?:\[\])?")


@functools.lru_cache(maxsize=1024)
def _sqlite_sql(statement: str) -> str:
    return _CAST.sub("", _PARAM.sub(r"?\1", statement))


@dataclass(frozen=True)
class Dialect:
    """The statement fragments one backend writes its own way."""

    name: str
    false: str  # boolean literals, as the backend's partial indexes spell them
    true: str
    claims: bool  # due rows are claimed by one instance (several processes on one database)
    share_lock: str  # appended to the fence's read: hold the lease row until commit
    update_lock: str  # appended to a read whose rows the transaction goes on to change
    release: str  # a SET fragment that lets a claim go (empty without claims)
    now: str  # the clock of leases, epoch seconds
    contains: str  # `{}` (a JSON text column) contains the text $1
    types: Mapping[str, str]  # the schema's types by role, as bridge/store/migrations names them

    def sql(self, statement: str) -> str:
        """The statement as this backend's driver takes it."""
        return statement if self.name == "postgresql" else _sqlite_sql(statement)

    def indexed_by(self, index: str) -> str:
        """SQLite's planner is told which partial index serves a queue; PostgreSQL's chooses."""
        return f" INDEXED BY {index}" if self.name == "sqlite" else ""

    def agg(self, column: str) -> str:
        """The distinct values of `column` in a group, joined by commas."""
        if self.name == "sqlite":
            return f"group_concat(DISTINCT {column})"
        return f"string_agg(DISTINCT {column}, ',')"

    def json_append(self, column: str, param: str) -> str:
        """`column` (a JSON array) with the JSON text `param` appended, in one statement."""
        if self.name == "sqlite":
            return f"json_insert({column}, '$[#]', json({param}))"
        return f"{column} || jsonb_build_array({param}::jsonb)"

    def pick(self, table: str, index: str, cols: str, where: str) -> str:
        """Due rows of `table` (aliased `o`), oldest first: $2 is now, $3 the limit.

        With claims the rows are locked (`FOR UPDATE SKIP LOCKED`) and stamped for this
        instance ($4) for $5 seconds in the same statement; rows another live instance
        claimed are skipped, this instance's own are offered again.
        """
        if not self.claims:
            return (
                f"SELECT {cols} FROM {table} o{self.indexed_by(index)}"
                f" WHERE {where} ORDER BY o.id LIMIT $3"
            )
        return (
            f"WITH due AS (SELECT o.id FROM {table} o WHERE {where}"
            " AND (o.claimed_until IS NULL OR o.claimed_until <= $2 OR o.claimed_by = $4)"
            " ORDER BY o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED)"
            f" UPDATE {table} o SET claimed_by = $4, claimed_until = $2 + $5::float8"
            f" FROM due WHERE o.id = due.id RETURNING {cols}"
        )


SQLITE = Dialect(
    name="sqlite",
    false="0",
    true="1",
    claims=False,
    share_lock="",  # BEGIN IMMEDIATE already excludes every other writer
    update_lock="",
    release="",
    now="((julianday('now') - 2440587.5) * 86400.0)",
    contains="instr({}, $1) > 0",
    types={
        "id": "INTEGER PRIMARY KEY",  # the rowid: ids from its own sequence
        "bigint": "INTEGER",
        "json": "TEXT",
        "blob": "BLOB",
        "real": "REAL",
        "bool": "INTEGER NOT NULL DEFAULT 0",
        "not_acked": "acked = 0",
        "ine": "",
    },
)
POSTGRES = Dialect(
    name="postgresql",
    false="FALSE",
    true="TRUE",
    claims=True,
    share_lock=" FOR SHARE",
    update_lock=" FOR UPDATE",
    release=", claimed_by = NULL, claimed_until = NULL",
    now="extract(epoch FROM clock_timestamp())",  # the database's clock, shared by instances
    contains="position($1 in {}::text) > 0",
    types={
        "id": "BIGSERIAL PRIMARY KEY",
        "bigint": "BIGINT",
        "json": "JSONB",
        "blob": "BYTEA",
        "real": "DOUBLE PRECISION",
        "bool": "BOOLEAN NOT NULL DEFAULT FALSE",
        "not_acked": "NOT acked",
        "ine": " IF NOT EXISTS",
    },
)
