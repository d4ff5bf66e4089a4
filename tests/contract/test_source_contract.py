"""The contract every source adapter passes, run against each profile's simulator.

A source yields valid documents, resumes from its cursor after a restart, acknowledges only
what is stored, maps failures to the error taxonomy, and turns unreadable input into error
records. See `harness.py` for how each profile answers these questions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from adapters import registry
from adapters._http import RetryPolicy
from bridge.errors import AuthError, TransientError
from bridge.health import Health
from bridge.ingest import SourceRunner
from bridge.normalize import canonical_organ_name, fold_key
from bridge.pipeline import Processor
from bridge.store import SqliteStore
from schemas import Document, RawRecord
from simulators.demo_data import SeedDocument
from tests.contract.harness import (
    SOURCE_HARNESSES,
    UNIT,
    SourceHarness,
    drain,
    first_page,
)

WITH_CREDENTIALS = sorted(p for p, h in SOURCE_HARNESSES.items() if h.has_credentials)
OVER_HTTP = sorted(p for p, h in SOURCE_HARNESSES.items() if h.speaks_http)


def seed_all(harness: SourceHarness, seeds: list[SeedDocument]) -> dict[str, SeedDocument]:
    return {harness.seed(item): item for item in seeds}


def assert_record_shape(harness: SourceHarness, record: RawRecord) -> None:
    assert record.error is None, f"{record.external_id}: {record.error}"
    assert record.payload, f"{record.external_id}: empty payload"
    assert record.external_id and record.version, record
    assert record.unit == UNIT
    assert record.received_at.tzinfo is not None
    for att in record.attachments:
        assert att.blob == att.sha256, f"{att.name}: blob key is not its SHA-256"
        data = harness.blobs.path(att.sha256).read_bytes()
        assert hashlib.sha256(data).hexdigest() == att.sha256, f"{att.name}: bytes differ"
        assert len(data) == att.size, f"{att.name}: size {att.size} but {len(data)} bytes stored"


def assert_same_identity(mapped: Document, seeded: Document) -> None:
    assert mapped.number == seeded.number
    assert fold_key(mapped.notation or "") == fold_key(seeded.notation or "")
    assert mapped.issued_on == seeded.issued_on
    if mapped.issuer.code is not None:
        assert mapped.issuer.code == seeded.issuer.code
    else:
        assert fold_key(canonical_organ_name(mapped.issuer.name) or "") == fold_key(
            canonical_organ_name(seeded.issuer.name) or ""
        )
    assert fold_key(mapped.subject) == fold_key(seeded.subject)


async def test_yields_valid_documents(harness: SourceHarness, seeds: list[SeedDocument]) -> None:
    """Seeded documents come back once caught up: well-formed records, files stored, identity kept."""
    seeded = seed_all(harness, seeds)
    async with harness.source() as source:
        records, _ = await drain(source)
    assert {r.external_id for r in records} == set(seeded)
    profile = registry()[harness.profile]
    for record in records:
        assert_record_shape(harness, record)
        item = seeded[record.external_id]
        assert {a.sha256 for a in record.attachments} == {
            a.sha256 for a in item.document.attachments
        }
        assert_same_identity(profile.to_document(record), item.document)


async def test_resumes_from_cursor_after_restart(
    harness: SourceHarness, seeds: list[SeedDocument]
) -> None:
    """A new instance given the last stored cursor reads the rest: nothing missed, nothing new."""
    seeded = seed_all(harness, seeds)
    small = harness.small_pages(2)
    async with harness.source(**small) as source:
        page = await first_page(source)
        assert page.records, "the first page of a non-empty inbox is empty"
        for record in page.records:  # what the pipeline does with a stored page
            await source.acknowledge(record)
    if small:
        assert len(page.records) <= 2, f"page_size 2 gave a page of {len(page.records)}"
    async with harness.source(**small) as restarted:
        rest, _ = await drain(restarted, page.cursor)
    first_ids = {r.external_id for r in page.records}
    rest_ids = {r.external_id for r in rest}
    assert first_ids | rest_ids == set(seeded)
    versions = {(r.external_id, r.version) for r in page.records}
    for record in rest:
        assert record.error is None, record.error
        if record.external_id in first_ids:
            assert (record.external_id, record.version) in versions, "a re-read changed version"


async def test_resumes_after_catching_up(harness: SourceHarness, seeds: list[SeedDocument]) -> None:
    """From the cursor of a finished pull, a new instance reads what arrived since, and any
    record it reads again is the same (external_id, version) as before."""
    seeded = seed_all(harness, seeds[:3])
    async with harness.source() as source:
        before, cursor = await drain(source)
        for record in before:
            await source.acknowledge(record)
    assert {r.external_id for r in before} == set(seeded)
    later = seed_all(harness, seeds[3:])
    async with harness.source() as restarted:
        after, _ = await drain(restarted, cursor)
    assert set(later) <= {r.external_id for r in after}, "missed documents added later"
    known = {(r.external_id, r.version) for r in before}
    for record in after:
        if record.external_id in seeded:
            assert (record.external_id, record.version) in known, "a re-read changed version"
        else:
            assert record.external_id in later, f"unexpected record {record.external_id}"


async def test_acknowledges_only_what_is_stored(
    harness: SourceHarness, seeds: list[SeedDocument]
) -> None:
    """Pulling acknowledges nothing; acknowledge marks exactly its record; twice is harmless."""
    seeded = seed_all(harness, seeds)
    async with harness.source() as source:
        records, _ = await drain(source)
        assert harness.acknowledged() == set()
        assert harness.writes() == [], "the pull changed state at the source"
        await source.acknowledge(records[0])
        expected = {records[0].external_id} if harness.acknowledges else set()
        assert harness.acknowledged() == expected
        for record in records:
            await source.acknowledge(record)
        expected = set(seeded) if harness.acknowledges else set()
        assert harness.acknowledged() == expected
        for record in records:
            await source.acknowledge(record)
        assert harness.acknowledged() == expected
        if not harness.acknowledges:
            assert harness.writes() == [], "a profile without receipts was written to"
    async with harness.source() as restarted:
        again, _ = await drain(restarted)
    if harness.ack_removes:
        assert again == [], "acknowledged records came back from a source whose ack removes them"


async def test_system_down_is_transient(harness: SourceHarness, seeds: list[SeedDocument]) -> None:
    """A system answering 503 (a missing folder, an IMAP BYE) raises TransientError."""
    seed_all(harness, seeds[:1])
    harness.go_down()
    async with harness.source() as source:
        with pytest.raises(TransientError):
            await source.check()
        with pytest.raises(TransientError):
            await drain(source)


async def test_system_unreachable_is_transient(
    harness: SourceHarness, seeds: list[SeedDocument]
) -> None:
    """A system that is gone (connection refused, folder removed) raises TransientError."""
    seed_all(harness, seeds[:1])
    await harness.vanish()
    async with harness.source() as source:
        with pytest.raises(TransientError):
            await drain(source)
        with pytest.raises(TransientError):
            await source.check()


@pytest.mark.parametrize("harness", WITH_CREDENTIALS, indirect=True)
async def test_wrong_credentials_are_auth_error(
    harness: SourceHarness, seeds: list[SeedDocument]
) -> None:
    """Refused credentials raise AuthError from check and from pull."""
    seed_all(harness, seeds[:1])
    async with harness.source(**harness.wrong_credentials()) as source:
        with pytest.raises(AuthError):
            await source.check()
        with pytest.raises(AuthError):
            await drain(source)


@pytest.mark.parametrize("harness", OVER_HTTP, indirect=True)
async def test_throttled_is_transient_with_retry_after(
    harness: SourceHarness, seeds: list[SeedDocument]
) -> None:
    """A 429 with Retry-After raises TransientError carrying retry_after_s."""
    seed_all(harness, seeds[:1])
    harness.throttle(retry_after_s=7)
    async with harness.source() as source:
        with pytest.raises(TransientError) as raised:
            await drain(source)
    assert raised.value.retry_after_s == pytest.approx(7)


async def test_unreadable_input_becomes_error_record(
    harness: SourceHarness, seeds: list[SeedDocument]
) -> None:
    """Junk from the source (a broken page, record or message) is an error record, not a raise."""
    overrides = harness.serve_junk()
    seed_all(harness, seeds[:2])
    async with harness.source(**overrides) as source:
        records, _ = await drain(source)
        for record in records:  # stored records are acknowledged, quarantined ones included
            await source.acknowledge(record)
    errors = [r for r in records if r.error is not None]
    assert errors, "the junk did not become an error record"
    for record in errors:
        assert record.external_id and record.unit == UNIT  # a page has no version of its own
        assert record.error and record.error.strip()


async def test_keeps_reading_after_unreadable_input(
    harness: SourceHarness, seeds: list[SeedDocument]
) -> None:
    """After junk that was served once, later pulls from the stored cursor still bring the
    documents it stood in front of, and documents that arrive afterwards."""
    overrides = harness.serve_junk()
    seeded = set(seed_all(harness, seeds[:2]))
    good: set[str] = set()
    cursor = None
    async with harness.source(**overrides) as source:
        for _ in range(3):  # a page-level error may end one pull; the next polls go on
            pulled, cursor = await drain(source, cursor)
            good |= {r.external_id for r in pulled if r.error is None}
            if seeded <= good:
                break
        assert seeded <= good, f"never read after the junk: {sorted(seeded - good)}"
        later = seed_all(harness, seeds[2:3])
        pulled, cursor = await drain(source, cursor)
    assert set(later) <= {r.external_id for r in pulled}, "blind to documents added later"


ACKNOWLEDGING_OVER_HTTP = sorted(
    p for p, h in SOURCE_HARNESSES.items() if h.acknowledges and h.speaks_http
)


@pytest.mark.parametrize("harness", ACKNOWLEDGING_OVER_HTTP, indirect=True)
async def test_runner_notes_exactly_the_acknowledgements_that_got_through(
    harness: SourceHarness, seeds: list[SeedDocument], tmp_path: Path
) -> None:
    """The runner sends receipts several at a time; when some fail it raises, and the store
    notes as acknowledged exactly what the system received. The rest go out on the next pass."""
    seeded = seed_all(harness, seeds)
    async with SqliteStore(tmp_path / "s.sqlite3") as store, harness.source() as source:
        records, _ = await drain(source)
        await store.save_records(records)
        processor = Processor(store, {}, lambda name: None, lambda unit: ())
        runner = SourceRunner(source, store, processor, Health(source.name, "test"), 1.0)
        source.retry = RetryPolicy(attempts=1)  # type: ignore[attr-defined]  # one try each
        harness.sim.faults.error_rate = 0.5
        with pytest.raises(TransientError):
            await runner.acknowledge(records)
        pending = {r.raw.external_id for r in await store.unacked(source.name)}
        assert pending, "no receipt failed: the test proves nothing"
        assert set(seeded) - pending == harness.acknowledged()
        harness.sim.faults.error_rate = 0.0
        await runner.ack_pending()
        assert await store.unacked(source.name) == []
        assert harness.acknowledged() == set(seeded)


@pytest.mark.parametrize("harness", ["tdoffice"], indirect=True)
async def test_a_source_back_from_an_outage_flows_within_seconds(
    harness: SourceHarness, seeds: list[SeedDocument], tmp_path: Path
) -> None:
    """While its system is down the runner asks it again every few seconds (not after a
    backoff grown to minutes), and the backlog is stored within seconds of its return."""
    import asyncio
    import time

    from tests.e2e.harness import wait_until

    seeded = seed_all(harness, seeds)
    harness.go_down()
    async with SqliteStore(tmp_path / "s.sqlite3") as store, harness.source() as source:
        source.retry = RetryPolicy(attempts=1)  # type: ignore[attr-defined]  # runner's waits only
        processor = Processor(store, {}, lambda name: None, lambda unit: ())
        health = Health(source.name, "test", base_s=2.0)
        runner = SourceRunner(source, store, processor, health, 0.2)
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        try:
            await asyncio.sleep(20)
            tries = harness.sim.faults.counts.get("down", 0)
            harness.sim.faults.down = False
            back = time.monotonic()

            async def stored() -> bool:
                rows = await store.db.execute_fetchall("SELECT count(*) FROM records")
                return int(next(iter(rows))[0]) >= len(seeded)

            await wait_until(stored, timeout_s=30, what="the backlog after the outage")
            after_s = time.monotonic() - back
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
    assert tries >= 5, f"asked {tries} times in a 20 s outage: the backoff grew to minutes"
    assert after_s <= 8, f"the backlog waited {after_s:.1f}s after the system came back"
    assert health.state == "ok"


@pytest.mark.parametrize("harness", ACKNOWLEDGING_OVER_HTTP, indirect=True)
@pytest.mark.parametrize("fault_seed", [1, 2])
async def test_receipts_overlapping_the_next_page_lose_nothing_under_faults(
    harness: SourceHarness, seeds: list[SeedDocument], tmp_path: Path, fault_seed: int
) -> None:
    """The runner sends a page's receipts while it fetches and stores the next one. With a
    third of every request failing (lists, files and receipts alike, one try each), every
    record ends stored and acknowledged, and nothing is acknowledged before it is stored."""
    import asyncio
    import random

    from tests.e2e.harness import wait_until

    seeded = seed_all(harness, seeds)
    harness.sim.rng = random.Random(fault_seed)
    harness.sim.faults.error_rate = 0.3
    async with (
        SqliteStore(tmp_path / "s.sqlite3") as store,
        harness.source(**harness.small_pages(2)) as source,
    ):
        source.retry = RetryPolicy(attempts=1)  # type: ignore[attr-defined]  # every fault shows
        processor = Processor(store, {}, lambda name: None, lambda unit: ())
        health = Health(source.name, "test", base_s=0.05, max_s=0.2)  # retry at once
        runner = SourceRunner(source, store, processor, health, 0.05)
        stored: set[str] = set()
        early: set[str] = set()

        async def settled() -> bool:
            rows = await store.db.execute_fetchall("SELECT external_id, acked FROM records")
            stored.update(str(r[0]) for r in rows)
            early.update(harness.acknowledged() - stored)  # told before it was on disk
            return set(seeded) <= stored and all(r[1] for r in rows)

        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        try:
            await wait_until(settled, timeout_s=60, what="every record stored and acknowledged")
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
    assert not early, f"acknowledged before stored: {sorted(early)}"
    assert harness.acknowledged() == set(seeded)
    assert harness.sim.faults.counts.get("error", 0) > 0, "no request failed: proves nothing"
