"""Signatures checked on arrival: shown on the document, flagged to the home system or held."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bridge.app import build_daemon, parse_config
from bridge.store import DocumentRow
from schemas import Attachment, Document
from simulators.folder import FolderDropper
from simulators.tdoffice import TdofficeSim
from tests.e2e.harness import UNIT, config_dict, make_doc, wait_until
from tests.signatures.conftest import Pki, SignedPdfs
from tests.signatures.pki import write_trust_store


def _with_pdf(i: int, pdf: bytes) -> tuple[Document, dict[str, bytes]]:
    doc, _ = make_doc(i)
    att = Attachment(
        name=f"{i}.pdf",
        content_type="application/pdf",
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
    )
    return doc.model_copy(update={"attachments": (att,)}), {att.name: pdf}


async def _run(
    tmp_path: Path, pki: Pki, pdfs: SignedPdfs, *, strict: bool
) -> tuple[TdofficeSim, Sequence[DocumentRow], list[dict[str, Any]]]:
    tampered = pdfs.valid.replace(b"335/UBND-HC", b"336/UBND-HC")
    assert tampered != pdfs.valid
    async with (
        TdofficeSim(api_key="src") as source,
        TdofficeSim(api_key="home") as home,
        FolderDropper(tmp_path / "inbox") as dropper,
    ):
        source.add_document(*_with_pdf(1, tampered), unit=UNIT)
        source.add_document(*_with_pdf(2, pdfs.valid), unit=UNIT)
        raw = config_dict(tmp_path / "data", source, home, dropper)
        raw["bridge"]["trust_store"] = str(write_trust_store(tmp_path / "trust", pki.root))
        raw["bridge"]["fetch_revocation"] = False
        raw["units"][0]["quarantine_invalid_signatures"] = strict
        async with build_daemon(parse_config(raw, {})) as daemon:
            await wait_until(lambda: len(home.received) == (1 if strict else 2), what="deliveries")
            await daemon.processor.process_pending()
            rows = await daemon.store.search_documents(
                unit=None, q=None, state=None, limit=10, before=None
            )
            held = await daemon.store.quarantined()
        return home, rows, held


async def test_tampered_signature_is_delivered_flagged(
    tmp_path: Path, pki: Pki, pdfs: SignedPdfs
) -> None:
    """By default a broken signature travels with a note; the valid one is recorded as valid."""
    home, rows, held = await _run(tmp_path, pki, pdfs, strict=False)
    verdicts = {r.document.number: r.document.attachments[0].signature for r in rows}
    assert verdicts["101"] is not None and verdicts["101"].status.value == "invalid"
    assert verdicts["102"] is not None and verdicts["102"].status.value == "valid"
    assert "Vân" in (verdicts["102"].signer or "")
    notes = {d["codeNumber"]: d.get("note") for d in home.received.values()}
    assert "invalid" in (notes["101"] or "")
    assert not notes["102"]
    assert held == []


async def test_tampered_signature_quarantined_when_unit_says_so(
    tmp_path: Path, pki: Pki, pdfs: SignedPdfs
) -> None:
    """With quarantine_invalid_signatures the broken document is held with its reason."""
    home, _rows, held = await _run(tmp_path, pki, pdfs, strict=True)
    assert [d["codeNumber"] for d in home.received.values()] == ["102"]
    assert len(held) == 1 and held[0]["kind"] == "signature"
