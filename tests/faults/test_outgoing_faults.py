"""Sending under faults: `sendEdoc` failing 8 % before storing and 8 % after storing with the
answer lost, the mailbox answering 451 to many recipients, and the daemon killed with SIGKILL
twice while it sends. Every (document,
recipient) still gets each version exactly once at the axis (counted by DocumentId and
BussinessDocType per recipient), once by mail (one Message-ID per version and recipient; a
mail cut by a kill after the server took it goes again under the same Message-ID), once in
each receiving unit's flow, and the dispatch log
ends in the right state for every recipient."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from bridge.outbound.roads import MAILS_IN_FLIGHT
from simulators.smtp import SmtpSim
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.harness import make_doc, wait_until
from tests.e2e.outgoing_world import (
    AXIS_OK,
    INTERNAL_A,
    LOCKED,
    NEW_CODE,
    NOWHERE,
    OLD_CODE,
    SENDER,
    config_dict,
)
from tests.faults.harness import DaemonProcess

DOCS = 24
UPDATED = range(0, 6)
REVOKED = range(6, 9)
RECIPIENTS = (INTERNAL_A, AXIS_OK, OLD_CODE, LOCKED, NOWHERE)


def _issue(office: TdofficeSim, i: int) -> str:
    doc, files = make_doc(i)
    doc = doc.model_copy(
        update={
            "issuer": doc.issuer.model_copy(update={"code": SENDER}),
            "issued_on": dt.date(2026, 3, 2),
            "number": str(500 + i),
        }
    )
    to = [{"organId": c, "organName": None, "email": None} for c in RECIPIENTS]
    return office.outbox.issue(doc, files, to, unit=SENDER)


def _final(office: TdofficeSim, doc: str) -> dict[str, tuple[Any, Any, Any]]:
    return {
        r["recipient"]: (r["road"], r["state"], r["version"]) for r in office.outbox.log_of(doc)
    }


async def _kill_when(daemon: DaemonProcess, node: VxpSim, stored: int) -> None:
    await wait_until(
        lambda: len(node.sending.sent_log) >= stored,
        timeout_s=40,
        what=f"{stored} messages stored at the axis",
    )
    assert await daemon.kill() < 0
    await daemon.start()


async def test_no_duplicate_nothing_missing_under_faults_and_kills(tmp_path: Path) -> None:
    async with (
        TdofficeSim(api_key="o1") as office,
        TdofficeSim(api_key="ha") as home_a,
        TdofficeSim(api_key="hb") as home_b,
        VxpSim(seed=21) as node,
        SmtpSim(seed=22) as smtp,
    ):
        sending = node.sending
        sending.refuse[LOCKED] = "23"
        sending.fail_before_rate = 0.08
        sending.fail_after_rate = 0.08
        smtp.rcpt_451_rate = 0.2  # the mailbox asks to try again later, often
        docs = [_issue(office, i) for i in range(DOCS)]
        raw = config_dict(
            tmp_path, office, {INTERNAL_A: home_a, "000.00.34.H59": home_b}, node, smtp
        )
        del raw["http"]  # the harness gives the daemon its port
        daemon = DaemonProcess(tmp_path, raw)
        daemon.module = "tests.faults.outgoing_daemon"
        await daemon.start()
        try:
            await _kill_when(daemon, node, 8)
            await _kill_when(daemon, node, 2 * DOCS - 6)
            await wait_until(
                lambda: all(
                    _final(office, d).get(code, (0, 0))[1] == "sent"
                    for d in docs
                    for code in (AXIS_OK, LOCKED)  # by the axis, and by mail after the 23
                ),
                timeout_s=40,
                what="every first version sent",
            )
            for i in UPDATED:
                office.outbox.update(docs[i], subject=f"V/v bản sửa {i}")
            for i in REVOKED:
                office.outbox.revoke(docs[i], "Ban hành nhầm")

            def settled() -> bool:
                for i, d in enumerate(docs):
                    want = 2 if i in UPDATED or i in REVOKED else 1
                    final = _final(office, d)
                    for code in (AXIS_OK, OLD_CODE, INTERNAL_A, LOCKED):
                        _, state, version = final.get(code, (None, None, None))
                        if version != want or state not in ("sent", "arrived", "registered"):
                            return False
                    if final.get(NOWHERE, (0, 0, 0))[1:] != ("undeliverable", want):
                        return False
                return True

            await wait_until(settled, timeout_s=45, what="every version by every road")
            await asyncio.sleep(0.5)
        finally:
            await daemon.stop()
        assert sending.fault_counts["before"] > 0 and sending.fault_counts["after"] > 0
        per = Counter((e.sender_doc_id, e.business, e.to_code) for e in sending.sent_log)
        assert max(per.values()) == 1, [k for k, n in per.items() if n > 1]
        kinds = Counter(b for (_, b, _) in per)
        assert kinds == {0: 2 * DOCS, 2: 2 * len(UPDATED), 1: 2 * len(REVOKED)}
        assert {to for (_, _, to) in per} == {AXIS_OK, NEW_CODE}
        assert len(home_a.received) == DOCS  # one document each in the receiving unit
        revoked = [b for b in home_a.received.values() if b.get("state") == "revoked"]
        assert len(revoked) == len(REVOKED)
        # by mail (the locked organ): each version once, by Message-ID per recipient
        assert smtp.refusals, "some 451s were answered"
        mails = Counter((m.message_id, to) for m in smtp.received for to in m.recipients)
        assert len(mails) == DOCS + len(UPDATED) + len(REVOKED)  # one Message-ID per version
        ids = {mid for mid, _ in mails}
        for i, d in enumerate(docs):  # and no version under a second Message-ID
            want = 2 if i in UPDATED or i in REVOKED else 1
            mine = [x for x in ids if x.split("@")[0].split(".")[1:2] == [str(i + 1)]]
            assert len(mine) == want, (d, mine)
        # SMTP has no idempotency key: a mail accepted just before a SIGKILL, before the answer
        # was kept, goes again under the same Message-ID (recognisable as the same message);
        # only such a cut send is repeated: at most the mails under way at each of the two kills
        assert sum(n - 1 for n in mails.values()) <= 2 * MAILS_IN_FLIGHT, mails
        assert max(mails.values()) <= 2, mails
        for d in docs:
            final = _final(office, d)
            assert final[LOCKED][:2] == ("mail", "sent")
            log = office.outbox.log_of(d)
            keys = [r for r in office.outbox.dispatch.get(d, [])]
            assert len(keys) == len(log)
        assert all(a < 400 or a == 409 for a in office.outbox.dispatch_answers) is True
