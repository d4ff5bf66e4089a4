"""The one retry policy of every adapter call, against simulators that fail requests.

The policy on its own (full jitter, Retry-After in both forms, the budget), then whole pulls
against simulators serving 5xx, 429 and expired tokens on every request kind: a page of many
files is stored whole, and a page cut short by a call out of budget hands over what it has
finished, which is not fetched again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import hashlib
import random
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from adapters._http import RetryPolicy, client_session, fetch, parse_retry_after, read_limited
from adapters._pools import close_session
from adapters.idesk import IdeskSettings, IdeskSource
from adapters.moffice import MofficeSettings, MofficeSource
from adapters.tdoffice.settings import TdofficeSourceSettings
from adapters.tdoffice.source import TdofficeSource
from adapters.voffice import VofficeSettings, VofficeSource
from adapters.vxp import VxpSettings, VxpSource
from bridge.blobs import BlobStore
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext
from schemas import Attachment, Document, Organ, Page, RawRecord
from simulators.idesk import IdeskSim
from simulators.moffice import MofficeSim
from simulators.server import SimServer
from simulators.tdoffice import TdofficeSim
from simulators.voffice import VofficeSim
from simulators.vxp import VxpSim

UNIT = "000.15.33.H49"
SEED = 5  # a seed whose faults fail the inbox listing at least once
FILES_PER_DOCUMENT = 3
T = TypeVar("T")


# ---- the policy ------------------------------------------------------------------------


@given(
    attempt=st.integers(1, 20),
    base_s=st.floats(0.01, 2.0),
    cap_s=st.floats(0.05, 10.0),
    seed=st.integers(0, 2**32),
)
def test_backoff_is_full_jitter_under_an_exponential_ceiling(
    attempt: int, base_s: float, cap_s: float, seed: int
) -> None:
    """Without Retry-After a wait lies in [0, min(cap, base * 2**(n-1))]; none after the last."""
    policy = RetryPolicy(attempts=21, base_s=base_s, max_backoff_s=cap_s)
    wait_s = policy.delay_s(attempt, None, random.Random(seed))
    assert wait_s is not None
    assert 0.0 <= wait_s <= min(cap_s, base_s * 2 ** (attempt - 1))
    assert RetryPolicy(attempts=attempt).delay_s(attempt, None) is None


@given(seconds=st.integers(0, 600), as_date=st.booleans())
def test_retry_after_in_either_form_is_honoured_up_to_the_cap(seconds: int, as_date: bool) -> None:
    """Retry-After as delta-seconds or as an HTTP-date: waited exactly when within the cap,
    otherwise the call gives up at once (the error keeps the server's figure)."""
    if as_date:
        when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        header = email.utils.format_datetime(when, usegmt=True)
    else:
        header = str(seconds)
    parsed = parse_retry_after(header)
    assert parsed is not None
    assert parsed == pytest.approx(seconds, abs=2.0 if as_date else 0.0)
    policy = RetryPolicy(max_retry_after_s=5.0)
    wait_s = policy.delay_s(1, parsed)
    assert wait_s == (parsed if parsed <= 5.0 else None)


@given(header=st.text(max_size=40))
def test_any_retry_after_text_is_a_wait_or_none(header: str) -> None:
    """Garbage in Retry-After never raises; what it yields is never negative."""
    parsed = parse_retry_after(header)
    assert parsed is None or parsed >= 0.0


class Flaky(SimServer):
    """A simulator whose one route answers `script` statuses in turn, then 200 "ok"."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        super().__init__()
        self.script = list(script)
        self.app.router.add_route("*", "/thing", self._thing)

    async def _thing(self, request: web.Request) -> web.Response:
        if self.script:
            status, headers = self.script.pop(0)
            return web.Response(status=status, headers=headers, text="nope")
        return web.Response(text="ok")


async def fetch_thing(sim: SimServer, policy: RetryPolicy, tmp_path: Path) -> bytes:
    ctx = AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))
    session = client_session(ctx, timeout_s=5)
    try:
        return await fetch(
            session,
            "GET",
            f"{sim.base_url}/thing",
            what="thing",
            policy=policy,
            read=lambda resp: read_limited(resp, 100, "thing"),
        )
    finally:
        await close_session(session)


QUICK = RetryPolicy(attempts=5, base_s=0.01, max_backoff_s=0.05)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
async def test_retryable_statuses_are_tried_again(status: int, tmp_path: Path) -> None:
    """5xx, 408 and 429 are tried again in place until the call succeeds."""
    async with Flaky([(status, {})] * 3) as sim:
        assert await fetch_thing(sim, QUICK, tmp_path) == b"ok"
        assert len(sim.requests) == 4


@pytest.mark.parametrize(
    ("status", "error"), [(400, PermanentError), (404, PermanentError), (403, AuthError)]
)
async def test_other_4xx_are_not_retried(
    status: int, error: type[Exception], tmp_path: Path
) -> None:
    """A refusal that a repeat cannot change surfaces after one request."""
    async with Flaky([(status, {})]) as sim:
        with pytest.raises(error):
            await fetch_thing(sim, QUICK, tmp_path)
        assert len(sim.requests) == 1


async def test_budget_of_attempts_then_the_error(tmp_path: Path) -> None:
    """A call that keeps failing stops after `attempts` requests with the last error."""
    async with Flaky([(503, {})] * 10) as sim:
        with pytest.raises(TransientError, match="503"):
            await fetch_thing(sim, RetryPolicy(attempts=3, base_s=0.01), tmp_path)
        assert len(sim.requests) == 3


async def test_retry_after_is_waited_and_a_long_one_is_handed_back(tmp_path: Path) -> None:
    """`Retry-After: 1` is waited before the next request; one past the cap ends the call at
    once with `retry_after_s` for the source's own backoff."""
    async with Flaky([(429, {"Retry-After": "1"})]) as sim:
        started = time.monotonic()
        assert await fetch_thing(sim, QUICK, tmp_path) == b"ok"
        assert time.monotonic() - started >= 0.95
    async with Flaky([(503, {"Retry-After": "120"})] * 2) as sim:
        with pytest.raises(TransientError) as raised:
            await fetch_thing(sim, QUICK, tmp_path)
        assert raised.value.retry_after_s == 120
        assert len(sim.requests) == 1


# ---- whole pulls under faults ------------------------------------------------------------


def files_of(n: int) -> dict[str, bytes]:
    return {f"Tệp {n}-{k}.pdf": b"%PDF-1.4 " + bytes([n % 256, k]) * 50 for k in range(3)}


def document(n: int) -> Document:
    """Document `n`, its three files (`files_of(n)`) declared."""
    attachments = tuple(
        Attachment(
            name=name,
            content_type="application/pdf",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        for name, data in files_of(n).items()
    )
    return Document(
        issuer=Organ(code="000.00.00.H49", name="Ủy ban nhân dân tỉnh Quảng Ninh"),
        number=str(n),
        notation="UBND-VP",
        issued_on=dt.date(2024, 5, n % 28 + 1),
        type_name="Công văn",
        subject=f"V/v kiểm thử chịu lỗi số {n}",
        attachments=attachments,
    )


def faulty(sim: SimServer, *, error_rate: float = 0.05, throttle_rate: float = 0.02) -> None:
    """5xx and 429 (Retry-After: 1) on every request of `sim`, listings to receipts."""
    sim.faults.set_rates(error_rate=error_rate, throttle_rate=throttle_rate)
    sim.faults.retry_after_s = 1


def moffice(sim: MofficeSim, root: Path) -> MofficeSource:
    settings = MofficeSettings(
        name="retry-moffice",
        profile="moffice",
        base_url=sim.base_url,
        username="vanthu",
        password=SecretStr("matkhau"),
        page_size=100,
        download_concurrency=8,
    )
    return MofficeSource(settings, AdapterContext(units=(UNIT,), blobs=BlobStore(root / "blobs")))


def voffice(sim: VofficeSim, root: Path) -> VofficeSource:
    settings = VofficeSettings(
        name="retry-voffice",
        profile="voffice",
        base_url=sim.base_url,
        client_id="lienthong",
        client_secret=SecretStr("bimat"),
        page_size=100,
        download_concurrency=8,
    )
    return VofficeSource(settings, AdapterContext(units=(UNIT,), blobs=BlobStore(root / "blobs")))


def tdoffice(sim: TdofficeSim, root: Path) -> TdofficeSource:
    settings = TdofficeSourceSettings(
        name="retry-tdoffice",
        profile="tdoffice",
        base_url=sim.base_url,
        api_key=SecretStr(sim.api_key),
        page_size=5,
        download_concurrency=8,
    )
    ctx = AdapterContext(units=(UNIT,), blobs=BlobStore(root / "blobs"))
    return TdofficeSource(settings, ctx)


async def pull_and_ack(source: Any, cursor: str | None = None) -> tuple[list[Page], str | None]:
    """One pull, every record acknowledged as the pipeline would after storing its page."""
    pages: list[Page] = []
    async with asyncio.timeout(60):
        async for page in source.pull(cursor):
            pages.append(page)
            cursor = page.cursor if page.cursor is not None else cursor
            for record in page.records:
                await source.acknowledge(record)
    return pages, cursor


def whole(records: list[RawRecord]) -> dict[str, int]:
    """Each readable record's number of stored files."""
    assert all(r.error is None for r in records), [r.error for r in records if r.error]
    return {r.external_id: len(r.attachments) for r in records}


def run(scenario: Callable[[Path], Coroutine[Any, Any, T]]) -> T:
    with tempfile.TemporaryDirectory() as root:
        return asyncio.run(scenario(Path(root)))


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_moffice_page_of_75_files_is_stored_whole_under_faults(seed: int) -> None:
    """25 documents with 3 files each, one page, 5 % 5xx + 2 % 429 on every request (login,
    listing, every file, every receipt): one pull stores them all, every receipt arrives."""

    async def scenario(root: Path) -> None:
        async with MofficeSim(seed=seed) as sim:
            assert isinstance(sim, MofficeSim)
            ids = [sim.add_document(document(n), files_of(n), unit=UNIT) for n in range(25)]
            faulty(sim)
            async with moffice(sim, root) as source:
                pages, _ = await pull_and_ack(source)
            assert whole([r for p in pages for r in p.records]) == dict.fromkeys(ids, 3)
            assert {str(r.item_id) for r in sim.receipts} == set(ids)

    run(scenario)


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_voffice_page_of_bundles_is_stored_whole_under_faults(seed: int) -> None:
    """25 documents with a 3-file bundle each under 5 % 5xx + 2 % 429 on every request
    (token, listing, bundles, acknowledgements): one pull stores all of them."""

    async def scenario(root: Path) -> None:
        async with VofficeSim(seed=seed) as sim:
            assert isinstance(sim, VofficeSim)
            ids = [sim.add_document(document(n), files_of(n), unit=UNIT) for n in range(25)]
            faulty(sim)
            async with voffice(sim, root) as source:
                pages, _ = await pull_and_ack(source)
            assert whole([r for p in pages for r in p.records]) == dict.fromkeys(ids, 3)
            assert {a.doc_id for a in sim.acks} == set(ids)

    run(scenario)


async def test_tdoffice_inbox_and_files_under_faults(tmp_path: Path) -> None:
    """The tdoffice inbox (pages of 5) and its files under 5 % 5xx + 2 % 429: one pull reads
    them all."""
    async with TdofficeSim(seed=SEED, api_key="k") as sim:
        assert isinstance(sim, TdofficeSim)
        ids = [sim.add_document(document(n), files_of(n), unit=UNIT) for n in range(40)]
        faulty(sim)
        async with tdoffice(sim, tmp_path) as source:
            pages, _ = await pull_and_ack(source)
    assert whole([r for p in pages for r in p.records]) == dict.fromkeys(ids, 3)


async def test_expiring_tokens_are_renewed_in_the_call(tmp_path: Path) -> None:
    """Tokens revoked at random (one request in ten) cost a login each, not the page."""
    async with MofficeSim(seed=5) as sim:
        assert isinstance(sim, MofficeSim)
        ids = [sim.add_document(document(n), files_of(n), unit=UNIT) for n in range(10)]
        sim.faults.set_rates(token_expiry_rate=0.1)
        async with moffice(sim, tmp_path) as source:
            pages, _ = await pull_and_ack(source)
        expired = sim.faults.counts.get("token_expired", 0)
    assert whole([r for p in pages for r in p.records]) == dict.fromkeys(ids, 3)
    assert expired > 0 and sim.logins > 1


async def test_a_second_401_after_renewal_is_an_auth_error(tmp_path: Path) -> None:
    """Tokens refused again right after renewal, try after try: AuthError once the call's
    budget is spent, never a loop."""
    async with MofficeSim(seed=5) as sim:
        assert isinstance(sim, MofficeSim)
        sim.add_document(document(1), {}, unit=UNIT)
        sim.faults.set_rates(token_expiry_rate=1.0)
        async with moffice(sim, tmp_path) as source:
            source.retry = QUICK
            with pytest.raises(AuthError):
                await pull_and_ack(source)


@pytest.mark.parametrize("profile", ["moffice", "voffice"])
async def test_page_cut_short_hands_over_its_finished_prefix(profile: str, tmp_path: Path) -> None:
    """When a file call spends its budget, the records finished before it are yielded (with
    a cursor covering exactly them) and the error raised; the next pull does not fetch their
    files again and brings the rest."""
    sim: Any = MofficeSim(seed=11) if profile == "moffice" else VofficeSim(seed=11)
    async with sim:
        ids = [sim.add_document(document(n), files_of(n), unit=UNIT) for n in range(30)]
        async with (moffice if profile == "moffice" else voffice)(sim, tmp_path) as source:
            source.retry = RetryPolicy(attempts=1)  # every fault spends a call's budget
            sim.faults.set_rates(error_rate=0.03)
            sim.faults.exempt = (
                "/api/auth",
                "/oauth2",
                "/api/v1/incoming",
                "/api/documents/received",
            )
            first: list[Page] = []
            with pytest.raises(TransientError):
                async with asyncio.timeout(30):
                    async for page in source.pull(None):
                        first.append(page)
            assert first, "nothing handed over before the failure"
            (prefix,) = first
            held = [r.external_id for r in prefix.records]
            assert held == ids[: len(held)] and 0 < len(held) < len(ids)
            fetched_before = len(sim.requests)
            sim.faults.set_rates()
            pages, _ = await pull_and_ack(source, prefix.cursor)
        later = [r.path for r in sim.requests[fetched_before:]]
    rest = [r.external_id for p in pages for r in p.records]
    assert rest == ids[len(held) :], "the rest, and nothing already handed over"
    held_files = {f.sha256 for r in prefix.records for f in r.attachments}
    assert len(held_files) == len(held) * 3
    downloads = [p for p in later if "/files/" in p or p.endswith("/files.zip")]
    assert len(downloads) == len(rest) * (3 if profile == "moffice" else 1)


async def test_vxp_and_idesk_pulls_under_faults(tmp_path: Path) -> None:
    """The vxp node (list, getEdoc, updateStatus) and iDesk (GetIncomingDocuments,
    ConfirmReceived) under 5 % 5xx + 2 % 429: every message and document read and confirmed."""
    system, secret = "vxp.saas.03", "s3cret-node-key"
    async with VxpSim(seed=SEED, systems={system: secret}) as vxp, IdeskSim(seed=SEED) as idesk:
        assert isinstance(vxp, VxpSim) and isinstance(idesk, IdeskSim)
        doc_ids = [vxp.add_document(document(n), files_of(n), unit=UNIT) for n in range(15)]
        desk_ids = [idesk.add_document(document(n), files_of(n), unit=UNIT) for n in range(15)]
        faulty(vxp)
        faulty(idesk)
        ctx = AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))
        node = VxpSettings(name="n", base_url=vxp.base_url, system_id=system, secret=secret)
        desk = IdeskSettings(
            name="d",
            profile="idesk",
            base_url=idesk.base_url,
            username="vanthu",
            password=SecretStr("idesk-secret"),
            page_size=5,
        )
        async with VxpSource(node, ctx) as node_source, IdeskSource(desk, ctx) as desk_source:
            from_node, _ = await pull_and_ack(node_source)
            from_desk, _ = await pull_and_ack(desk_source)
        assert vxp.pending() == [], "every message acknowledged"
        assert {d for d, _ in idesk.confirmed} == set(desk_ids)
    assert {r.ack for p in from_node for r in p.records} == set(doc_ids)
    assert [r.external_id for p in from_desk for r in p.records] == desk_ids
    assert vxp.faults.counts and idesk.faults.counts, "the simulators did fail"
