"""A clerk finds a document by số/ký hiệu, trích yếu or issuer, however it is typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bridge.app import build_daemon, parse_config
from schemas import Document
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("101/STTTT-TTBCXB", {"101"}),
        ("Số: 101 / stttt – ttbcxb", {"101"}),
        ("stc-ns", {"100", "103"}),
        ("TRIỂN KHAI NHIỆM VỤ SỐ 2", {"102"}),
        ("thông tin và truyền thông", {"101"}),
        ("000.00.01.H49", {"102"}),
        ("100%", set()),
    ],
)
async def test_search_by_symbol_subject_or_issuer(
    tmp_path: Path, query: str, expected: set[str]
) -> None:
    """/documents?q= matches the normalized symbol and folded subject and issuer."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        for i in range(4):
            source.add_document(*make_doc(i), unit=UNIT)
        async with build_daemon(
            parse_config(config_dict(tmp_path / "data", source, home, dropper), {})
        ) as daemon:
            await wait_until(lambda: len(home.received) == 4, what="four documents")
            url = f"http://127.0.0.1:{daemon.http.port}/documents"
            async with aiohttp.ClientSession() as http, http.get(url, params={"q": query}) as resp:
                body = await resp.json()
        assert {item["number"] for item in body["items"]} == expected


def _clerk_docs() -> list[tuple[Document, dict[str, bytes]]]:
    """Three documents as they are printed: a QĐ with Đ, 1335/UBND-HC, and a plain one."""
    docs = []
    for i, (number, notation, subject, type_name) in enumerate(
        [
            ("18", "QĐ-SYT", "Về việc cải cách hành chính", "Quyết định"),
            ("1335", "UBND-HC", "Về việc họp giao ban", "Công văn"),
            ("52", "KH-STC", "Kế hoạch thi đua năm 2026", "Kế hoạch"),
        ]
    ):
        doc, files = make_doc(i)
        update = {"number": number, "notation": notation, "subject": subject}
        docs.append((doc.model_copy(update=update | {"type_name": type_name}), files))
    return docs


async def test_search_as_clerks_type_over_http(tmp_path: Path) -> None:
    """/documents: the latest without a query, clerks' spellings found, a partial hit said so,
    an unknown unit or state a 400 naming it in Vietnamese and English."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        for doc, files in _clerk_docs():
            source.add_document(doc, files, unit=UNIT)
        async with build_daemon(
            parse_config(config_dict(tmp_path / "data", source, home, dropper), {})
        ) as daemon:
            await wait_until(lambda: len(home.received) == 3, what="three documents")
            url = f"http://127.0.0.1:{daemon.http.port}/documents"
            async with aiohttp.ClientSession() as http:

                async def get(**params: str) -> tuple[int, Any]:
                    async with http.get(url, params=params) as resp:
                        return resp.status, await resp.json()

                def found(body: Any) -> list[tuple[str, str | None]]:
                    return [(i["number"], i["match"]) for i in body["items"]]

                status, body = await get()
                assert status == 200 and [i["number"] for i in body["items"]] == [
                    "52",
                    "1335",
                    "18",
                ]
                assert found((await get(q="18/QD-SYT"))[1]) == [("18", "exact")]
                assert found((await get(q="cai cach"))[1]) == [("18", "exact")]
                assert found((await get(q="1335 UBND HC"))[1]) == [("1335", "exact")]
                assert found((await get(q="335/UBND-HC"))[1]) == [("1335", "partial")]
                assert found((await get(q="ke hoach"))[1]) == [("52", "exact")]
                assert found((await get(q="quyết định"))[1]) == [("18", "exact")]
                status, body = await get(unit="000.00.99.H49")
                assert status == 400 and "không có trong cấu hình" in body["error"]
                assert "not a configured unit" in body["error"] and UNIT in body["error"]
                status, body = await get(state="deleted")
                assert status == 400 and "unknown state" in body["error"]
                assert "'deleted'" in body["error"]
                status, body = await get(unit=UNIT, state="active", q="cai cach")
                assert status == 200 and found(body) == [("18", "exact")]
