"""The trust store: the CA certificates (and optional CRLs) signatures are checked against.

Loaded once from the folder named by `[bridge].trust_store`; every certificate in it is a
trust anchor, so an operator may trust a whole root or only one subordinate CA.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from asn1crypto import crl, pem, x509  # type: ignore[import-untyped]

from bridge.errors import ConfigError

log = structlog.get_logger(__name__)

CERT_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der"})
CRL_SUFFIXES = frozenset({".crl"})
FETCH_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class TrustStore:
    """Trust anchors plus the revocation policy.

    `require_revocation`: when revocation cannot be decided (no OCSP/CRL published, or
    unreachable), report `indeterminate` instead of `valid` with a note.
    `fetch_revocation`: whether OCSP responders and CRL distribution points named in the
    certificates are contacted (each request bounded by `fetch_timeout_s`).
    `crls`: CRLs placed in the folder, for units that fetch them out of band.
    """

    roots: tuple[x509.Certificate, ...] = ()
    crls: tuple[crl.CertificateList, ...] = ()
    require_revocation: bool = False
    fetch_revocation: bool = True
    fetch_timeout_s: float = FETCH_TIMEOUT_S

    @classmethod
    def from_folder(
        cls,
        folder: Path | None,
        *,
        require_revocation: bool = False,
        fetch_revocation: bool = True,
        fetch_timeout_s: float = FETCH_TIMEOUT_S,
    ) -> TrustStore:
        """Load every certificate (PEM or DER, one or many per file) and CRL in `folder`.

        A missing or empty folder trusts nothing. Raises ConfigError naming every file
        that cannot be read, so a broken trust store refuses to start.
        """
        roots: list[x509.Certificate] = []
        crls: list[crl.CertificateList] = []
        broken: list[str] = []
        files = sorted(folder.iterdir()) if folder is not None and folder.is_dir() else []
        for path in files:
            suffix = path.suffix.lower()
            if suffix not in CERT_SUFFIXES | CRL_SUFFIXES or not path.is_file():
                continue
            try:
                blocks = _der_blocks(path.read_bytes())
                kind = crl.CertificateList if suffix in CRL_SUFFIXES else x509.Certificate
                loaded = [_load(kind, der) for der in blocks]
                (crls if suffix in CRL_SUFFIXES else roots).extend(loaded)
            except (ValueError, OSError) as exc:
                broken.append(f"{path.name}: {exc}")
        if broken:
            raise ConfigError(
                [f"trust_store: tệp không đọc được / unreadable file {item}" for item in broken]
            )
        log.info("trust_store_loaded", folder=str(folder), certificates=len(roots), crls=len(crls))
        return cls(
            roots=tuple(roots),
            crls=tuple(crls),
            require_revocation=require_revocation,
            fetch_revocation=fetch_revocation,
            fetch_timeout_s=fetch_timeout_s,
        )


def _der_blocks(data: bytes) -> list[bytes]:
    if not pem.detect(data):
        return [data]
    blocks = [der for _, _, der in pem.unarmor(data, multiple=True)]
    if not blocks:
        raise ValueError("PEM without content")
    return blocks


def _load(kind: Any, der: bytes) -> Any:
    """Parse eagerly, so a broken file fails at load time rather than at first use."""
    obj = kind.load(der)
    obj.native  # noqa: B018 -- forces the lazy asn1crypto parse
    return obj
