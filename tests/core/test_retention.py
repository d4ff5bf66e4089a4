"""Retention purges what is old and finished, never what is pending, dead or quarantined."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bridge.app import build_daemon, parse_config
from bridge.blobs import BlobStore
from schemas import Confidentiality
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until


def _refuse_101(body: dict[str, Any]) -> list[dict[str, str]]:
    return (
        [{"field": "codeNumber", "message": "refused"}] if body.get("codeNumber") == "101" else []
    )


async def test_purge_keeps_dead_letters_and_quarantine(tmp_path: Path) -> None:
    """After the retention period, delivered documents and their blobs go; the rest stays."""
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        home.validator = _refuse_101
        docs = [make_doc(i) for i in range(3)]
        secret = docs[2][0].model_copy(update={"confidentiality": Confidentiality.MAT})
        source.add_document(*docs[0], unit=UNIT)
        source.add_document(*docs[1], unit=UNIT)
        source.add_document(secret, docs[2][1], unit=UNIT)
        config = parse_config(config_dict(tmp_path / "data", source, home, dropper), {})
        async with build_daemon(config) as daemon:
            await wait_until(lambda: len(home.received) == 1, what="one delivery")
            await wait_until(lambda: daemon.store.dead_letters(), what="one dead letter")
            await wait_until(lambda: daemon.store.quarantined(), what="one quarantined")
            blobs = daemon.blobs
            assert isinstance(blobs, BlobStore)  # the files backend: blobs have paths
            shas = [d.attachments[0].sha256 for d, _ in docs]
            assert all(blobs.path(s).is_file() for s in shas)
            early = await daemon.retention.purge()
            assert early["documents"] == 0 and early["records"] == 0 and early["blobs"] == 0
            later = await daemon.retention.purge(
                now=dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
            )
            counts = await daemon.store.counts()
            dead = await daemon.store.dead_letters()
            held = await daemon.store.quarantined()
            status = (await daemon.retention.measure()).as_dict()
        assert later["documents"] == 1 and later["records"] == 1 and later["blobs"] == 1
        assert counts["documents"] == 1 and len(dead) == 1 and len(held) == 1
        assert (
            not blobs.path(shas[0]).exists()
            and blobs.path(shas[1]).exists()
            and blobs.path(shas[2]).exists()
        )
        assert isinstance(status["store_bytes"], int) and isinstance(status["free_bytes"], int)
        assert (
            status["store_bytes"] > 0 and status["free_bytes"] > 0 and status["last_purge"] == later
        )
