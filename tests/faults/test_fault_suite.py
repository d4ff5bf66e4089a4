"""A flaky office network costs retries, never documents.

The daemon runs as a subprocess against simulators of every road, with pages as large as each
profile allows and several files per document: 5 % HTTP 5xx and 2 % 429 (`Retry-After: 1`) on
every request of every source (lists, downloads, bundles, receipts, status), then 20 % for a
while, expiring tokens, a mailbox batch of 50 messages, a 20 s home-system outage and three
kill -9. At the end every document is at its home system exactly once, every record has been
acknowledged to its source, every status message owed to a sender has been sent, and nothing is
pending.
"""

from __future__ import annotations

import asyncio
import hashlib
import signal
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from schemas import Attachment
from simulators.demo_data import SeedDocument, generate
from simulators.idesk import IdeskSim
from simulators.mailbox import ImapSim
from simulators.moffice import MofficeSim
from simulators.tdoffice import TdofficeSim
from simulators.voffice import VofficeSim
from simulators.vxp import VxpSim
from tests.faults.harness import (
    UNIT,
    UNIT_NAME,
    DaemonProcess,
    home_identity,
    sources_wiring,
    wait_until,
)

HTTP_DOCS = 150
MAIL_BATCH = 50
# The largest page each profile allows (adapters/*/settings.py, from the profiles).
MAX_PAGE = {"tdoffice": 200, "moffice": 100, "voffice": 100, "idesk": 50}
EXTRA_FILES = 2
Identity = tuple[str, str, str, str]


def _expected(seed: SeedDocument) -> Identity:
    doc = seed.document
    assert doc.issued_on is not None
    return (str(doc.issuer.code), str(doc.number), str(doc.notation), doc.issued_on.isoformat())


