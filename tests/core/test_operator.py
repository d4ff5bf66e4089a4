"""Operators steer the bridge: release or retry quarantined records, export, audit trail."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from schemas import Confidentiality
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "op-token-123"


async def _call(daemon: Daemon, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{daemon.http.port}{path}"
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Actor": "test-operator"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, headers=headers, **kw) as resp,
    ):
        body = await resp.read()
        is_json = resp.content_type == "application/json"
        return resp.status, (await resp.json() if is_json else body.decode("utf-8"))


async def _cli(*args: str) -> tuple[int | None, bytes]:
    """Run `lienthong ARGS` as a process; its exit code and standard output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    return proc.returncode, out


def _config(tmp_path: Path, source: TdofficeSim, home: TdofficeSim, dropper: FolderDropper) -> Any:
    raw = config_dict(tmp_path / "data", source, home, dropper)
    raw["http"]["token"] = TOKEN
    return parse_config(raw, {})


async def test_secret_document_held_then_released_by_operator(tmp_path: Path) -> None:
    """A Mật document is kept aside, never delivered, until an operator releases it (audited)."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        secret, files = make_doc(1)
        source.add_document(
            secret.model_copy(update={"confidentiality": Confidentiality.MAT}), files, unit=UNIT
        )
        source.add_document(*make_doc(2), unit=UNIT)
        async with build_daemon(_config(tmp_path, source, home, dropper)) as daemon:
            await wait_until(lambda: len(home.received) == 1, what="the ordinary document")
            status, body = await _call(daemon, "GET", "/quarantine")
            assert status == 200 and [q["kind"] for q in body["items"]] == ["secret"]
            assert "Mật" in body["items"][0]["reason"]
            status, _ = await _call(daemon, "POST", "/quarantine/999/release")
            assert status == 404
            status, _ = await _call(daemon, "POST", f"/quarantine/{body['items'][0]['id']}/release")
            assert status == 200
            await wait_until(lambda: len(home.received) == 2, what="the released document")
            status, trail = await _call(daemon, "GET", "/audit")
        assert (
            trail["items"][0]["action"] == "release"
            and trail["items"][0]["actor"] == "test-operator"
        )


async def test_retry_reprocesses_without_vouching(tmp_path: Path) -> None:
    """Retry sends a held record through matching again; a secret one is held again."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        secret, files = make_doc(1)
        source.add_document(
            secret.model_copy(update={"confidentiality": Confidentiality.TOI_MAT}), files, unit=UNIT
        )
        async with build_daemon(_config(tmp_path, source, home, dropper)) as daemon:
            await wait_until(lambda: daemon.store.quarantined(), what="quarantine")
            first = (await daemon.store.quarantined())[0]
            status, _ = await _call(daemon, "POST", f"/quarantine/{first['id']}/retry")
            assert status == 200

            async def held_again() -> bool:
                return any(
                    q["record_id"] == first["record_id"] for q in await daemon.store.quarantined()
                )

            await wait_until(held_again, what="held again")
            await asyncio.sleep(0.5)
        assert home.received == {}


async def test_csv_export_lists_documents_of_the_period(tmp_path: Path) -> None:
    """The monthly export is CSV with a BOM, Vietnamese headers and one row per document."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        for i in range(3):
            source.add_document(*make_doc(i), unit=UNIT)
        async with build_daemon(_config(tmp_path, source, home, dropper)) as daemon:
            await wait_until(lambda: len(home.received) == 3, what="three deliveries")
            status, text = await _call(daemon, "GET", "/export.csv")
            bad, _ = await _call(daemon, "GET", "/export.csv?from=2026-13-01")
        assert status == 200 and bad == 400
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert rows[0][2].startswith("Số, ký hiệu") and len(rows) == 4
        assert {r[2] for r in rows[1:]} == {"100/STC-NS", "101/STTTT-TTBCXB", "102/VP-TH"}


async def test_cli_quarantine_list_against_running_daemon(tmp_path: Path) -> None:
    """`lienthong quarantine list` prints what is held; a wrong token is refused."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        dropper.add_raw("VB_hong.json", b"{not json")
        async with build_daemon(_config(tmp_path, source, home, dropper)) as daemon:
            await wait_until(lambda: daemon.store.quarantined(), what="quarantine")
            url = f"http://127.0.0.1:{daemon.http.port}"
            ok, out = await _cli("quarantine", "list", "--url", url, "--token", TOKEN)
            shown_ok, shown = await _cli("status", "--url", url, "--token", TOKEN)
            denied, _ = await _cli("status", "--url", url, "--token", "wrong")
        assert ok == 0 and b"unreadable" in out and b"VB_hong" in out
        assert shown_ok == 0 and b"vd-folder" in shown and "cách ly".encode() in shown
        assert denied == 2  # the status cannot be read: as unreachable, not as failing


async def test_split_and_merge_over_http_are_honoured_and_audited(tmp_path: Path) -> None:
    """An operator splits a record out of a document, then merges two documents; both stick."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        doc, files = make_doc(1)
        source.add_document(doc, files, unit=UNIT)
        dropper.add_document(doc, files, unit=UNIT)  # the same document by a second road
        source.add_document(*make_doc(2), unit=UNIT)
        async with build_daemon(_config(tmp_path, source, home, dropper)) as daemon:

            async def settled() -> bool:
                counts = await daemon.store.counts()
                return bool(counts["documents"] == 2 and counts["outcomes"].get("duplicate") == 1)

            await wait_until(settled, what="two documents, one duplicate")
            rows = await daemon.store.search_documents(
                unit=None, q="101/STTTT-TTBCXB", state=None, limit=5, before=None
            )
            merged_doc = rows[0].id
            records = await daemon.store.records_of(merged_doc)
            folder_record = next(r for r in records if r.raw.source == "vd-folder")
            status, _ = await _call(
                daemon,
                "POST",
                f"/documents/{merged_doc}/split",
                json={"record_id": folder_record.id},
            )
            assert status == 200

            async def split_done() -> bool:
                return bool((await daemon.store.counts())["documents"] == 3)

            await wait_until(split_done, what="the split record made its own document")
            other = await daemon.store.record(folder_record.id)
            assert other is not None and other.document_id not in (None, merged_doc)
            assert other.decision is not None and "override" in str(other.decision.get("rule"))

            status, _ = await _call(
                daemon,
                "POST",
                f"/documents/{merged_doc}/merge",
                json={"other_id": other.document_id},
            )
            assert status == 200

            async def merge_done() -> bool:
                return bool((await daemon.store.counts())["documents"] == 2)

            await wait_until(merge_done, what="merged back")
            status, _missing = await _call(
                daemon, "POST", "/documents/9999/merge", json={"other_id": merged_doc}
            )
            bad, _ = await _call(
                daemon, "POST", f"/documents/{merged_doc}/split", json={"record_id": "x"}
            )
            _, trail = await _call(daemon, "GET", "/audit")
        assert status == 404 and bad == 400
        assert [e["action"] for e in trail["items"][:2]] == ["merge", "split"]
