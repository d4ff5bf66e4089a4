"""Fixtures of the contract suite: a started harness per source profile and the seeded documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simulators.demo_data import SeedDocument, generate
from tests.contract.harness import SOURCE_HARNESSES, UNIT, SourceHarness

SEED_COUNT = 5


@pytest.fixture(params=sorted(SOURCE_HARNESSES))
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SourceHarness]:
    """The simulator of one profile, started on loopback (or a fresh inbox folder)."""
    started = SOURCE_HARNESSES[request.param](tmp_path)
    await started.start()
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
def seeds() -> list[SeedDocument]:
    """Five realistic, distinct documents addressed to UNIT, each with one or two PDF files."""
    return generate(20261122, SEED_COUNT, units=(UNIT,))