def _with_annexes(seed: SeedDocument) -> SeedDocument:
    """The same document with two more files (annexes): every page has several downloads."""
    files = dict(seed.files)
    extra = []
    for i in range(EXTRA_FILES):
        name = f"phu-luc-{i + 1}-{seed.document.number}.pdf"
        data = b"%PDF-1.4\n% annex " + f"{seed.document.notation} {i}".encode() + b"\n%%EOF\n"
        files[name] = data
        extra.append(
            Attachment(
                name=name,
                content_type="application/pdf",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    document = seed.document.model_copy(
        update={"attachments": (*seed.document.attachments, *extra)}
    )
    return SeedDocument(document=document, files=files, unit=seed.unit)


async def _start_sims(stack: AsyncExitStack) -> tuple[dict[str, Any], ImapSim, TdofficeSim]:
    sims: dict[str, Any] = {
        "tdoffice": TdofficeSim(seed=1, api_key="src"),
        "moffice": MofficeSim(seed=2),
        "voffice": VofficeSim(seed=3),
        "idesk": IdeskSim(seed=4),
        "vxp": VxpSim(seed=5),
    }
    mailbox = ImapSim(seed=7)
    home = TdofficeSim(seed=6, api_key="home")
    for sim in (*sims.values(), mailbox, home):
        await sim.start()
        stack.push_async_callback(sim.close)
    _set_faults(sims, error_rate=0.05, throttle_rate=0.02)
    return sims, mailbox, home


def _set_faults(sims: dict[str, Any], *, error_rate: float, throttle_rate: float) -> None:
    """Every request of every HTTP source: lists, downloads, bundles, receipts, status."""
    for sim in sims.values():
        sim.faults.error_rate = error_rate
        sim.faults.throttle_rate = throttle_rate
        sim.faults.retry_after_s = 1
        sim.faults.exempt = ()


def _seed(sims: dict[str, Any], mailbox: ImapSim) -> set[Identity]:
    """Each document to one road, every fourth also to the next; then 50 mails at once."""
    seeds = [
        _with_annexes(s) for s in generate(seed=2027, count=HTTP_DOCS + MAIL_BATCH, units=[UNIT])
    ]
    roads = list(sims.values())
    for i, seed in enumerate(seeds[:HTTP_DOCS]):
        roads[i % len(roads)].add_document(seed.document, seed.files, unit=UNIT)
        if i % 4 == 0:
            roads[(i + 1) % len(roads)].add_document(seed.document, seed.files, unit=UNIT)
    for seed in seeds[HTTP_DOCS:]:
        mailbox.add_document(seed.document, seed.files, unit=UNIT)
    expected = {_expected(s) for s in seeds}
    assert len(expected) == HTTP_DOCS + MAIL_BATCH
    return expected


def _config(sims: dict[str, Any], mailbox: ImapSim, home: TdofficeSim) -> dict[str, Any]:
    sources = []
    for road, sim in sims.items():
        source = {"name": f"vd-{road}", "profile": road, "poll_interval": 0.5}
        source |= sources_wiring(sim, road)
        if road in MAX_PAGE:
            source["page_size"] = MAX_PAGE[road]
        sources.append(source)
    # All 50 mails in one batch; senders known by the unit's address book, as configured.
    mail = {"name": "vd-mailbox", "profile": "mailbox", "poll_interval": 0.5}
    mail |= {"batch_size": MAIL_BATCH, "address_book": dict(mailbox.address_book)}
    sources.append(mail | sources_wiring(mailbox, "mailbox"))
    sink = {"name": "vd-home", "profile": "tdoffice", "base_url": home.base_url}
    sink["api_key"] = home.api_key
    return {"units": [{"id": UNIT, "name": UNIT_NAME, "sources": sources, "sinks": [sink]}]}


def _expire_tokens(sims: dict[str, Any]) -> None:
    for sim in sims.values():
        if hasattr(sim, "expire_tokens"):
            sim.expire_tokens()


async def _drive(
    daemon: DaemonProcess, sims: dict[str, Any], home: TdofficeSim, total: int
) -> None:
    """Faults raised and lowered, tokens expired, the home system away, three kill -9."""
    await daemon.start()
    await wait_until(lambda: len(home.received) >= 25, timeout_s=90, what="25 deliveries")
    await daemon.kill()  # 1: while the sources page through their backlog
    _set_faults(sims, error_rate=0.15, throttle_rate=0.05)  # 20 % of every request fails
    await daemon.start()
    _expire_tokens(sims)
    await asyncio.sleep(60)  # a minute at 20 %
    _set_faults(sims, error_rate=0.05, throttle_rate=0.02)
    _expire_tokens(sims)
    home.faults.down = True  # the home system goes away for 20 s
    await asyncio.sleep(8)
    await daemon.kill()  # 2: with deliveries queued and failing
    await daemon.start()
    await asyncio.sleep(12)
    home.faults.down = False
    before = len(home.received)
    await wait_until(
        lambda: len(home.received) >= min(total, before + 20), timeout_s=120, what="deliveries"
    )
    await daemon.kill()  # 3: in the middle of delivering
    await daemon.start()


async def _settled(daemon: DaemonProcess, home: TdofficeSim, total: int) -> bool:
    if len(home.received) < total:
        return False
    totals = await daemon.totals()
    if totals["pending"] or totals["unprocessed"]:
        return False
    unacked = daemon.query("SELECT count(*) FROM records WHERE acked = 0 AND ack IS NOT NULL")
    unsent = daemon.query("SELECT count(*) FROM status_out WHERE state <> 'sent'")
    return bool(unacked[0][0] == 0 and unsent[0][0] == 0)


@pytest.mark.timeout(420)
async def test_every_document_once_every_receipt_and_status_sent(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        sims, mailbox, home = await _start_sims(stack)
        expected = _seed(sims, mailbox)
        total = len(expected)
        daemon = DaemonProcess(tmp_path, _config(sims, mailbox, home))
        try:
            await _drive(daemon, sims, home, total)
            await wait_until(
                lambda: _settled(daemon, home, total), timeout_s=180, what="all settled"
            )
            await asyncio.sleep(1.5)  # anything doubled would arrive now
            totals = await daemon.totals()
            status_rows = daemon.query("SELECT state, count(*) FROM status_out GROUP BY state")
        finally:
            code = await daemon.stop(signal.SIGTERM)
        delivered = [home_identity(body) for body in home.received.values()]
        assert len(delivered) == len(set(delivered)), "a document reached home twice"
        assert set(delivered) == expected, "home holds exactly the documents sent"
        assert code == 0, "the daemon stops cleanly within its grace after all of this"
        assert totals["documents"] == total and totals["delivered"] == total, totals
        assert totals["pending"] == 0 and totals["dead"] == 0, totals
        assert totals["quarantined"] == 0, totals
        assert dict(status_rows).get("sent", 0) > 0, "the axis senders were owed statuses"
        for road, sim in sims.items():
            assert sim.faults.counts.get("error", 0) > 0, f"{road} never answered 5xx"
            assert sim.faults.counts.get("throttle", 0) > 0, f"{road} never answered 429"
        assert sum(home.faults.counts.values()) > 0, "the home system was away"
        mails = mailbox.folders["INBOX"].messages
        assert len(mails) == MAIL_BATCH
        unmarked = [m.uid for m in mails if "$LienThong" not in m.flags]
        assert not unmarked, f"mails stored but never marked $LienThong: {unmarked}"
