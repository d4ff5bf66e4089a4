"""Certificate chain, validity-period and revocation checks shared by PDF and edXML signatures.

One verdict per signer certificate: which status it earns and why, in words for operators.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import structlog
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from bridge.signatures.trust import TrustStore
from schemas.document import SignatureStatus

log = structlog.get_logger(__name__)

SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})

REVOCATION_CHECKED = "đã kiểm tra tình trạng thu hồi / revocation checked"
REVOCATION_UNPUBLISHED = (
    "CA không công bố OCSP/CRL, chưa kiểm tra thu hồi / "
    "the CA publishes no OCSP/CRL, revocation not checked"
)
REVOCATION_UNREACHABLE = (
    "không truy cập được OCSP/CRL, chưa kiểm tra thu hồi / "
    "OCSP/CRL unreachable, revocation not checked"
)


@dataclass(frozen=True)
class Verdict:
    status: SignatureStatus
    reason: str


def signer_label(cert: Any) -> str | None:
    """ "CN, O" from an asn1crypto certificate's subject; None when it names neither."""
    subject = cert.subject.native
    parts = [_first(subject.get("common_name")), _first(subject.get("organization_name"))]
    return ", ".join(p for p in parts if p) or None


def _first(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def check_chain(
    cert: Any, others: Iterable[Any], trust: TrustStore, moment: dt.datetime
) -> Verdict:
    """Judge `cert` (asn1crypto) at `moment`, the signing time.

    Expired or not yet valid at `moment` → INVALID: the key had no standing when it signed,
    and no trust configuration could change that, so `untrusted` (which invites the operator
    to add a CA) would mislead. Blocking, with a private event loop: call it from a worker
    thread (from a thread with a running loop it still works, blocking that loop).
    """
    not_before, not_after = cert.not_valid_before, cert.not_valid_after
    if moment > not_after:
        return Verdict(
            SignatureStatus.INVALID,
            f"chứng thư số đã hết hạn khi ký (hết hạn {not_after:%d/%m/%Y}) / "
            f"certificate had expired at signing time (expired {not_after:%Y-%m-%d})",
        )
    if moment < not_before:
        return Verdict(
            SignatureStatus.INVALID,
            "chứng thư số chưa có hiệu lực khi ký / certificate not yet valid at signing time",
        )
    others = list(others)
    try:
        path = _run(_validate, cert, others, trust, moment, hard_fail=True)
    except InsufficientRevinfoError:
        if trust.require_revocation:
            return Verdict(SignatureStatus.INDETERMINATE, REVOCATION_UNREACHABLE)
        try:
            _run(_validate, cert, others, trust, moment, hard_fail=False)
        except (PathBuildingError, PathValidationError, InvalidCertificateError) as exc:
            return _failure(exc)
        return Verdict(SignatureStatus.VALID, REVOCATION_UNREACHABLE)
    except (PathBuildingError, PathValidationError, InvalidCertificateError) as exc:
        return _failure(exc)
    except ValueError as exc:
        log.warning("signature_chain_undecided", error=str(exc))
        return Verdict(
            SignatureStatus.INDETERMINATE,
            "không xác minh được chuỗi chứng thư / certificate chain could not be processed",
        )
    return _revocation_verdict(path, trust)


def _run(func: Callable[..., Coroutine[Any, Any, Any]], *args: Any, **kwargs: Any) -> Any:
    """Run `func(*args)` on a private event loop; in a helper thread if this one has a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(func(*args, **kwargs))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(func(*args, **kwargs))).result()


async def _validate(
    cert: Any, others: list[Any], trust: TrustStore, moment: dt.datetime, *, hard_fail: bool
) -> Any:
    fetching = hard_fail and trust.fetch_revocation
    backend = AIOHttpFetcherBackend(per_request_timeout=trust.fetch_timeout_s) if fetching else None
    context = ValidationContext(
        trust_roots=list(trust.roots),
        other_certs=others,
        moment=moment,
        allow_fetching=fetching,
        crls=list(trust.crls),
        revocation_mode="hard-fail" if hard_fail else "soft-fail",
        retroactive_revinfo=True,
        fetcher_backend=backend,
    )
    try:
        path = await CertificateValidator(cert, others, context).async_validate_path()
    finally:
        if backend is not None:
            await backend.close()  # type: ignore[no-untyped-call]
    usages = cert.key_usage_value.native if cert.key_usage_value is not None else None
    if usages is not None and not SIGNING_KEY_USAGES & set(usages):
        raise InvalidCertificateError("key usage allows neither signing nor non-repudiation")
    return path


def _failure(exc: Exception) -> Verdict:
    if isinstance(exc, PathBuildingError):
        return Verdict(
            SignatureStatus.UNTRUSTED,
            "chuỗi chứng thư không dẫn tới CA trong kho tin cậy / "
            "certificate chain does not reach the trust store",
        )
    if isinstance(exc, RevokedError):
        return Verdict(SignatureStatus.INVALID, "chứng thư số đã bị thu hồi / certificate revoked")
    if isinstance(exc, ExpiredError | NotYetValidError):
        return Verdict(
            SignatureStatus.INVALID,
            "chứng thư trong chuỗi hết hiệu lực khi ký / "
            "a certificate of the chain was not valid at signing time",
        )
    if isinstance(exc, InvalidCertificateError | DisallowedAlgorithmError):
        return Verdict(
            SignatureStatus.INVALID,
            f"chứng thư số không dùng được để ký / certificate not usable for signing: {exc}",
        )
    return Verdict(
        SignatureStatus.UNTRUSTED,
        f"chuỗi chứng thư không hợp lệ / certificate chain failed validation: {exc}",
    )


def _revocation_verdict(path: Any, trust: TrustStore) -> Verdict:
    """After a hard-fail pass, revocation was checked wherever the certificates point to it."""
    checked_issuers = {c.issuer.dump() for c in trust.crls}
    certs = [c for c in path.iter_certs(include_root=False)]
    is_checked = any(
        c.ocsp_urls or c.crl_distribution_points or c.issuer.dump() in checked_issuers
        for c in certs
    )
    if is_checked:
        return Verdict(SignatureStatus.VALID, REVOCATION_CHECKED)
    if trust.require_revocation:
        return Verdict(SignatureStatus.INDETERMINATE, REVOCATION_UNPUBLISHED)
    return Verdict(SignatureStatus.VALID, REVOCATION_UNPUBLISHED)
