"""A clerk finds a document by số/ký hiệu, trích yếu or issuer, however it is typed."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from adapters.folder.sim import FolderDropper
from adapters.tdoffice.sim import TdofficeSim
from bridge.config import parse_config
from bridge.daemon import Daemon
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
        async with Daemon(
            parse_config(config_dict(tmp_path / "data", source, home, dropper), {})
        ) as daemon:
            await wait_until(lambda: len(home.received) == 4, what="four documents")
            url = f"http://127.0.0.1:{daemon.http.port}/documents"
            async with aiohttp.ClientSession() as http, http.get(url, params={"q": query}) as resp:
                body = await resp.json()
        assert {item["number"] for item in body["items"]} == expected
