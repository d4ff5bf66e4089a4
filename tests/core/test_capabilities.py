"""Profile-specific behaviour comes from what an adapter declares, never from its name: a
made-up profile with `status_messages` gets status records read and status owed to its
senders; `shared_node` makes sources of several units one endpoint; the push intake stores
what an adapter with `accept_push` reads; a fair share of the sources per instance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from bridge.app import parse_config, profiles
from bridge.domain.enums import EndpointRole, ProcessRole, RecordOutcome
from bridge.endpoints import Endpoint, intake_for, wanted
from bridge.health import Health
from bridge.interfaces import IncomingStatus, Profile, StatusMessages
from bridge.pipeline import Processor
from bridge.settings import SourceSettings
from bridge.sharing import within_share
from bridge.store import Store, open_store
from schemas import Document, DocumentRef, Organ, RawRecord

UNIT = "000.00.33.H49"
STATUS_TYPE = "application/x-road-status"


def _to_document(raw: RawRecord) -> Document:
    return Document.model_validate_json(raw.payload)


def _read_status(raw: RawRecord) -> IncomingStatus:
    body = orjson.loads(raw.payload)
    return IncomingStatus(code=body["code"], document_id=body["about"])


def _no_file(data: bytes, name: str) -> RawRecord:
    raise NotImplementedError


def _target(document_id: str) -> DocumentRef:
    return DocumentRef(number=document_id)


PLAIN = Profile(name="plain", to_document=_to_document, read_file=_no_file)
TALKING = Profile(
    name="talking",
    to_document=_to_document,
    read_file=_no_file,
    status_messages=StatusMessages(media_type=STATUS_TYPE, read=_read_status, target=_target),
)


def _record(source: str, media_type: str, payload: bytes, n: int = 1) -> RawRecord:
    return RawRecord(
        source=source,
        unit=UNIT,
        external_id=f"{source}-{n}",
        version="1",
        media_type=media_type,
        payload=payload,
        received_at=dt.datetime(2026, 3, 6, tzinfo=dt.UTC),
    )


def _document() -> bytes:
    doc = Document(
        issuer=Organ(code="000.00.05.H49", name="Sở Tài chính tỉnh Quảng Ninh"),
        number="12",
        notation="STC-NS",
        issued_on=dt.date(2026, 3, 5),
        subject="Về việc quyết toán",
    )
    return doc.model_dump_json().encode()


async def _process(store: Store, record: RawRecord) -> None:
    await store.save_records([record])
    table = {"plain": PLAIN, "talking": TALKING}
    processor = Processor(store, table, lambda source: source, lambda unit: ["home"])
    await processor.process_pending()


async def test_a_profile_declaring_status_messages_owes_its_senders_status(tmp_path: Path) -> None:
    """A document from a profile with `status_messages` owes 01 to its sender; from a plain
    profile, nothing."""
    async with open_store("sqlite", tmp_path) as store:
        await _process(store, _record("talking", "application/json", _document()))
        await _process(store, _record("plain", "application/json", _document()))
        assert [s.code for s in await store.due_status("talking")] == ["01"]
        assert await store.due_status("plain") == []


async def test_a_status_record_is_read_by_the_profiles_own_reader(tmp_path: Path) -> None:
    """A record of the profile's status media type is a status message, read by its reader;
    the same media type from a plain profile is mapped as a document (and is unreadable)."""
    status = orjson.dumps({"code": "05", "about": "12"})
    async with open_store("sqlite", tmp_path) as store:
        await _process(store, _record("talking", STATUS_TYPE, status))
        await _process(store, _record("plain", STATUS_TYPE, status))
        outcomes = (await store.counts())["outcomes"]
    assert outcomes.get(RecordOutcome.STATUS) == 1
    assert outcomes.get(RecordOutcome.QUARANTINED) == 1


def _vxp_units(system_ids: tuple[str, str]) -> dict[str, Any]:
    return {
        "bridge": {"data_dir": "/tmp/unused"},
        "units": [
            {
                "id": unit,
                "name": unit,
                "sources": [
                    {
                        "name": f"axis-{i}",
                        "profile": "vxp",
                        "base_url": "http://127.0.0.1:9",
                        "system_id": system_id,
                        "secret": "s",
                    }
                ],
                "sinks": [{"name": f"home-{i}", "profile": "folder", "path": "/tmp/out"}],
            }
            for i, (unit, system_id) in enumerate(
                zip((UNIT, "000.15.33.H49"), system_ids, strict=True)
            )
        ],
    }


def test_sources_on_one_shared_node_are_one_endpoint_serving_every_unit() -> None:
    """Two vxp sources with one base_url and system_id: one endpoint, named after the first."""
    config = parse_config(_vxp_units(("vxp.1", "vxp.1")), {})
    found = wanted(config, profiles(), ProcessRole.ALL)
    assert sorted(found) == ["axis-0", "home-0", "home-1"]
    assert found["axis-0"][1] == (UNIT, "000.15.33.H49")
    assert found["axis-0"][2] is EndpointRole.SOURCE


def test_sources_on_two_nodes_stay_two_and_the_delivery_process_runs_sinks_only() -> None:
    """Another system_id is another node; the delivery process wants the sinks alone."""
    config = parse_config(_vxp_units(("vxp.1", "vxp.2")), {})
    assert sorted(wanted(config, profiles(), ProcessRole.ALL)) == [
        "axis-0",
        "axis-1",
        "home-0",
        "home-1",
    ]
    assert sorted(wanted(config, profiles(), ProcessRole.DELIVERIES)) == ["home-0", "home-1"]


def test_a_profile_without_shared_node_never_shares() -> None:
    """vxp sources seen through a profile that declares no node are one endpoint each."""
    config = parse_config(_vxp_units(("vxp.1", "vxp.1")), {})
    table = {**profiles(), "vxp": Profile(name="vxp", to_document=_to_document, read_file=_no_file)}
    assert sorted(wanted(config, table, ProcessRole.ALL))[:2] == ["axis-0", "axis-1"]


class _Pushed:
    """An adapter that can be pushed to: every body is one record."""

    async def accept_push(self, headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
        return [_record("pushed", "application/json", body)]


async def test_push_intake_stores_what_the_adapter_reads_and_tells_the_processor(
    tmp_path: Path,
) -> None:
    """An endpoint whose adapter has `accept_push` has an intake; one without has none."""
    settings = SourceSettings(name="pushed", profile="plain")
    told: list[bool] = []
    async with open_store("sqlite", tmp_path) as store:
        pushed = Endpoint(settings, (UNIT,), EndpointRole.SOURCE, _Pushed(), Health("p", "plain"))
        intake = intake_for(pushed, store, lambda: told.append(True))
        assert intake is not None
        assert await intake({}, _document()) == 1
        assert len(await store.unprocessed(10)) == 1
        plain = Endpoint(settings, (UNIT,), EndpointRole.SOURCE, object(), Health("p", "plain"))
        assert intake_for(plain, store, lambda: None) is None
        assert intake_for(None, store, lambda: None) is None
    assert told == [True]


def test_each_live_instance_keeps_its_fair_share_the_first_by_name() -> None:
    """Four sources, two instances: at most two each; beyond its share an instance lets go."""
    assert within_share("a", 4, 2, [])
    assert within_share("c", 4, 2, ["a"])
    assert not within_share("c", 4, 2, ["a", "b"])
    assert within_share("a", 4, 2, ["a", "b", "c"])
    assert not within_share("c", 4, 2, ["a", "b", "c"])
    assert within_share("d", 4, 1, ["a", "b", "c"])
