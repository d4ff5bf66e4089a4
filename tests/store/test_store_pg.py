"""What only the shared backend does: claims across instances, leases and fencing, blobs."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.errors import PermanentError, StaleLeaseError
from bridge.store.pg_blobs import PgBlobStore
from bridge.store.postgres import PostgresStore, open_postgres
from bridge.store.sqlite import SqliteStore
from schemas import Page
from tests.store.conftest import document, new_document_outcome, raw


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[PostgresStore]:
    async with PostgresStore(pg_url, instance="a", claim_ttl_s=60) as store:
        yield store


@pytest.fixture
async def pg_b(pg_url: str) -> AsyncIterator[PostgresStore]:
    """A second instance on the same database."""
    async with PostgresStore(pg_url, instance="b", claim_ttl_s=60) as store:
        yield store


async def _documents(store: PostgresStore, n: int) -> list[int]:
    ids = await store.save_records([raw(f"r{i}") for i in range(n)])
    out = []
    for i, rid in enumerate(ids):
        doc_id = await store.apply(new_document_outcome(rid, document(str(i)), triple=f"t{i}"))
        assert doc_id is not None
        out.append(doc_id)
    return out


async def test_concurrent_due_deliveries_never_share_a_row(
    pg: PostgresStore, pg_b: PostgresStore
) -> None:
    """Two instances polling at once (SKIP LOCKED) split the due rows between them."""
    await _documents(pg, 40)
    seen: dict[str, list[int]] = {"a": [], "b": []}

    async def drain(store: PostgresStore) -> None:
        while due := await store.due_deliveries("home", 3):
            seen[store.instance].extend(d.id for d in due)
            for d in due:
                await store.mark_delivered(d.id, f"R{d.id}")

    await asyncio.wait_for(asyncio.gather(drain(pg), drain(pg_b)), 30)
    both = seen["a"] + seen["b"]
    assert len(both) == len(set(both)) == 40
    assert seen["a"] and seen["b"]


async def test_claim_blocks_others_until_it_lapses(pg: PostgresStore, pg_b: PostgresStore) -> None:
    """A claimed row is offered again to its claimer, hidden from others, back after the TTL."""
    await _documents(pg, 2)
    mine = await pg.due_deliveries("home", 1, now=1000.0)
    assert [d.id for d in await pg.due_deliveries("home", 1, now=1001.0)] == [mine[0].id]
    others = await pg_b.due_deliveries("home", 10, now=1001.0)
    assert mine[0].id not in [d.id for d in others]
    lapsed = await pg_b.due_deliveries("home", 10, now=1000.0 + 61)
    assert mine[0].id in [d.id for d in lapsed]


async def test_result_releases_the_claim(pg: PostgresStore, pg_b: PostgresStore) -> None:
    """schedule_retry releases the claim: another instance may take the retry when due."""
    await _documents(pg, 1)
    (d,) = await pg.due_deliveries("home", 1, now=1000.0)
    await pg.schedule_retry(d.id, at=1005.0, error="503")
    (again,) = await pg_b.due_deliveries("home", 1, now=1006.0)
    assert again.id == d.id and again.attempts == 1


async def test_due_status_is_claimed_too(pg: PostgresStore, pg_b: PostgresStore) -> None:
    """Status messages owed to senders are claimed like deliveries."""
    from bridge.store.base import Outcome, StatusReply

    (rid,) = await pg.save_records([raw("a", source="vxp")])
    reply = StatusReply("01", "đã nhận", "u1", {}, {})
    await pg.apply(Outcome(record_id=rid, outcome="waiting", decision={}, status_replies=(reply,)))
    assert len(await pg.due_status("vxp", now=10.0)) == 1
    assert await pg_b.due_status("vxp", now=11.0) == []


# ---- leases: PostgreSQL and the SQLite mixin ---------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
async def leasing(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SqliteStore | PostgresStore]:
    if request.param == "sqlite":
        async with SqliteStore(tmp_path / "l.sqlite3") as s:
            yield s
    else:
        url = await _fresh(request)
        async with PostgresStore(url) as p:
            yield p


async def _fresh(request: pytest.FixtureRequest) -> str:
    from tests.store.conftest import fresh_pg_url

    return await fresh_pg_url(request.getfixturevalue("pg_server"))


async def test_lease_acquire_renew_expire_and_tokens_grow(
    leasing: SqliteStore | PostgresStore,
) -> None:
    """One live owner at a time; every change of owner gets a larger fencing token."""
    t1 = await leasing.acquire_lease("source:moffice", "a", 0.3)
    assert t1 == 1
    assert await leasing.acquire_lease("source:moffice", "b", 0.3) is None
    assert await leasing.acquire_lease("source:moffice", "a", 0.3) == t1  # own, live: same
    assert await leasing.renew_lease("source:moffice", "a", t1, 0.3)
    assert not await leasing.renew_lease("source:moffice", "b", t1, 0.3)
    await asyncio.sleep(0.4)
    assert not await leasing.renew_lease("source:moffice", "a", t1, 0.3)  # lapsed
    t2 = await leasing.acquire_lease("source:moffice", "b", 5)
    assert t2 is not None and t2 > t1
    await leasing.release_lease("source:moffice", "a", t1)  # stale release: no effect
    assert await leasing.acquire_lease("source:moffice", "a", 5) is None
    await leasing.release_lease("source:moffice", "b", t2)
    t3 = await leasing.acquire_lease("source:moffice", "a", 5)
    assert t3 is not None and t3 > t2
    (lease,) = await leasing.leases()
    assert (lease["resource"], lease["owner"], lease["token"]) == ("source:moffice", "a", t3)


async def test_concurrent_acquire_has_one_winner(pg: PostgresStore, pg_b: PostgresStore) -> None:
    """Two instances racing for one resource: exactly one gets a token."""
    got = await asyncio.gather(*(s.acquire_lease("r", s.instance, 5) for s in (pg, pg_b) * 4))
    owners = {s.instance for s, t in zip((pg, pg_b) * 4, got, strict=True) if t is not None}
    assert len(owners) == 1


async def test_fence_refuses_a_stale_holder(pg: PostgresStore, pg_b: PostgresStore) -> None:
    """After a takeover, the old holder's save_page and mark_acked write nothing."""
    old = await pg.acquire_lease("source:src", "a", 0.2)
    assert old is not None
    await pg.save_page("src", Page(records=(raw("a"),), cursor="c1"), fence=("source:src", old))
    await asyncio.sleep(0.3)
    new = await pg_b.acquire_lease("source:src", "b", 5)
    assert new is not None and new > old
    with pytest.raises(StaleLeaseError):
        await pg.save_page("src", Page(records=(raw("b"),), cursor="c2"), fence=("source:src", old))
    with pytest.raises(StaleLeaseError):
        await pg.mark_acked("src", "u1", "a", "1", fence=("source:src", old))
    assert await pg.get_cursor("src") == "c1"
    assert [r.raw.external_id for r in await pg.unacked("src")] == ["a"]
    await pg_b.mark_acked("src", "u1", "a", "1", fence=("source:src", new))
    assert await pg.unacked("src") == []


