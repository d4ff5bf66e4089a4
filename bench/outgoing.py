"""Sending (văn bản đi): `--docs` outgoing documents (default 2,000) to 5 recipients each, from
one unit's tdoffice outbox to two units of the same bridge (internal road), two organs on
the axis (one message per document for both) and one organ reached by no road (paper).

    .venv/bin/python -m bench.outgoing [--docs 2000]

The simulators (tdoffice outbox and dispatch log, the receiving units' homes, the axis) run in
this process; the daemon is its own process (`python -m tests.faults.outgoing_daemon run`,
the daemon routing by the test directory), so its memory is measured alone. Time runs from
the daemon's start until every recipient's last dispatch report shows it where it ends here
(internal `registered` by the receiving unit's home system, axis `sent`, paper
`undeliverable`). Prints one JSON line and a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import RssSampler, cpu_s, emit, mb, wait_for
from schemas import Attachment, Document, Organ
from simulators.tdoffice import TdofficeSim
from simulators.vxp import VxpSim
from tests.e2e.outgoing_world import (
    AXIS_OK,
    INTERNAL_A,
    INTERNAL_B,
    NOWHERE,
    OLD_CODE,
    SENDER,
    config_dict,
)
from tests.faults.harness import DaemonProcess

RECIPIENTS = (INTERNAL_A, INTERNAL_B, AXIS_OK, OLD_CODE, NOWHERE)
# what each recipient's last report must say: internal ones registered by their home system,
# axis ones sent (this axis answers no status), the unreachable one left to paper
WANTED = {
    INTERNAL_A: "registered",
    INTERNAL_B: "registered",
    AXIS_OK: "sent",
    OLD_CODE: "sent",
    NOWHERE: "undeliverable",
}


def _document(i: int) -> tuple[Document, dict[str, bytes]]:
    data = b"%PDF-1.4\n" + hashlib.sha256(str(i).encode()).digest() * 40 + b"\n%%EOF\n"
    att = Attachment(
        name=f"vb-{i}.pdf",
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    doc = Document(
        issuer=Organ(code=SENDER, name="Ủy ban nhân dân huyện Tiểu Cần"),
        number=str(1000 + i),
        notation="UBND-VP",
        issued_on=dt.date(2026, 3, 2),
        type_name="Công văn",
        subject=f"V/v triển khai nhiệm vụ số {i}",
        attachments=(att,),
    )
    return doc, {att.name: data}


def _done(office: TdofficeSim, docs: list[str]) -> int:
    """How many documents have every recipient on its road in the dispatch log."""
    done = 0
    for d in docs:
        last = {r["recipient"]: r["state"] for r in office.outbox.log_of(d)}
        if last == WANTED:
            done += 1
    return done


async def run(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lienthong-outgoing-") as tmp:
        async with (
            TdofficeSim(api_key="o1") as office,
            TdofficeSim(api_key="ha") as home_a,
            TdofficeSim(api_key="hb") as home_b,
            VxpSim(seed=3) as node,
        ):
            to = [{"organId": c, "organName": None, "email": None} for c in RECIPIENTS]
            docs = [office.outbox.issue(*_document(i), to, unit=SENDER) for i in range(count)]
            raw = config_dict(Path(tmp), office, {INTERNAL_A: home_a, INTERNAL_B: home_b}, node)
            del raw["http"]
            raw["bridge"]["log_level"] = "warning"
            daemon = DaemonProcess(Path(tmp), raw)
            daemon.module = "tests.faults.outgoing_daemon"
            started, here_started = time.monotonic(), time.process_time()
            await daemon.start()
            assert daemon.proc is not None
            try:
                async with RssSampler(daemon.proc.pid) as rss:
                    await wait_for(  # once a second, not to slow the simulators down
                        lambda: _done(office, docs) == count,
                        timeout_s=3600,
                        what="every recipient on its road",
                        every_s=1.0,
                    )
                    elapsed = time.monotonic() - started
                    daemon_cpu = cpu_s(daemon.proc.pid)
                    here_cpu = time.process_time() - here_started
            finally:
                await daemon.stop()
            reports = sum(len(office.outbox.log_of(d)) for d in docs)
            stored = len(node.sending.sent_log)
    pairs = count * len(RECIPIENTS)
    return {
        "bench": "outgoing",
        "documents": count,
        "recipients": pairs,
        "seconds": round(elapsed, 1),
        "recipients_per_s": round(pairs / elapsed, 1),
        "dispatch_reports": reports,
        "axis_entries": stored,
        "internal_deliveries": len(home_a.received) + len(home_b.received),
        "daemon_cpu_s": round(daemon_cpu, 1),
        "simulators_cpu_s": round(here_cpu, 1),
        "peak_rss_mb": mb(rss.peak_rss_kb),
        "peak_anon_mb": mb(rss.peak_anon_kb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    args = parser.parse_args()
    result = asyncio.run(run(args.docs))
    emit(
        result,
        f"{result['documents']} documents × 5 recipients in {result['seconds']} s "
        f"({result['recipients_per_s']} recipients/s), peak RSS {result['peak_rss_mb']} MiB",
    )


if __name__ == "__main__":
    main()
