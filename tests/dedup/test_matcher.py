"""The matcher on hand-made records and a real store: organ aliases, reasoning, overrides,
and records held for review joining the document their files belong to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.dedup import RULES, Matcher
from bridge.normalize import OrganDirectory
from bridge.store import SqliteStore
from schemas import Organ
from tests.dedup.helpers import Desk, attachment, document

OLD, NEW = "000.00.12.H49", "000.00.17.H49"
MERGED = Organ(code=NEW, name="Sở Khoa học và Công nghệ tỉnh Quảng Ninh")
COMMON_KEYS = {"rule", "candidate", "matched", "differed", "key"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "store.sqlite3") as opened:
        yield opened


def _directory() -> OrganDirectory:
    return OrganDirectory.from_entries(
        [
            {"code": NEW, "name": "Sở Khoa học và Công nghệ tỉnh Quảng Ninh", "previous": [OLD]},
            {"code": "000.06.33.H49", "name": "Ủy ban nhân dân thị trấn Cái Rồng"},
            {"code": "000.25.30.H58", "name": "Ủy ban nhân dân thị trấn Cái Rồng"},
        ]
    )


async def test_previous_organ_code_matches_the_current_one(store: SqliteStore) -> None:
    """A record carrying an organ's previous code is the document carrying its current code."""
    desk = Desk(store, Matcher(store, lambda u: ["home"], _directory()))
    first = await desk.feed(document(issuer=MERGED))
    old_name = Organ(code=OLD, name="Sở Thông tin và Truyền thông tỉnh Quảng Ninh")
    second = await desk.feed(document(issuer=old_name))
    assert second.outcome == "duplicate" and second.document_id == first.document_id
    assert "issuer_code_alias" in second.decision["matched"]


async def test_without_directory_old_and_new_codes_stay_apart(store: SqliteStore) -> None:
    """Without the directory, two codes are two organs (codes are opaque)."""
    desk = Desk(store)
    await desk.feed(document(issuer=MERGED))
    second = await desk.feed(document(issuer=Organ(code=OLD, name="Sở TT&TT tỉnh Quảng Ninh")))
    assert second.outcome == "document"
    assert second.decision["near"][0]["differed"] == ["issuer"]


async def test_same_name_other_code_stays_apart_even_with_directory(store: SqliteStore) -> None:
    """Two organs sharing a name but not a code are two issuers."""
    desk = Desk(store, Matcher(store, lambda u: ["home"], _directory()))
    name = "Ủy ban nhân dân thị trấn Cái Rồng"
    a = await desk.feed(document(issuer=Organ(code="000.06.33.H49", name=name)))
    b = await desk.feed(document(issuer=Organ(code="000.25.30.H58", name=name)))
    assert a.outcome == b.outcome == "document" and a.document_id != b.document_id


async def test_code_learned_from_a_later_road_keeps_same_name_organs_apart(
    store: SqliteStore,
) -> None:
    """A code-less first road learns its code, so a same-name organ's record is not merged."""
    desk = Desk(store)
    name = "Ủy ban nhân dân thị trấn Cái Rồng"
    first = await desk.feed(document(issuer=Organ(name=name)))
    second = await desk.feed(document(issuer=Organ(code="000.06.33.H49", name=name)))
    assert second.document_id == first.document_id and second.decision["learned"] == ["issuer"]
    third = await desk.feed(document(issuer=Organ(code="000.25.30.H58", name=name)))
    assert third.outcome == "document" and third.document_id != first.document_id


async def test_code_less_record_between_same_name_organs_is_held(store: SqliteStore) -> None:
    """A record naming only a name two coded organs share is held for review, not guessed."""
    desk = Desk(store)
    name = "Ủy ban nhân dân thị trấn Cái Rồng"
    await desk.feed(document(issuer=Organ(code="000.06.33.H49", name=name)))
    await desk.feed(
        document(issuer=Organ(code="000.25.30.H58", name=name), attachments=(attachment("b"),))
    )
    held = await desk.feed(document(issuer=Organ(name=name), attachments=(attachment("c"),)))
    assert held.outcome == "quarantined" and held.quarantine is not None
    assert held.quarantine[0] == "review" and len(held.decision["candidates"]) == 2
    picked = await desk.feed(document(issuer=Organ(name=name), attachments=(attachment("b"),)))
    assert picked.outcome == "duplicate" and "attachments_sha256" in picked.decision["matched"]


