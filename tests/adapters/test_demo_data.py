"""The demo seed generator: deterministic, valid, realistic, distinct, and fast enough."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

import pytest

from bridge.normalize import canonical_organ_name, parse_symbol, type_name_for
from schemas import Document
from simulators.demo_data import SeedDocument, duplicate_roads, generate

UNITS = ["000.00.33.H49", "000.15.33.H49"]


def _identity(seed: SeedDocument) -> tuple[object, ...]:
    d = seed.document
    return (d.issuer.code, d.number, d.notation, d.issued_on)


def test_same_seed_same_documents() -> None:
    """A seed always gives the same documents and files; another seed gives others."""
    assert generate(11, 200, units=UNITS) == generate(11, 200, units=UNITS)
    assert generate(11, 200, units=UNITS) != generate(12, 200, units=UNITS)


def test_every_document_is_valid_and_realistic() -> None:
    """Documents validate, name their unit, carry correct hashes and plausible Decree 30 forms."""
    seeds = generate(5, 2000, units=UNITS)
    assert len(seeds) == 2000
    for seed in seeds:
        doc = seed.document
        assert Document.model_validate(doc.model_dump(mode="json")) == doc
        assert seed.unit in UNITS and doc.recipients[0].code == seed.unit
        assert doc.issuer.code != seed.unit
        assert doc.issued_on is not None and doc.issued_on.year == 2026
        assert doc.issued_on.weekday() < 5
        assert doc.issuer.name == canonical_organ_name(doc.issuer.name)
        symbol = parse_symbol(f"{doc.number}/{doc.notation}")
        assert (symbol.number, symbol.notation) == (doc.number, doc.notation)
        assert doc.type_name == type_name_for(doc.type_name)
        if doc.type_name == "Công văn":
            assert doc.subject.startswith("V/v ")
        else:
            assert re.match(r"^(QĐ|BC|KH|TB|GM)-", doc.notation or "")
        assert doc.signer is not None and doc.signer.competence and doc.signer.name
        assert doc.priority <= 3 and not doc.confidentiality.is_secret
        assert doc.attachments and all(a.blob is None for a in doc.attachments)
        assert [a.name for a in doc.attachments] == list(seed.files)
        for attachment, data in zip(doc.attachments, seed.files.values(), strict=True):
            assert attachment.sha256 == hashlib.sha256(data).hexdigest()
            assert attachment.size == len(data)
            assert data.startswith(b"%PDF-1.4") and data.endswith(b"%%EOF\n")


def test_pdf_cross_reference_offsets_are_right() -> None:
    """Each xref entry points at its `N 0 obj` line, and startxref at the table."""
    data = next(iter(generate(8, 1, units=UNITS)[0].files.values()))
    start = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert data[start:].startswith(b"xref\n")
    entries = data[start:].split(b"\n")[3:8]
    for number, entry in enumerate(entries, start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj" % number)


def test_identities_and_files_are_distinct() -> None:
    """No two documents share an identity, a file's bytes, or a file name."""
    seeds = generate(3, 5000, units=UNITS)
    assert len({_identity(s) for s in seeds}) == len(seeds)
    hashes = [a.sha256 for s in seeds for a in s.document.attachments]
    assert len(set(hashes)) == len(hashes)
    names = [n for s in seeds for n in s.files]
    assert len(set(names)) == len(names)


def test_numbers_grow_with_dates_per_issuer() -> None:
    """Each issuer's numbers increase with its issue dates, as one yearly series does."""
    last: dict[str, tuple[dt.date, int]] = {}
    for seed in generate(4, 3000, units=UNITS):
        doc = seed.document
        assert doc.issuer.code is not None and doc.issued_on is not None and doc.number
        previous = last.get(doc.issuer.code)
        if previous is not None:
            assert previous[0] <= doc.issued_on and previous[1] < int(doc.number)
        last[doc.issuer.code] = (doc.issued_on, int(doc.number))


def test_duplicate_roads_picks_a_deterministic_fraction() -> None:
    """About `fraction` of the documents are picked, the same ones for the same seed."""
    seeds = generate(1, 400, units=UNITS)
    picked = duplicate_roads(seeds, 0.25, seed=9)
    assert len(picked) == 100 and picked == sorted(set(picked))
    assert picked == duplicate_roads(seeds, 0.25, seed=9)
    assert picked != duplicate_roads(seeds, 0.25, seed=10)
    assert duplicate_roads(seeds, 0.0, seed=1) == []
    with pytest.raises(ValueError):
        duplicate_roads(seeds, 1.5, seed=1)
    with pytest.raises(ValueError):
        generate(1, 1, units=[])


def test_twenty_thousand_documents_are_quick() -> None:
    """The benchmark's 20,000 documents build in a few seconds even on a busy machine."""
    started = time.process_time()
    seeds = generate(2026, 20_000, units=UNITS)
    assert len(seeds) == 20_000
    assert time.process_time() - started < 6.0
