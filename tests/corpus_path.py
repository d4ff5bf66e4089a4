"""Where the labelled sample corpus is: `shared/corpus` beside the project (as CI lays it out),
else the workplace copy. A test that needs it fails loudly when neither exists."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_CANDIDATES = [
    Path(os.environ["LIENTHONG_CORPUS"]) if os.environ.get("LIENTHONG_CORPUS") else None,
    _ROOT.parent / "shared" / "corpus",
    Path("/work/shared/corpus"),
]


def corpus_dir() -> Path:
    for candidate in _CANDIDATES:
        if candidate is not None and (candidate / "truth.jsonl").is_file():
            return candidate
    raise FileNotFoundError(
        "labelled corpus not found (looked in ../shared/corpus beside the project and /work/shared/corpus;"
        " set LIENTHONG_CORPUS)"
    )


CORPUS = corpus_dir()
SHARED = CORPUS.parent


def samples() -> list[Path]:
    """Every labelled sample: the corpus and each of `corpus-more/seed-*` beside it."""
    more = sorted(p for p in (SHARED / "corpus-more").glob("seed-*") if p.is_dir())
    return [CORPUS, *more]
