"""What `lienthong run` loads at start: the daemon of a SQLite store with unsigned documents
never loads PostgreSQL's driver, the signature libraries, fuzzy matching or ftfy; each comes
in with the first use of the capability that needs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("asyncpg", "signxml", "pyhanko", "pyhanko_certvalidator", "cryptography", "rapidfuzz",
         "ftfy")  # fmt: skip


def _loaded(code: str) -> dict[str, bool]:
    script = (
        "import sys, json\n"
        "import bridge.cli, bridge.cli_local, bridge.app, bridge.daemon, adapters\n"
        "adapters.registry()\n"
        f"{code}\n"
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result: dict[str, bool] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_the_daemon_starts_without_the_heavy_libraries() -> None:
    assert _loaded("") == dict.fromkeys(HEAVY, False)


def test_each_loads_with_the_first_use_that_needs_it() -> None:
    loaded = _loaded(
        "from bridge.normalize.identity import subject_similarity\n"
        "subject_similarity('V/v a', 'V/v b')\n"
        "from bridge.normalize.legacy import repair_field\n"
        "repair_field('Ã\\x81p dá»¥ng')\n"
        "from bridge.store.driver.postgres import PgDriver\n"
        "import asyncio\n"
        "try:\n"
        "    asyncio.run(PgDriver('postgresql://127.0.0.1:1/none').open())\n"
        "except Exception:\n"
        "    pass\n"
    )
    assert loaded["rapidfuzz"] and loaded["ftfy"] and loaded["asyncpg"]
    assert not loaded["signxml"] and not loaded["pyhanko_certvalidator"]


def test_an_unsigned_edxml_message_needs_no_signature_library() -> None:
    from bridge.signatures import may_be_signed

    assert not may_be_signed(b"<edXML xmlns='http://www.mic.gov.vn/TBT/QCVN_102_2016'/>")
    assert may_be_signed(b"<edXML><Signature xmlns='http://www.w3.org/2000/09/xmldsig#'/></edXML>")
