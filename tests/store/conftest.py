"""Fixtures of the store suite: every test runs on a real SQLite file and a real PostgreSQL.

One PostgreSQL server per session; each test gets a fresh database cloned from a migrated
template, so tests are isolated and fast.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hashlib
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bridge.store import NewDocument, Outcome, PostgresStore, SqliteStore
from schemas import Attachment, Document, Organ, RawRecord
from tests.store.pg_server import PgServer

TEMPLATE_DB = "lienthong_template"
_db_numbers = itertools.count(1)
Store = SqliteStore | PostgresStore


async def _make_template(server: PgServer) -> None:
    admin = await asyncpg.connect(server.url(), timeout=10)
    try:
        await admin.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    finally:
        await admin.close()
    async with PostgresStore(server.url(TEMPLATE_DB)):
        pass  # opening runs the migrations


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server for the whole session; fails (never skips) when it cannot start."""
    server = PgServer()
    try:
        server.start()
        # The fixture may first be set up from inside a running loop: use a thread of its own.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _make_template(server)).result(timeout=60)
        yield server
    finally:
        server.stop()


async def fresh_pg_url(server: PgServer) -> str:
    """A new empty, migrated database on the session's server."""
    name = f"test_{next(_db_numbers)}"
    admin = await asyncpg.connect(server.url(), timeout=10)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    finally:
        await admin.close()
    return server.url(name)


@pytest.fixture
async def pg_url(pg_server: PgServer) -> str:
    return await fresh_pg_url(pg_server)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An open store of each backend, empty and migrated."""
    backend: Store
    if request.param == "sqlite":
        backend = SqliteStore(tmp_path / "lienthong.sqlite3")
    else:
        backend = PostgresStore(await fresh_pg_url(request.getfixturevalue("pg_server")))
    async with backend as opened:
        yield opened


# ---- builders shared by the store tests ------------------------------------------------------

NOW = dt.datetime(2024, 3, 5, 8, 30, tzinfo=dt.UTC)


def raw(
    external_id: str,
    version: str = "1",
    *,
    source: str = "src",
    unit: str = "u1",
    payload: bytes = b'{"so": "1"}',
    attachments: tuple[Attachment, ...] = (),
) -> RawRecord:
    return RawRecord(
        source=source,
        unit=unit,
        external_id=external_id,
        version=version,
        media_type="application/json",
        payload=payload,
        attachments=attachments,
        ack=f"ack-{external_id}",
        received_at=NOW,
    )


def attachment(data: bytes, name: str = "vb.pdf") -> Attachment:
    sha = hashlib.sha256(data).hexdigest()
    return Attachment(name=name, size=len(data), sha256=sha, blob=sha)


def document(number: str = "335", subject: str = "Về việc họp giao ban", **extra: Any) -> Document:
    return Document(
        issuer=Organ(code="000.00.01.H55", name="Ủy ban nhân dân tỉnh Lào Cai"),
        number=number,
        notation="UBND-HC",
        issued_on=dt.date(2024, 3, 5),
        type_name="Công văn",
        subject=subject,
        **extra,
    )


def new_document_outcome(
    record_id: int,
    doc: Document,
    *,
    deliveries: tuple[tuple[str, str, str, int], ...] = (("u1", "home", "create", 1),),
    triple: str = "h55|335|2024",
) -> Outcome:
    return Outcome(
        record_id=record_id,
        outcome="document",
        decision={"rule": "new", "why": "không khớp / no match"},
        new_document=NewDocument(
            document=doc,
            triple=triple,
            issuer_code="000.00.01.H55",
            issuer_key="h55",
            fallback=None,
        ),
        deliveries=deliveries,
    )
