"""Matching cost at scale: 1,000,000 stored documents, then 10,000 new records (half of them
another road of a stored document) through the real Matcher on a real SQLite file.

Run as `python -m bench.bench_matching [--documents N] [--records M] [--data DIR]`; prints
one JSON line, then a one-line summary. Targets: ≤ 1 ms per record, cold start ≤ 2 s (open
the store and match the first record).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bridge.dedup import Matcher
from bridge.normalize import fold_key, organ_name_key
from bridge.store import SqliteStore
from schemas import Attachment, Document, Organ, RawRecord

TARGET_RECORD_MS = 1.0
TARGET_COLD_S = 2.0
ISSUERS = [
    (f"000.00.{i % 100:02d}.H{40 + i // 100:02d}", f"Sở Nội vụ tỉnh số {i}") for i in range(600)
]
NOTATIONS = ["UBND-HC", "QĐ-UBND", "KH-SGDĐT", "TB-VPCP", "BC-UBND"]
START = dt.date(2015, 1, 1)
BATCH = 50_000


def _fields(n: int) -> tuple[str, str, str, str, str, dt.date]:
    """Number, notation, issuer code and name, file sha and date of synthetic document n."""
    code, name = ISSUERS[n % len(ISSUERS)]
    day = START + dt.timedelta(days=(n // len(ISSUERS)) % 3650)
    sha = hashlib.sha256(n.to_bytes(8, "big")).hexdigest()
    return str(n // 7 + 1), NOTATIONS[n % len(NOTATIONS)], code, name, sha, day


def _document(n: int) -> Document:
    number, notation, code, name, sha, day = _fields(n)
    return Document(
        issuer=Organ(code=code, name=name),
        number=number,
        notation=notation,
        issued_on=day,
        subject=f"V/v báo cáo định kỳ số {n}",
        attachments=(Attachment(name=f"{number}.pdf", size=1000, sha256=sha),),
    )


def _rows(count: int) -> Iterator[tuple[tuple[object, ...], tuple[str, int]]]:
    """Document rows as `SqliteStore.apply` writes them; data JSON from one template."""
    template = _document(0).model_dump_json()
    keys = {k: organ_name_key(name) for k, name in ISSUERS}
    stamp = dt.datetime.now(dt.UTC).isoformat()
    base = _fields(0)
    for n in range(1, count + 1):
        number, notation, code, name, sha, day = _fields(n)
        data = (
            template.replace(base[2], code)
            .replace(base[3], name)
            .replace(f'"number":"{base[0]}"', f'"number":"{number}"')
            .replace(f'"notation":"{base[1]}"', f'"notation":"{notation}"')
            .replace(base[5].isoformat(), day.isoformat())
            .replace(base[4], sha)
            .replace("định kỳ số 0", f"định kỳ số {n}")
        )
        triple = f"{number}|{fold_key(notation)}|{day.isoformat()}"
        row = (n, triple, code, keys[code], None, "active", 1, data, stamp, stamp)
        yield row, (sha, n)


def populate(path: Path, count: int) -> float:
    """Insert `count` documents with executemany into a freshly migrated store; seconds."""
    asyncio.run(_migrate(path))
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    rows = _rows(count)
    while batch := [next(rows, None) for _ in range(BATCH)]:
        done = [b for b in batch if b is not None]
        if not done:
            break
        db.executemany(
            "INSERT INTO documents (id, triple, issuer_code, issuer_key, fallback, state,"
            " revision, data, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [d for d, _ in done],
        )
        db.executemany("INSERT INTO attachment_index VALUES (?, ?)", [a for _, a in done])
        db.commit()
    db.close()
    return time.perf_counter() - started


async def _migrate(path: Path) -> None:
    async with SqliteStore(path):
        pass


def _incoming(count: int, stored: int) -> list[Document]:
    """Half are other roads of stored documents (reformatted), half are new documents."""
    docs = []
    for i in range(count):
        if i % 2 == 0:
            n = 1 + (i * 7919) % stored
            doc = _document(n)
            docs.append(
                doc.model_copy(
                    update={"number": f"0{doc.number}", "notation": (doc.notation or "").lower()}
                )
            )
        else:
            docs.append(_document(stored + 1 + i))
    return docs


async def _save_records(store: SqliteStore, count: int) -> list[int]:
    now = dt.datetime.now(dt.UTC)
    raws = [
        RawRecord(
            source="bench",
            unit="000.00.33.H49",
            external_id=str(i),
            version="1",
            media_type="application/json",
            payload=b"{}",
            received_at=now,
        )
        for i in range(count)
    ]
    return await store.save_records(raws)


async def _prepare(path: Path, count: int) -> list[int]:
    """Store the incoming records beforehand: cold start measures opening and matching only."""
    async with SqliteStore(path) as store:
        return await _save_records(store, count)


async def measure(path: Path, count: int, stored: int) -> dict[str, float]:
    docs = _incoming(count, stored)
    ids = await _prepare(path, count)
    started = time.perf_counter()
    store = await SqliteStore(path).open()
    opened = time.perf_counter()
    matcher = Matcher(store, lambda unit: ["home"])
    head = await store.record(ids[0])
    assert head is not None
    first = await matcher.decide(head, docs[0], "tdoffice")
    cold_s = time.perf_counter() - started
    wanted = set(ids)
    records = [r for r in await store.unprocessed(count) if r.id in wanted]
    samples, outcomes = [], {first.outcome: 1}
    try:
        for record, doc in zip(records[1:], docs[1:], strict=True):
            t0 = time.perf_counter()
            outcome = await matcher.decide(record, doc, "tdoffice")
            samples.append((time.perf_counter() - t0) * 1000)
            outcomes[outcome.outcome] = outcomes.get(outcome.outcome, 0) + 1
    finally:
        await store.close()
    samples.sort()
    return {
        "cold_start_s": round(cold_s, 3),
        "open_s": round(opened - started, 3),
        "per_record_ms_mean": round(statistics.fmean(samples), 4),
        "per_record_ms_p50": round(samples[len(samples) // 2], 4),
        "per_record_ms_p99": round(samples[int(len(samples) * 0.99)], 4),
        "duplicates": outcomes.get("duplicate", 0),
        "new": outcomes.get("document", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--data", type=Path, default=None, help="folder for the SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.data) as tmp:
        path = Path(tmp) / "bench.sqlite3"
        insert_s = populate(path, args.documents)
        timing = asyncio.run(measure(path, args.records, args.documents))
    ok = (
        timing["per_record_ms_mean"] <= TARGET_RECORD_MS and timing["cold_start_s"] <= TARGET_COLD_S
    )
    result: dict[str, object] = {
        "bench": "matching",
        "documents": args.documents,
        "records": args.records,
        "insert_s": round(insert_s, 1),
        **timing,
        "ok": ok,
    }
    print(json.dumps(result))
    print(
        f"matching: {result['per_record_ms_mean']} ms/record (p99 {result['per_record_ms_p99']}),"
        f" cold start {result['cold_start_s']} s over {args.documents:,} documents"
        f" ({result['duplicates']} duplicates, {result['new']} new):"
        f" {'within' if result['ok'] else 'MISSES'} targets (≤ {TARGET_RECORD_MS} ms, ≤ {TARGET_COLD_S} s)"
    )


if __name__ == "__main__":
    main()