async def test_every_decision_has_the_common_keys(store: SqliteStore) -> None:
    """new, identity, revision, revocation, review and held_merged decisions share one shape."""
    desk = Desk(store)
    outcomes = [
        await desk.feed(document()),
        await desk.feed(document(notation="ubnd – hc", number="0335")),
        await desk.feed(document(revision=2, subject="V/v sửa đổi")),
        await desk.feed(
            document(
                number=None,
                notation=None,
                issued_on=None,
                review_reason="x",
                attachments=(attachment("held"),),
            )
        ),
        await desk.feed(document(number="9", attachments=(attachment("held"),))),
        await desk.feed(document(number="9", state="revoked", action="revoke")),
        await desk.feed(document(number="77", confidentiality=2)),
    ]
    rules = [o.decision["rule"] for o in outcomes]
    assert rules == ["new", "identity", "revision", "review", "new", "revocation", "secret"]
    for outcome in outcomes:
        assert outcome.decision.keys() >= COMMON_KEYS and outcome.decision["rule"] in RULES
    identity = outcomes[1].decision
    assert identity["candidate"] == outcomes[0].document_id
    assert identity["matched"] == ["number", "notation", "issued_on", "issuer_code"]
    assert identity["key"]["triple"] == "335|ubnd-hc|2024-03-05"
    assert outcomes[2].decision["revision"] == {"from": 1, "to": 2}
    assert outcomes[2].decision["differed"] == ["subject"]


async def test_held_record_joins_a_new_document_with_its_files(store: SqliteStore) -> None:
    """A mail held for review leaves quarantine once a document with its files is created."""
    desk = Desk(store)
    no_number = document(number=None, notation=None, issued_on=None, review_reason="không số")
    held = await desk.feed(no_number)
    assert held.outcome == "quarantined"
    created = await desk.feed(document())
    assert created.outcome == "document"
    assert await desk.matcher.absorb_held() == 1
    record = await desk.stored(held.record_id)
    assert record.outcome == "duplicate" and record.document_id == created.document_id
    assert record.decision is not None and record.decision["rule"] == "held_merged"
    assert await store.quarantined() == []
    assert await desk.matcher.absorb_held() == 0


async def test_held_record_joins_an_existing_document_when_another_road_arrives(
    store: SqliteStore,
) -> None:
    """A later road of a document whose files a held record names brings that record in."""
    desk = Desk(store)
    created = await desk.feed(document(attachments=()))
    held = await desk.feed(document(number=None, notation=None, issued_on=None, review_reason="x"))
    assert held.outcome == "quarantined"  # the first road named no files
    road = await desk.feed(document())
    assert road.outcome == "duplicate" and road.document_id == created.document_id
    record = await desk.stored(held.record_id)
    assert record.outcome == "duplicate" and record.document_id == created.document_id


async def test_held_record_with_other_files_stays_held(store: SqliteStore) -> None:
    """Files in common are required: a held record whose files no document has stays held."""
    desk = Desk(store)
    held = await desk.feed(
        document(
            number=None,
            notation=None,
            issued_on=None,
            review_reason="x",
            attachments=(attachment("other"),),
        )
    )
    await desk.feed(document())
    assert await desk.matcher.absorb_held() == 0
    assert (await desk.stored(held.record_id)).outcome == "quarantined"


async def test_split_override_makes_a_document_of_its_own(store: SqliteStore) -> None:
    """After an operator splits a record, re-matching gives it its own document, for good."""
    desk = Desk(store)
    first = await desk.feed(document())
    second = await desk.feed(document(), source="s2", external_id="b")
    assert first.document_id is not None and second.document_id == first.document_id
    assert await store.split_record(first.document_id, second.record_id, "op")
    (record,) = await store.unprocessed()
    again = await desk.matcher.decide(record, document(), "tdoffice")
    assert again.outcome == "document" and again.decision["rule"] == "override"


async def test_merge_override_forces_the_kept_document(store: SqliteStore) -> None:
    """After an operator merges two documents, the records re-match to the kept one."""
    desk = Desk(store)
    keep = await desk.feed(document())
    other = await desk.feed(document(number="336"), source="s2", external_id="b")
    assert keep.document_id is not None and other.document_id is not None
    assert await store.merge_documents(keep.document_id, other.document_id, "op")
    (record,) = await store.unprocessed()
    again = await desk.matcher.decide(record, document(number="336"), "tdoffice")
    assert again.outcome == "duplicate" and again.document_id == keep.document_id
    assert again.decision["rule"] == "override" and again.decision["matched"] == ["override"]


async def test_override_hook_reads_the_operator_table(store: SqliteStore) -> None:
    """`_override` answers None without a correction, else the document id or "new"."""
    desk = Desk(store)
    first = await desk.feed(document())
    record = await desk.stored(first.record_id)
    assert await desk.matcher._override(record) is None
    assert first.document_id is not None
    await store.split_record(first.document_id, first.record_id, "op")
    assert await desk.matcher._override(record) == "new"
