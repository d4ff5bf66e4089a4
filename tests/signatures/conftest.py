"""Session-wide test PKI and signed files: keys are generated once, files written per test."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge.signatures import TrustStore
from tests.signatures.pki import (
    DAY,
    NOW,
    UNREACHABLE_URL,
    Issued,
    issue,
    minimal_pdf,
    sign_pdf,
    write_trust_store,
)

GOV_CA = "Ban Cơ yếu Chính phủ"


@dataclass(frozen=True)
class Pki:
    root: Issued
    intermediate: Issued
    signer: Issued
    expired: Issued
    revocable: Issued
    stranger_root: Issued
    stranger: Issued


@dataclass(frozen=True)
class SignedPdfs:
    unsigned: bytes
    valid: bytes
    expired: bytes
    untrusted: bytes
    revocable: bytes
    signed_from: dt.datetime  # the clock around the signing, for checking the signing time
    signed_until: dt.datetime


@pytest.fixture(scope="session")
def pki() -> Pki:
    root = issue(
        "Root CA Test",
        GOV_CA,
        None,
        is_ca=True,
        not_before=NOW - 3650 * DAY,
        not_after=NOW + 3650 * DAY,
    )
    intermediate = issue(
        "CA phục vụ các cơ quan Nhà nước",
        GOV_CA,
        root,
        is_ca=True,
        not_before=NOW - 3000 * DAY,
        not_after=NOW + 3000 * DAY,
    )
    stranger_root = issue(
        "Untrusted Root",
        "Lạ",
        None,
        is_ca=True,
        not_before=NOW - 100 * DAY,
        not_after=NOW + 100 * DAY,
    )
    return Pki(
        root=root,
        intermediate=intermediate,
        signer=issue(
            "Bùi Thị Thúy Vân",
            "Ủy ban nhân dân huyện Vân Đồn",
            intermediate,
            is_ca=False,
            not_before=NOW - 30 * DAY,
            not_after=NOW + 365 * DAY,
        ),
        expired=issue(
            "Người Hết Hạn",
            "UBND xã Bình Dân",
            intermediate,
            is_ca=False,
            not_before=NOW - 730 * DAY,
            not_after=NOW - 365 * DAY,
        ),
        revocable=issue(
            "Có OCSP",
            "Sở Nội vụ",
            intermediate,
            is_ca=False,
            not_before=NOW - 30 * DAY,
            not_after=NOW + 365 * DAY,
            revocation_url=UNREACHABLE_URL,
        ),
        stranger_root=stranger_root,
        stranger=issue(
            "Người Lạ",
            "Không rõ",
            stranger_root,
            is_ca=False,
            not_before=NOW - 30 * DAY,
            not_after=NOW + 30 * DAY,
        ),
    )


@pytest.fixture(scope="session")
def pdfs(pki: Pki) -> SignedPdfs:
    base = minimal_pdf()
    signed_from = dt.datetime.now(dt.UTC).replace(microsecond=0)
    valid = sign_pdf(base, pki.signer, [pki.intermediate])
    signed_until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    return SignedPdfs(
        unsigned=base,
        valid=valid,
        expired=sign_pdf(base, pki.expired, [pki.intermediate]),
        untrusted=sign_pdf(base, pki.stranger, [pki.stranger_root]),
        revocable=sign_pdf(base, pki.revocable, [pki.intermediate]),
        signed_from=signed_from,
        signed_until=signed_until,
    )


@pytest.fixture
def trust(pki: Pki, tmp_path: Path) -> TrustStore:
    return TrustStore.from_folder(write_trust_store(tmp_path / "trust", pki.root))


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path
