"""Hostile input on every road: the daemon stays up, good documents arrive, bad ones are
quarantined with reasons, and an external entity's text is never read anywhere."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from pathlib import Path

import orjson

from adapters.tdoffice import webhook
from simulators.demo_data import generate
from simulators.idesk import _ENVELOPE_CLOSE, _ENVELOPE_OPEN, IdeskSim
from simulators.tdoffice import TdofficeSim
from simulators.voffice import VofficeSim
from simulators.vxp import VxpSim
from tests.faults.harness import (
    UNIT,
    UNIT_NAME,
    DaemonProcess,
    push_object,
    running,
    sources_wiring,
    wait_until,
)

HOOK_SECRET = "hook-secret-for-hostile-tests"
IDESK_NS = "http://tempuri.org/"


def _idesk_page(documents: str, doctype: str = "") -> bytes:
    head = _ENVELOPE_OPEN.replace("?>", "?>" + doctype, 1)
    return (
        f'{head}<GetIncomingDocumentsResponse xmlns="{IDESK_NS}"><GetIncomingDocumentsResult>'
        f"<TotalRecord>1</TotalRecord><Documents>{documents}</Documents>"
        f"</GetIncomingDocumentsResult></GetIncomingDocumentsResponse>{_ENVELOPE_CLOSE}"
    ).encode()


def _idesk_document(subject: str, content: str = "JVBERi0xLjQK") -> str:
    return (
        f"<Document><DocumentID>{uuid.uuid4()}</DocumentID><SoHieu>7/UBND-VP</SoHieu>"
        "<NgayBanHanh>2026-03-02</NgayBanHanh><CoQuanBanHanh>UBND tỉnh</CoQuanBanHanh>"
        f"<TrichYeu>{subject}</TrichYeu><ModifiedDate>2026-03-02T08:00:00</ModifiedDate>"
        f"<Files><File><FileName>a.pdf</FileName><Size>9</Size><Content>{content}</Content>"
        "</File></Files></Document>"
    )


def _idesk_hostile_pages(marker_file: Path) -> list[bytes]:
    xxe = f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{marker_file}">]>'
    lol = '<!DOCTYPE r [<!ENTITY a "lollollollollollol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    lol += "]>"
    invalid_utf8 = _idesk_page(_idesk_document("BAD_UTF8")).replace(b"BAD_UTF8", b"\xff\xfe\xc3(")
    return [
        _idesk_page(_idesk_document("&xxe;"), xxe),
        _idesk_page(_idesk_document("&i;"), lol),
        invalid_utf8,
        _idesk_page(_idesk_document("Base64 hỏng", content="%%%not-base64%%%")),
        b"<x>" + b"A" * (65 * 1024 * 1024) + b"</x>",  # over max_page_bytes (64 MiB)
    ]


def _vxp_xxe(marker_file: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file://{marker_file}">]>'
        '<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">'
        "<edXML:edXMLHeader><edXML:MessageHeader><edXML:Subject>&xxe;</edXML:Subject>"
        "</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope>"
    ).encode()


async def _webhooks(daemon: DaemonProcess, source: TdofficeSim) -> list[int]:
    """Forged, stale, good, and the good one again: the statuses the hook answered."""
    seed = generate(seed=41, count=1, units=[UNIT])[0]
    obj = push_object(source, seed.document, seed.files)
    url = f"{daemon.url}/hooks/vd-tdoffice"
    body = orjson.dumps({"event": "document.created", "data": obj})
    statuses = []
    forged = webhook.signed_headers("wrong", body, event_id="ev-forged")
    stale = webhook.signed_headers(
        HOOK_SECRET, body, event_id="ev-stale", timestamp=int(time.time()) - 301
    )
    good = webhook.signed_headers(HOOK_SECRET, body, event_id="ev-good")
    for headers in (forged, stale, good, good):
        status, _ = await daemon.request(
            "POST", url.removeprefix(daemon.url), data=body, headers=headers
        )
        statuses.append(status)
    return statuses


async def _watch_health(daemon: DaemonProcess, failures: list[str], stop: asyncio.Event) -> None:
    while not stop.is_set():
        if not await daemon.healthy():
            failures.append(time.strftime("%X"))
        await asyncio.sleep(0.5)


def _marker_absent(marker: str, daemon: DaemonProcess, home: TdofficeSim, outbox: Path) -> None:
    needle = marker.encode()
    for path in [*daemon.data_dir.rglob("*"), *outbox.rglob("*")]:
        if path.is_file():
            assert needle not in path.read_bytes(), f"entity text found in {path}"
    assert marker not in daemon.log_text(), "entity text found in the log"
    assert needle not in orjson.dumps(list(home.received.values())), "entity text delivered"


async def test_hostile_input_is_quarantined_and_never_read(tmp_path: Path) -> None:
    """XXE, billion laughs, zip bombs, path tricks, bad bytes, a huge page and forged hooks."""
    marker = f"MARKER-{uuid.uuid4().hex}"
    marker_file = tmp_path / "secret.txt"
    marker_file.write_text(marker, encoding="utf-8")
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    async with (
        running(IdeskSim(seed=1)) as idesk,
        running(VofficeSim(seed=2)) as voffice,
        running(VxpSim(seed=3)) as vxp,
        running(TdofficeSim(seed=4, api_key="src")) as tdoffice,
        running(TdofficeSim(seed=5, api_key="home")) as home,
    ):
        good = generate(seed=40, count=8, units=[UNIT])
        for i, s in enumerate(good):
            sim = (idesk, voffice, vxp, tdoffice)[i % 4]
            sim.add_document(s.document, s.files, unit=UNIT)
        idesk.raw_pages.extend(_idesk_hostile_pages(marker_file))
        for kind, s in zip(
            ("bomb", "dotdot", "absolute"), generate(seed=42, count=3, units=[UNIT]), strict=True
        ):
            voffice.hostile[voffice.add_document(s.document, s.files, unit=UNIT)] = kind
        vxp.add_raw(_vxp_xxe(marker_file), to=UNIT)
        for name, s in zip(
            ("../../evil.pdf", "/etc/passwd"), generate(seed=43, count=2, units=[UNIT]), strict=True
        ):
            obj = push_object(tdoffice, s.document, s.files)
            obj["attachments"][0]["name"] = name
            tdoffice.add_raw(obj, unit=UNIT)
        sources = [
            {"name": f"vd-{p}", "profile": p, "poll_interval": 0.3, **sources_wiring(sim, p)}
            for p, sim in (
                ("idesk", idesk),
                ("voffice", voffice),
                ("vxp", vxp),
                ("tdoffice", tdoffice),
            )
        ]
        sources[3]["webhook_secret"] = HOOK_SECRET
        sinks = [
            {
                "name": "vd-home",
                "profile": "tdoffice",
                "base_url": home.base_url,
                "api_key": "home",
            },
            {"name": "vd-outbox", "profile": "folder", "path": str(outbox)},
        ]
        unit = {"id": UNIT, "name": UNIT_NAME, "sources": sources, "sinks": sinks}
        daemon = DaemonProcess(tmp_path, {"units": [unit]})
        await daemon.start()
        failures: list[str] = []
        stop = asyncio.Event()
        watcher = asyncio.create_task(_watch_health(daemon, failures, stop))
        try:
            await wait_until(
                lambda: len(home.received) >= len(good), timeout_s=90, what="good docs"
            )
            statuses = await _webhooks(daemon, tdoffice)
            await wait_until(lambda: len(home.received) >= len(good) + 1, timeout_s=30, what="push")
            await asyncio.sleep(2.0)
            quarantine = (await daemon.get_json("/quarantine"))["items"]
            totals = await daemon.totals()
        finally:
            stop.set()
            await watcher
            code = await daemon.stop(signal.SIGTERM)
        assert code == 0 and not failures, f"/healthz failed at {failures}"
        assert statuses == [401, 401, 200, 200], statuses
        symbols = [
            (b["codeNumber"], b["codeNotation"], b["promulgationDate"])
            for b in home.received.values()
        ]
        assert len(symbols) == len(set(symbols)), "nothing doubled (the repeated event id included)"
        reasons = [str(q.get("reason") or "") for q in quarantine]
        assert len(quarantine) >= 8, json.dumps(quarantine, ensure_ascii=False)[:2000]
        assert all(reasons), "every quarantined record has a reason"
        assert totals["dead"] == 0, totals
        _marker_absent(marker, daemon, home, outbox)
        assert not (tmp_path / "evil.pdf").exists() and not (tmp_path.parent / "evil.pdf").exists()
        for body in home.received.values():
            for att in body.get("attachments") or []:
                assert ".." not in att["name"] and not att["name"].startswith("/"), att
