"""Verification cost per document: an unsigned PDF and a signed PDF of about 1 MB.

Run as `python -m bench.bench_signatures`; prints one JSON line, then a one-line summary.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bridge.signatures import TrustStore, verify_pdf
from tests.signatures.pki import DAY, NOW, issue, minimal_pdf, sign_pdf, write_trust_store

ROUNDS = 20
PAD_BYTES = 1_000_000


def _time_ms(func: Callable[[], object], rounds: int = ROUNDS) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    root = issue(
        "Bench Root", "Bench", None, is_ca=True, not_before=NOW - DAY, not_after=NOW + 365 * DAY
    )
    signer = issue(
        "Bench Signer", "Bench", root, is_ca=False, not_before=NOW - DAY, not_after=NOW + 30 * DAY
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        trust = TrustStore.from_folder(write_trust_store(folder / "trust", root))
        unsigned = folder / "unsigned.pdf"
        unsigned.write_bytes(minimal_pdf(pad_bytes=PAD_BYTES))
        signed = folder / "signed.pdf"
        signed.write_bytes(sign_pdf(unsigned.read_bytes(), signer, []))
        status = verify_pdf(signed, trust)
        result = {
            "bench": "signatures",
            "rounds": ROUNDS,
            "unsigned_pdf_bytes": unsigned.stat().st_size,
            "signed_pdf_bytes": signed.stat().st_size,
            "unsigned_ms": round(_time_ms(lambda: verify_pdf(unsigned, trust)), 3),
            "signed_ms": round(_time_ms(lambda: verify_pdf(signed, trust)), 3),
            "signed_status": status.status.value if status else None,
        }
    print(json.dumps(result))
    print(
        f"signatures: unsigned {result['unsigned_ms']} ms, signed ~1 MB "
        f"{result['signed_ms']} ms ({result['signed_status']}), median of {ROUNDS}"
    )


if __name__ == "__main__":
    main()
