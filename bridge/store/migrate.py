"""Copy a deployment from SQLite to PostgreSQL: every table (ids kept) and every blob.

Blobs go first, each in its own transaction (content-addressed, so a re-run skips those already
there); then all tables in one transaction, so a failed run leaves the target's tables empty and
can simply be run again. A target whose tables already hold rows is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import structlog

from bridge.errors import ConfigError
from bridge.store import PostgresStore, SqliteStore
from bridge.store.blobs_pg import PgBlobStore
from bridge.store.driver.shim import PgConnection as Connection

log = structlog.get_logger(__name__)

BATCH_ROWS = 500
MAX_BLOB_BYTES = 1 << 40  # the source already enforced its limits; do not refuse its files
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "boolean": bool,
    "bytea": bytes,
    "jsonb": lambda v: v.decode() if isinstance(v, bytes) else str(v),
    "double precision": float,
    "bigint": int,
    "integer": int,
    "text": str,
}


def sqlite_path(url: str) -> Path:
    """`sqlite:PATH` or `sqlite://PATH` → PATH."""
    if not url.startswith("sqlite:"):
        raise ConfigError([f"--from: cần sqlite:ĐƯỜNG_DẪN / expected sqlite:PATH, got {url!r}"])
    return Path(url.removeprefix("sqlite:").removeprefix("//"))


async def migrate_store(
    src_url: str, dst_url: str, *, blobs_dir: Path | None = None
) -> dict[str, int]:
    """Copy the SQLite store at `src_url` (and its blobs, by default `<its dir>/blobs`) into
    the PostgreSQL database `dst_url`. Returns rows copied per table, plus `blobs`.

    Raises ConfigError when the source is missing, the target is not PostgreSQL, the target's
    tables are not empty, or the target lacks a table or column the source has.
    """
    path = sqlite_path(src_url)
    if not path.is_file():
        raise ConfigError([f"--from: không có tệp {path} / no such file"])
    if not dst_url.startswith(("postgresql://", "postgres://")):
        raise ConfigError([f"--to: cần postgresql://… / expected a PostgreSQL URL: {dst_url!r}"])
    async with SqliteStore(path) as src, PostgresStore(dst_url) as dst:
        tables = await _source_tables(src)
        async with dst.pool.acquire() as conn:
            columns = {t: await _target_columns(conn, t) for t in tables}
        _check_schema(tables, columns)
        await _refuse_non_empty(dst, tables)
        copied = {"blobs": await _copy_blobs(blobs_dir or path.parent / "blobs", dst)}
        async with dst.pool.acquire() as conn, conn.transaction():
            for table, cols in tables.items():
                copied[table] = await _copy_table(src, conn, table, cols, columns[table])
                if "claimed_by" in cols:  # claims belonged to the old process
                    await conn.execute(
                        f'UPDATE "{table}" SET claimed_by = NULL, claimed_until = NULL'
                    )
                if "id" in cols:
                    await _reset_sequence(conn, table)
    log.info("store_migrated_to_postgresql", **copied)
    return copied


async def _source_tables(src: SqliteStore) -> dict[str, list[str]]:
    names = await src.scanner.execute_fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name NOT IN ('schema_version', 'leases') ORDER BY name"  # leases are who runs now
    )
    tables: dict[str, list[str]] = {}
    for (name,) in names:
        info = await src.scanner.execute_fetchall(f'PRAGMA table_info("{name}")')
        tables[name] = [row[1] for row in info]
    return tables


async def _target_columns(conn: Connection, table: str) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = $1",
        table,
    )
    return {r[0]: r[1] for r in rows}


def _check_schema(tables: dict[str, list[str]], columns: dict[str, dict[str, str]]) -> None:
    missing = [
        f"{table}.{col}"
        for table, cols in tables.items()
        for col in (cols if columns[table] else ["*"])
        if col == "*" or col not in columns[table]
    ]
    if missing:
        raise ConfigError(
            [f"PostgreSQL thiếu bảng/cột / target lacks table or column: {', '.join(missing)}"]
        )


async def _refuse_non_empty(dst: PostgresStore, tables: dict[str, list[str]]) -> None:
    full = [t for t in tables if await dst.pool.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{t}")')]
    if full:
        raise ConfigError(
            [f"cơ sở dữ liệu đích đã có dữ liệu / target is not empty: {', '.join(full)}"]
        )


async def _copy_blobs(root: Path, dst: PostgresStore) -> int:
    blobs = PgBlobStore(dst)
    copied = 0
    for file in await asyncio.to_thread(_blob_files, root):
        if len(file.name) != 64 or await blobs.exists(file.name):
            continue
        await blobs.put_stream(
            _read_file(file), max_bytes=MAX_BLOB_BYTES, expected_sha256=file.name
        )
        copied += 1
    return copied


def _blob_files(root: Path) -> list[Path]:
    return sorted(root.glob("??/??/*")) if root.is_dir() else []


async def _read_file(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := await asyncio.to_thread(f.read, 256 * 1024):
            yield chunk


async def _copy_table(
    src: SqliteStore, conn: Connection, table: str, cols: list[str], types: dict[str, str]
) -> int:
    converters = [_CONVERT.get(types[c], lambda v: v) for c in cols]
    quoted = ", ".join(f'"{c}"' for c in cols)
    count = 0
    async with src.scanner.execute(f'SELECT {quoted} FROM "{table}"') as cur:
        while rows := list(await cur.fetchmany(BATCH_ROWS)):
            records = [
                tuple(None if v is None else f(v) for f, v in zip(converters, row, strict=True))
                for row in rows
            ]
            await conn.copy_records_to_table(table, records=records, columns=cols)
            count += len(records)
    return count


async def _reset_sequence(conn: Connection, table: str) -> None:
    """Make the next generated id follow the copied ones."""
    sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)
    if sequence is not None:
        await conn.execute(
            f'SELECT setval($1, coalesce((SELECT max(id) FROM "{table}"), 0) + 1, false)',
            sequence,
        )