# ---- blobs ---------------------------------------------------------------------------------


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_blob_streams_in_chunks_and_reads_back(pg: PostgresStore) -> None:
    """Bytes arriving in odd pieces are stored in fixed rows and read back whole."""
    blobs = PgBlobStore(pg, chunk_bytes=1000)
    data = bytes(range(256)) * 37
    sha = hashlib.sha256(data).hexdigest()
    stored = await blobs.put_stream(_chunks(data, 333), max_bytes=10**6, expected_sha256=sha)
    assert (stored.sha256, stored.size) == (sha, len(data))
    assert await blobs.exists(sha)
    assert b"".join([c async for c in blobs.read(sha, chunk_bytes=700)]) == data
    assert await pg.pool.fetchval("SELECT count(*) FROM blob_chunks") == 10
    again = await blobs.put_bytes(data, max_bytes=10**6)
    assert again == stored
    assert await pg.pool.fetchval("SELECT count(*) FROM blob_chunks") == 10
    assert await blobs.keys() == [sha]
    assert await blobs.delete(sha) and not await blobs.delete(sha)
    assert not await blobs.exists(sha)
    assert await pg.pool.fetchval("SELECT count(*) FROM blob_chunks") == 0


async def test_blob_refusals_leave_nothing(pg: PostgresStore) -> None:
    """Too large or wrong hash: PermanentError, no row kept; unknown key: FileNotFoundError."""
    blobs = PgBlobStore(pg, chunk_bytes=4)
    with pytest.raises(PermanentError, match="quá lớn"):
        await blobs.put_stream(_chunks(b"x" * 100, 7), max_bytes=50)
    with pytest.raises(PermanentError, match="không khớp"):
        await blobs.put_bytes(b"abc", max_bytes=50, expected_sha256="0" * 64)
    assert await pg.pool.fetchval("SELECT count(*) FROM blob_chunks") == 0
    assert not await blobs.exists("0" * 64)
    with pytest.raises(FileNotFoundError):
        [c async for c in blobs.read("0" * 64)]
    empty = await blobs.put_bytes(b"", max_bytes=1)
    assert [c async for c in blobs.read(empty.sha256)] == []


async def test_open_postgres_names_the_backend(pg_url: str) -> None:
    """open_postgres returns an unopened store that opens on `async with`."""
    store = open_postgres(pg_url, instance="x")
    async with store as opened:
        assert opened.instance == "x" and await opened.schema_version() >= 2
        assert await opened.database_bytes() > 0
