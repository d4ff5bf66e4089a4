"""A district and one of its communes on one bridge, with named operators of each.

Each unit has its own source and home system and, once started, one delivered document, one
secret document held in quarantine and one document its home system refuses (a dead letter);
one more document is addressed to both units and reaches both by their own sources.
The district's clerk has replayed the district's dead letter once, so the audit trail holds
an action of the district. Tokens: the single `[http] token` (admin), a clerk of each unit, a
viewer of the commune.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bridge.app import build_daemon, parse_config
from bridge.daemon import Daemon
from bridge.operators import hash_token
from schemas import Confidentiality, Document, Organ
from simulators.tdoffice import TdofficeSim, require_number_and_subject
from tests.e2e.harness import UNIT, UNIT_NAME, make_doc, wait_until

DISTRICT, COMMUNE = UNIT, "000.15.33.H49"
COMMUNE_NAME = "Ủy ban nhân dân xã Đài Xuyên"
ADMIN_TOKEN = "shared-admin-token"
TOKENS = {
    "district": "district-clerk-token",
    "commune": "commune-clerk-token",
    "viewer": "commune-viewer-token",
}
NAMES = {"district": "Trần Thị Huyện", "commune": "Nguyễn Văn Xã", "viewer": "Lê Thị Xem"}
FIRST = {DISTRICT: 0, COMMUNE: 10}  # document numbers 100… for the district, 110… the commune
SHARED = 20  # number 120: addressed to both


@dataclass
class TwoUnits:
    daemon: Daemon
    homes: dict[str, TdofficeSim]
    # per unit: its documents' subjects, and one id of each kind of row it owns
    subjects: dict[str, list[str]] = field(default_factory=dict)
    ids: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.daemon.http.port}"

    async def call(self, who: str, method: str, path: str, body: Any = None) -> tuple[int, str]:
        """`who`'s call (a key of TOKENS, or "admin"): the status and the body as text."""
        token = ADMIN_TOKEN if who == "admin" else TOKENS[who]
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                method,
                self.base + path,
                headers={"Authorization": f"Bearer {token}"},
                json=body,
            ) as resp,
        ):
            return resp.status, await resp.text()


def refuse_third(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Each home system refuses the third document of its unit (number 102 or 112)."""
    if body.get("codeNumber") in ("102", "112"):
        return [{"field": "subject", "message": "trích yếu không hợp lệ / subject rejected"}]
    return require_number_and_subject(body)


def _unit(unit: str, name: str, source: TdofficeSim, home: TdofficeSim) -> dict[str, Any]:
    tag = "vd" if unit == DISTRICT else "dx"
    return {
        "id": unit,
        "name": name,
        "sources": [
            {
                "name": f"{tag}-source",
                "profile": "tdoffice",
                "base_url": source.base_url,
                "api_key": source.api_key,
                "poll_interval": 0.3,
            }
        ],
        "sinks": [
            {
                "name": f"{tag}-home",
                "profile": "tdoffice",
                "base_url": home.base_url,
                "api_key": home.api_key,
            }
        ],
    }


def _operators() -> list[dict[str, Any]]:
    scoped = {"district": [DISTRICT], "commune": [COMMUNE], "viewer": [COMMUNE]}
    return [
        {
            "name": NAMES[who],
            "token_sha256": hash_token(TOKENS[who]),
            "units": scoped[who],
            **({"role": "viewer"} if who == "viewer" else {}),
        }
        for who in TOKENS
    ]


def _add_documents(unit: str, source: TdofficeSim, subjects: list[str]) -> None:
    for k in range(3):
        doc, files = make_doc(FIRST[unit] + k)
        doc = doc.model_copy(update={"recipients": (Organ(code=unit, name="x"),)})
        if k == 1:
            doc = doc.model_copy(update={"confidentiality": Confidentiality.MAT})
        source.add_document(doc, files, unit=unit)
        subjects.append(doc.subject)


def shared_document() -> tuple[Document, dict[str, bytes]]:
    doc, files = make_doc(SHARED)
    both = (Organ(code=DISTRICT, name=UNIT_NAME), Organ(code=COMMUNE, name=COMMUNE_NAME))
    return doc.model_copy(update={"recipients": both}), files


async def _ids(daemon: Daemon, setup: TwoUnits) -> None:
    store = daemon.store
    for unit in (DISTRICT, COMMUNE):
        found = [
            d
            for d in await store.search_documents(
                unit=unit, q=None, state=None, limit=10, before=None
            )
            if await store.document_units(d.id) == {unit}
        ]
        dead = [d for d in await store.dead_letters() if d.unit == unit]
        held = [q for q in await store.quarantined() if q["unit"] == unit]
        records = await store.records_of(found[0].id)
        setup.ids[unit] = {
            "document": found[0].id,
            "record": records[0].id,
            "dead": dead[0].id,
            "quarantine": held[0]["id"],
        }


@asynccontextmanager
async def two_units(tmp_path: Path) -> AsyncIterator[TwoUnits]:
    async with AsyncExitStack() as stack:
        sims = {}
        for unit in (DISTRICT, COMMUNE):
            source = await stack.enter_async_context(TdofficeSim(api_key=f"src-{unit}"))
            home = await stack.enter_async_context(TdofficeSim(api_key=f"home-{unit}"))
            home.validator = refuse_third
            sims[unit] = (source, home)
        raw = {
            "bridge": {"data_dir": str(tmp_path / "data"), "shutdown_grace": 5},
            "http": {"listen": "127.0.0.1:0", "token": ADMIN_TOKEN},
            "operators": _operators(),
            "units": [
                _unit(DISTRICT, UNIT_NAME, *sims[DISTRICT]),
                _unit(COMMUNE, COMMUNE_NAME, *sims[COMMUNE]),
            ],
        }
        subjects: dict[str, list[str]] = {DISTRICT: [], COMMUNE: []}
        for unit, (source, _) in sims.items():
            _add_documents(unit, source, subjects[unit])
            source.add_document(*shared_document(), unit=unit)
        daemon = await stack.enter_async_context(build_daemon(parse_config(raw, {})))
        setup = TwoUnits(daemon, {u: sims[u][1] for u in sims}, subjects)

        async def settled() -> bool:
            return len(await daemon.store.dead_letters()) == 2 and (
                len(await daemon.store.quarantined()) == 2
            )

        await wait_until(settled, timeout_s=30, what="a dead letter and a held record per unit")
        await wait_until(lambda: all(len(h.received) == 2 for h in setup.homes.values()))
        await _ids(daemon, setup)
        status, _ = await setup.call(
            "district", "POST", f"/dead-letters/{setup.ids[DISTRICT]['dead']}/replay"
        )
        assert status == 200
        await wait_until(settled, timeout_s=20, what="the replayed dead letter dead again")
        yield setup
