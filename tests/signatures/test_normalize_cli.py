"""`lienthong normalize --attachments DIR --trust-store DIR` shows each attachment's signature."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bridge.cli import main
from tests.signatures.conftest import Pki, SignedPdfs
from tests.signatures.pki import write_trust_store


def _item(name: str, data: bytes) -> dict[str, object]:
    return {
        "documentId": "d-1",
        "codeNumber": "335",
        "codeNotation": "UBND-HC",
        "promulgationDate": "2026-03-24",
        "issuer": {"organId": "000.00.33.H49", "organName": "Ủy ban nhân dân huyện Vân Đồn"},
        "documentType": {"code": "CV", "name": "Công văn"},
        "subject": "V/v thử chữ ký số",
        "signer": None,
        "priority": 0,
        "confidentiality": 0,
        "dueDate": None,
        "recipients": [],
        "attachments": [
            {
                "fileId": "f-1",
                "name": name,
                "contentType": "application/pdf",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        ],
        "version": 1,
        "state": "active",
        "updatedAt": "2026-03-24T09:00:00+07:00",
    }


@pytest.mark.parametrize(
    ("which", "status"), [("valid", "valid"), ("tampered", "invalid"), ("untrusted", "untrusted")]
)
def test_normalize_verifies_signatures_of_files_at_hand(
    tmp_path: Path,
    pki: Pki,
    pdfs: SignedPdfs,
    which: str,
    status: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Files named by the record are hash-checked and their signatures judged against the trust store."""
    data = {
        "valid": pdfs.valid,
        "untrusted": pdfs.untrusted,
        "tampered": pdfs.valid.replace(b"335/UBND-HC", b"336/UBND-HC"),
    }[which]
    files = tmp_path / "files"
    files.mkdir()
    (files / "cv.pdf").write_bytes(data)
    item = tmp_path / "item.json"
    item.write_text(json.dumps(_item("cv.pdf", data), ensure_ascii=False), encoding="utf-8")
    trust = write_trust_store(tmp_path / "trust", pki.root)
    assert (
        main(
            [
                "normalize",
                "--profile",
                "tdoffice",
                str(item),
                "--attachments",
                str(files),
                "--trust-store",
                str(trust),
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    signature = doc["attachments"][0]["signature"]
    assert signature["status"] == status and signature["reason"]
    assert doc["attachments"][0]["blob"] is None
