"""The raw ceiling: the catch-up backlog moved by the smallest loop that could do the job.

asyncio, aiohttp, uvloop and sqlite3 only: pull every page of each source, fetch each
attachment, insert each item (one committed row, WAL, synchronous=FULL), upload its files to
the home sink and POST it, 16 items in flight. No normalization, no matching (a document
sent by two roads is delivered twice), no outbox, no acknowledgements, no retries. It is a
yardstick, not a design: `catchup` time / this time is the price of doing it properly.

    python -m bench.raw_ceiling [--docs 20000]

`bench.mixed` runs the same loop on its five-road workload (the vxp axis as well).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import io
import sqlite3
import statistics
import tempfile
import time
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
import orjson
from lxml import etree  # type: ignore[import-untyped]

from adapters.vxp.signing import sign
from bench.common import UNIT, emit, simhost, wait_for

IN_FLIGHT = 16
IDESK_NS = "http://idesk.vn/services/"
IDESK_PATH = "/services/DocumentService.asmx"
EDXML = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
Fetch = Callable[[], Awaitable[list[tuple[str, bytes]]]]


@dataclass
class Item:
    """One source record as the loop needs it: identity, the few fields it sends, its files."""

    source: str
    item_id: str
    number: str
    notation: str
    subject: str
    raw: bytes
    files: Fetch


async def _get(session: aiohttp.ClientSession, url: str, **kw: Any) -> bytes:
    async with session.get(url, **kw) as resp:
        resp.raise_for_status()
        return await resp.read()


def _split_symbol(symbol: str) -> tuple[str, str]:
    number, _, notation = symbol.partition("/")
    return number.strip(), notation.strip()


async def tdoffice_items(s: aiohttp.ClientSession, wiring: dict[str, Any]) -> AsyncIterator[Item]:
    base, headers = wiring["base_url"], {"X-API-Key": wiring["api_key"]}
    cursor: str | None = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        page = orjson.loads(
            await _get(s, base + "/api/v2/documents/inbox", params=params, headers=headers)
        )
        if not page["data"]:
            return
        for obj in page["data"]:
            ids = [(a["name"], a["fileId"]) for a in obj.get("attachments") or []]

            async def files(ids: list[tuple[str, str]] = ids) -> list[tuple[str, bytes]]:
                return [
                    (n, await _get(s, f"{base}/api/v2/files/{i}", headers=headers)) for n, i in ids
                ]

            yield Item("tdoffice", f"{obj['documentId']}@{obj.get('version', 1)}", obj.get("codeNumber") or "",
                       obj.get("codeNotation") or "", obj.get("subject") or "", orjson.dumps(obj), files)  # fmt: skip
        cursor = page["nextCursor"]


async def moffice_items(s: aiohttp.ClientSession, wiring: dict[str, Any]) -> AsyncIterator[Item]:
    base = wiring["base_url"]
    login = {"username": wiring["username"], "password": wiring["password"]}
    async with s.post(base + "/api/auth/token", json=login) as resp:
        headers = {"Authorization": "Bearer " + (await resp.json())["access_token"]}
    page_no, pages = 1, 1
    while page_no <= pages:
        params = {
            "updated_from": "01/01/1970 00:00:00",
            "page": str(page_no),
            "page_size": "100",
            "unit": UNIT,
        }
        page = orjson.loads(
            await _get(s, base + "/api/v1/incoming", params=params, headers=headers)
        )
        pages = page["total_pages"]
        for obj in page["items"]:
            refs = [(f["ten_tep"], f["duong_dan"]) for f in obj.get("tep_dinh_kem") or []]

            async def files(refs: list[tuple[str, str]] = refs) -> list[tuple[str, bytes]]:
                return [(n, await _get(s, base + p, headers=headers)) for n, p in refs]

            number, notation = _split_symbol(obj.get("so_ky_hieu") or "")
            yield Item("moffice", str(obj["id"]), number, notation, obj.get("trich_yeu") or "",
                       orjson.dumps(obj), files)  # fmt: skip
        page_no += 1


async def voffice_items(s: aiohttp.ClientSession, wiring: dict[str, Any]) -> AsyncIterator[Item]:
    base = wiring["base_url"]
    form = {"grant_type": "client_credentials", "client_id": wiring["client_id"],
            "client_secret": wiring["client_secret"]}  # fmt: skip
    async with s.post(base + "/oauth2/token", data=form) as resp:
        headers = {"Authorization": "Bearer " + (await resp.json())["access_token"]}
    offset = 0
    while True:
        params = {"organ": UNIT, "offset": str(offset), "limit": "100"}
        rows = orjson.loads(
            await _get(s, base + "/api/documents/received", params=params, headers=headers)
        )
        for obj in rows:
            bundle = obj["files"]["bundle"]

            async def files(bundle: str = bundle) -> list[tuple[str, bytes]]:
                data = await _get(s, base + bundle, headers=headers)
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    return [(i.filename, archive.read(i)) for i in archive.infolist()]

            reg = obj.get("registration") or {}
            yield Item("voffice", obj["id"], str(reg.get("number") or ""), reg.get("symbol") or "",
                       obj.get("summary") or "", orjson.dumps(obj), files)  # fmt: skip
        if len(rows) < 100:
            return
        offset += 100


def _idesk_request(wiring: dict[str, Any], page: int) -> bytes:
    fields = (("Username", wiring["username"]), ("Password", wiring["password"]),
              ("UnitCode", UNIT), ("FromDate", "1970-01-01T00:00:00"), ("PageIndex", str(page)),
              ("PageSize", "50"))  # fmt: skip
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields)
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap='
        '"http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<GetIncomingDocuments xmlns="{IDESK_NS}">{inner}</GetIncomingDocuments>'
        "</soap:Body></soap:Envelope>"
    ).encode()


async def idesk_items(s: aiohttp.ClientSession, wiring: dict[str, Any]) -> AsyncIterator[Item]:
    url = wiring["base_url"] + IDESK_PATH
    headers = {
        "SOAPAction": f'"{IDESK_NS}GetIncomingDocuments"',
        "Content-Type": "text/xml; charset=utf-8",
    }
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    page = 0
    while True:
        async with s.post(url, data=_idesk_request(wiring, page), headers=headers) as resp:
            root = etree.fromstring(await resp.read(), parser)
        documents = root.findall(".//{*}Document")
        if not documents:
            return
        for el in documents:
            got = [(f.findtext("{*}FileName") or "", base64.b64decode(f.findtext("{*}Content") or ""))
                   for f in el.iterfind("{*}Files/{*}File")]  # fmt: skip

            async def files(got: list[tuple[str, bytes]] = got) -> list[tuple[str, bytes]]:
                return got

            number, notation = _split_symbol(el.findtext("{*}SoHieu") or "")
            yield Item("idesk", el.findtext("{*}DocumentID") or "", number, notation,
                       el.findtext("{*}TrichYeu") or "", etree.tostring(el), files)  # fmt: skip
        page += 1


async def _vxp_call(
    s: aiohttp.ClientSession, wiring: dict[str, Any], operation: str, params: dict[str, str]
) -> Any:
    headers = sign(params, system_id=wiring["system_id"], secret=wiring["secret"],
                   now=dt.datetime.now(dt.UTC))  # fmt: skip
    async with s.post(f"{wiring['base_url']}/{operation}", headers=headers) as resp:
        return orjson.loads(await resp.read())["data"]


async def vxp_items(s: aiohttp.ClientSession, wiring: dict[str, Any]) -> AsyncIterator[Item]:
    listed = await _vxp_call(s, wiring, "getReceivedEdocList",
                             {"servicetype": "eDoc", "messagetype": "edoc"})  # fmt: skip
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    for entry in listed:
        data = base64.b64decode(await _vxp_call(s, wiring, "getEdoc", {"docId": entry["docId"]}))
        root = etree.fromstring(data, parser)
        got = [(a.findtext(f"{EDXML}AttachmentName") or "",
                base64.b64decode(a.findtext(f"{EDXML}ContentTransferEncoded") or ""))
               for a in root.iter(f"{EDXML}Attachment")]  # fmt: skip

        async def files(got: list[tuple[str, bytes]] = got) -> list[tuple[str, bytes]]:
            return got

        yield Item("vxp", entry["docId"], root.findtext(f".//{EDXML}CodeNumber") or "",
                   root.findtext(f".//{EDXML}CodeNotation") or "",
                   root.findtext(f".//{EDXML}Subject") or "", data, files)  # fmt: skip


READERS = {"tdoffice": tdoffice_items, "moffice": moffice_items, "voffice": voffice_items,
           "idesk": idesk_items, "vxp": vxp_items}  # fmt: skip


class Loop:
    """Moves items to the home sink; `IN_FLIGHT` at a time."""

    def __init__(
        self, session: aiohttp.ClientSession, home: dict[str, Any], db: sqlite3.Connection
    ) -> None:
        self.s, self.home, self.db = session, home, db
        self.headers = {"X-API-Key": home["api_key"]}
        self.slots = asyncio.Semaphore(IN_FLIGHT)
        self.tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0

    async def drain(self, source: str, wiring: dict[str, Any]) -> None:
        async for item in READERS[source](self.s, wiring):
            await self.slots.acquire()
            task = asyncio.create_task(self.move(item))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def move(self, item: Item) -> None:
        try:
            files = await item.files()
            self.db.execute(
                "INSERT OR IGNORE INTO items VALUES (?, ?, ?)",
                (item.source, item.item_id, item.raw),
            )
            self.db.commit()
            uploaded = [(name, await self.upload(name, data)) for name, data in files]
            body = {"codeNumber": item.number or item.item_id, "codeNotation": item.notation, "subject": item.subject or item.item_id,
                    "attachments": [{"fileId": f, "name": n} for n, f in uploaded]}  # fmt: skip
            headers = {**self.headers, "Idempotency-Key": f"{item.source}:{item.item_id}"}
            async with self.s.post(self.home["base_url"] + "/api/v2/documents/incoming",
                                   data=orjson.dumps(body), headers=headers) as resp:  # fmt: skip
                if resp.status >= 400:
                    raise RuntimeError(
                        f"home refused {item.source}:{item.item_id}: {await resp.text()}"
                    )
            self.delivered += 1
        finally:
            self.slots.release()

    async def upload(self, name: str, data: bytes) -> str:
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name, content_type="application/pdf")
        async with self.s.post(
            self.home["base_url"] + "/api/v2/files", data=form, headers=self.headers
        ) as resp:
            resp.raise_for_status()
            return str((await resp.json())["fileId"])


async def run_once(
    docs: int, workdir: Path, scenario: Sequence[str] = ("catchup",)
) -> dict[str, Any]:
    """One pass of the loop over fresh simulators of `scenario` (simhost arguments)."""
    async with simhost(*scenario, "--docs", str(docs)) as host:
        db = sqlite3.connect(workdir / "raw.sqlite3", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE items (source TEXT, id TEXT, raw BLOB, PRIMARY KEY (source, id))")
        db.isolation_level = "DEFERRED"  # each insert is committed on its own
        cpu0 = (await host.get("/stats"))["cpu_s"]
        started = time.process_time()
        connector = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=connector) as session:
            loop = Loop(session, host.info["home"], db)
            await asyncio.gather(*(loop.drain(w["profile"], w) for w in host.info["sources"]))
            await asyncio.gather(*list(loop.tasks))
        own_cpu = time.process_time() - started
        db.close()
        records = int(host.info["records"])

        async def all_created() -> bool:
            return int((await host.get("/stats"))["home_created"]) >= records

        await wait_for(all_created, timeout_s=60, what="raw loop creates")
        peak_rss_kb = _peak_rss_kb()
        stats = await host.get("/stats")
    elapsed = stats["last_create_s"] - stats["first_source_s"]
    return {
        "documents": host.info["documents"],
        "records": records,
        "created_at_home": stats["home_created"],
        "elapsed_s": round(elapsed, 2),
        "items_per_s": round(records / elapsed, 1),
        "docs_per_s": round(int(host.info["documents"]) / elapsed, 1),
        "loop_cpu_s": round(own_cpu, 1),
        "loop_cpu_ms_per_record": round(own_cpu * 1000 / records, 3),
        "loop_peak_rss_mb": round(peak_rss_kb / 1024, 1),
        "simhost_cpu_s": round(stats["cpu_s"] - cpu0, 1),
    }


async def run(docs: int, runs: int = 1, scenario: Sequence[str] = ("catchup",)) -> dict[str, Any]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="lienthong-raw-") as tmp:
            results.append(await run_once(docs, Path(tmp), scenario))
    median = statistics.median(r["elapsed_s"] for r in results)
    chosen = min(results, key=lambda r: abs(r["elapsed_s"] - median))
    return {"benchmark": "raw_ceiling", "runs": results, "median_elapsed_s": median, **chosen}


def summary(r: dict[str, Any]) -> str:
    return (
        f"raw ceiling: {r['records']} items ({r['documents']} documents) in {r['elapsed_s']} s ="
        f" {r['items_per_s']} items/s, loop CPU {r['loop_cpu_s']} s,"
        f" simulators CPU {r['simhost_cpu_s']} s"
    )


def _peak_rss_kb() -> int:
    """This process's peak RSS so far (the loop runs in the benchmark's own process)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _uvloop_run(coro: Any) -> Any:
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.raw_ceiling")
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--scenario",
        default="catchup",
        help="the simulator host's scenario and its options, one string (bench.mixed's own)",
    )
    args = parser.parse_args()
    result = _uvloop_run(run(args.docs, args.runs, args.scenario.split()))
    emit(result, summary(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
