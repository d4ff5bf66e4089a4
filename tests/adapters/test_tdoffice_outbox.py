"""The tdoffice outbox against its simulator: the outgoing log, files, signed webhooks,
`to_outgoing`, and the dispatch reporter with the dispatch endpoint's rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from adapters._http import RetryPolicy
from adapters.tdoffice import PROFILE, webhook
from adapters.tdoffice.outbox import OUTGOING_MEDIA_TYPE, DispatchRefusedError, TdofficeOutbox
from adapters.tdoffice.outgoing import to_outgoing
from adapters.tdoffice.settings import TdofficeOutboxSettings
from bridge.blobs import BlobStore
from bridge.errors import AuthError, PermanentError, TransientError
from bridge.interfaces import AdapterContext, DispatchReporter, Source
from schemas import Document, Organ, OutgoingState, RawRecord, Signer
from simulators.demo_data import pdf_attachments
from simulators.tdoffice import TdofficeSim

UNIT = "000.00.31.H59"
SECRET = "td-outbox-secret"
RECIPIENTS: list[dict[str, str | None]] = [
    {"organId": "000.00.12.H59", "organName": "Sở Nội vụ", "email": "sonv@travinh.gov.vn"},
    {"organId": "000.00.33.H49", "organName": "UBND huyện Vân Đồn", "email": None},
]
QUICK = RetryPolicy(attempts=3, budget_s=2.0, base_s=0.01, max_backoff_s=0.02)


@pytest.fixture
async def sim() -> AsyncIterator[TdofficeSim]:
    server = TdofficeSim(seed=11)
    await server.start()
    try:
        yield server
    finally:
        await server.outbox.settle()
        await server.close()


@pytest.fixture
def ctx(tmp_path: Path) -> AdapterContext:
    return AdapterContext(units=(UNIT,), blobs=BlobStore(tmp_path / "blobs"))


def _settings(sim: TdofficeSim, **extra: object) -> TdofficeOutboxSettings:
    return TdofficeOutboxSettings.model_validate(
        {
            "name": "tieucan-out",
            "profile": "tdoffice",
            "base_url": sim.base_url,
            "api_key": sim.api_key,
            "webhook_secret": SECRET,
            "page_size": 2,
            **extra,
        }
    )


def _document(number: int, files: dict[str, bytes]) -> Document:
    return Document(
        issuer=Organ(code=UNIT, name="Ủy ban nhân dân huyện Tiểu Cần"),
        number=str(number),
        notation="UBND-VP",
        issued_on=dt.date(2026, 11, 20),
        type_name="Công văn",
        subject=f"V/v báo cáo số {number}",
        signer=Signer(name="Nguyễn Văn A", position="Chủ tịch"),
        attachments=pdf_attachments(files),
    )


def _issue(sim: TdofficeSim, number: int, main: str | None = None) -> str:
    files = {
        f"{number}-phu-luc.pdf": f"%PDF appendix {number}".encode(),
        f"{number}.pdf": f"%PDF {number}".encode(),
    }
    return sim.outbox.issue(
        _document(number, files), files, RECIPIENTS, main=main or f"{number}.pdf"
    )


async def _pull_all(
    outbox: Source, cursor: str | None = None
) -> tuple[list[RawRecord], str | None]:
    records: list[RawRecord] = []
    async for page in outbox.pull(cursor):
        records.extend(page.records)
        cursor = page.cursor or cursor
    return records, cursor


async def test_pull_reads_the_outgoing_log_by_cursor_with_files_stored(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    ids = [_issue(sim, n) for n in (101, 102, 103)]
    sim.add_document(_document(900, {}), {}, unit=None)  # the inbox is not the outbox
    async with TdofficeOutbox(_settings(sim), ctx) as outbox:
        assert isinstance(outbox, DispatchReporter)
        records, cursor = await _pull_all(outbox)
        assert [r.external_id for r in records] == ids
        assert {r.media_type for r in records} == {OUTGOING_MEDIA_TYPE}
        item = to_outgoing(records[0])
        assert (
            item.document_id == ids[0] and item.version == 1 and item.state is OutgoingState.ACTIVE
        )
        assert item.main_attachment == 1  # the second file is the main one
        assert item.document.attachments[1].name == "101.pdf"
        for att in item.document.attachments:
            assert att.blob is not None and await ctx.blobs.exists(att.blob)
        assert [r.email for r in item.recipients] == ["sonv@travinh.gov.vn", None]
        assert item.recipients[0].organ_id == "000.00.12.H59"
        assert item.document.number == "101" and item.document.revision == 1
        # changes come again later with a higher version; the cursor moves past them only
        sim.outbox.update(ids[1], subject="V/v báo cáo (sửa)")
        sim.outbox.revoke(ids[0], "Ban hành sai thẩm quyền")
        sim.outbox.recall(ids[2])
        later, _ = await _pull_all(outbox, cursor)
    items = [to_outgoing(r) for r in later]
    assert [(i.document_id, i.version, i.state) for i in items] == [
        (ids[1], 2, OutgoingState.ACTIVE),
        (ids[0], 2, OutgoingState.REVOKED),
        (ids[2], 2, OutgoingState.RECALLED),
    ]
    assert items[0].document.subject == "V/v báo cáo (sửa)" and items[0].document.revision == 2
    assert items[1].reason == "Ban hành sai thẩm quyền"
    assert len({i.send_id for i in items} | {to_outgoing(records[0]).send_id}) == 4


async def test_a_corrupt_file_makes_an_error_record_that_to_outgoing_refuses(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    document_id = _issue(sim, 104)
    file_id = sim.outbox.current[document_id]["attachments"][0]["fileId"]
    sim.corrupt_files.add(file_id)
    async with TdofficeOutbox(_settings(sim), ctx) as outbox:
        records, _ = await _pull_all(outbox)
    assert records[0].error and "SHA-256" in records[0].error
    with pytest.raises(PermanentError, match="SHA-256"):
        to_outgoing(records[0])


async def test_signed_webhooks_reach_accept_push_and_bad_ones_are_refused(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    received: list[RawRecord] = []
    async with TdofficeOutbox(_settings(sim), ctx) as outbox:

        async def hook(request: web.Request) -> web.Response:
            try:
                received.extend(await outbox.accept_push(request.headers, await request.read()))
            except AuthError:
                return web.Response(status=401)
            return web.Response(status=204)

        app = web.Application()
        app.router.add_post("/hooks/tieucan-out", hook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            sim.outbox.webhook_url = f"http://127.0.0.1:{port}/hooks/tieucan-out"
            document_id = _issue(sim, 105)
            sim.outbox.update(document_id, dueDate="2026-12-01")
            sim.outbox.recall(document_id, "Gửi nhầm đơn vị")
            await sim.outbox.settle()
            # a forged signature is refused with 401 and retried by tdoffice, never accepted
            sim.outbox.webhook_secret = "not-the-secret"
            _issue(sim, 106)
            await sim.outbox.settle()
        finally:
            await runner.cleanup()
        body = orjson.dumps({"event": "document.created", "data": {"documentId": "x"}})
        headers = webhook.signed_headers(SECRET, body, event_id="e1")
        assert await outbox.accept_push(headers, body) == []  # an inbox event: not ours
        # a `document.revoked` whose data forgot its state is still a revocation
        data = {**sim.outbox.current[document_id], "state": "active", "version": 4}
        body = orjson.dumps({"event": "document.revoked", "data": data})
        headers = webhook.signed_headers(SECRET, body, event_id="e2")
        revoked = await outbox.accept_push(headers, body)
    items = [to_outgoing(r) for r in received]
    assert [(i.version, i.state) for i in items] == [
        (1, OutgoingState.ACTIVE),
        (2, OutgoingState.ACTIVE),
        (3, OutgoingState.RECALLED),
    ]
    assert items[1].document.due_on == dt.date(2026, 12, 1)
    assert all(r.ack for r in received) and all(
        r.media_type == OUTGOING_MEDIA_TYPE for r in received
    )
    assert {p.status for p in sim.pushes if p.status != 204} == {401}
    assert to_outgoing(revoked[0]).state is OutgoingState.REVOKED


def _record(obj: object) -> RawRecord:
    return RawRecord(
        source="tieucan-out",
        unit=UNIT,
        external_id="d1",
        version="1",
        media_type=OUTGOING_MEDIA_TYPE,
        payload=orjson.dumps(obj),
        received_at=dt.datetime.now(dt.UTC),
    )


GOOD = {
    "sendId": "s1",
    "documentId": "d1",
    "codeNumber": "12",
    "codeNotation": "UBND-VP",
    "promulgationDate": "2026-11-20",
    "issuer": {"organId": UNIT, "organName": "UBND huyện Tiểu Cần"},
    "subject": "V/v thử",
    "recipients": [{"organId": "000.00.12.H59", "organName": "Sở Nội vụ", "email": "A@B.VN"}],
    "attachments": [],
    "version": 1,
    "state": "active",
    "reason": None,
}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"sendId": None}, "sendId"),
        ({"documentId": " "}, "documentId"),
        ({"state": "deleted"}, "state"),
        ({"version": 0}, "version"),
        ({"codeNumber": None}, "codeNumber"),
        ({"recipients": [{"organId": 5}]}, "recipients.0.organId"),
        (
            {
                "attachments": [
                    {"name": "a.pdf", "sha256": "0" * 64, "main": True},
                    {"name": "b.pdf", "sha256": "1" * 64, "main": True},
                ]
            },
            "attachments[1].main",
        ),
    ],
)
def test_to_outgoing_names_the_bad_element(change: dict[str, object], named: str) -> None:
    with pytest.raises(PermanentError, match=named.replace("[", r"\[").replace("]", r"\]")):
        to_outgoing(_record({**GOOD, **change}))


def test_to_outgoing_maps_a_plain_item_and_keeps_recipient_codes_as_listed() -> None:
    item = to_outgoing(
        _record({**GOOD, "recipients": [{"organId": " 000.00.12.h59 ", "email": "A@B.VN"}]})
    )
    assert item.recipients[0].organ_id == "000.00.12.h59"
    assert item.recipients[0].email == "a@b.vn"
    assert item.main_attachment is None and item.document.recipients[0].code == "000.00.12.H59"
    with pytest.raises(PermanentError, match="JSON"):
        to_outgoing(_record({}).model_copy(update={"payload": b"{broken"}))
    assert PROFILE.to_outgoing is to_outgoing and PROFILE.outbox_settings is TdofficeOutboxSettings


def _report(recipient: str = "000.00.12.H59", **extra: object) -> dict[str, object]:
    return {
        "recipient": recipient,
        "to": "000.00.17.H59",
        "version": 1,
        "road": "axis",
        "state": "queued",
        "statusCode": None,
        "at": "2026-11-22T08:15:00+07:00",
        "detail": None,
        **extra,
    }


async def test_dispatch_reports_follow_the_profile_rules(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    document_id = _issue(sim, 107)
    async with TdofficeOutbox(_settings(sim), ctx) as outbox:
        outbox.retry = QUICK
        await outbox.report(document_id, "k1", _report())
        await outbox.report(document_id, "k1", _report())  # the same key and body: 200
        await outbox.report(document_id, "k2", _report(state="sent"))
        await outbox.report(document_id, "k3", _report(state="arrived", statusCode="01"))
        with pytest.raises(DispatchRefusedError) as reused:
            await outbox.report(document_id, "k1", _report(state="done"))
        assert reused.value.status == 409
        with pytest.raises(DispatchRefusedError) as regression:
            await outbox.report(document_id, "k4", _report(state="sent"))
        assert regression.value.error == "state_regression"
        assert regression.value.answer["state"] == "arrived"
        with pytest.raises(DispatchRefusedError) as in_use:
            await outbox.report(document_id, "k5", _report(road="mail", to="a@b.vn"))
        assert in_use.value.error == "road_in_use"
        # once the axis failed for good, the mail road may start, and a new attempt on the axis
        second = "000.00.33.H49"
        await outbox.report(document_id, "k6", _report(second, state="failed", detail="mạng"))
        await outbox.report(document_id, "k7", _report(second, state="queued"))  # new attempt
        await outbox.report(document_id, "k7b", _report(second, state="failed", detail="23"))
        await outbox.report(document_id, "k8", _report(second, road="mail", to="x@y.vn"))
        with pytest.raises(DispatchRefusedError, match="road_in_use"):
            await outbox.report(document_id, "k8b", _report(second, road="axis"))
        with pytest.raises(DispatchRefusedError, match="HTTP 422") as unknown:
            await outbox.report(document_id, "k9", _report("000.00.99.H59"))
        assert unknown.value.answer["errors"][0]["field"] == "recipient"
        with pytest.raises(DispatchRefusedError, match="statusCode"):
            await outbox.report(document_id, "k10", _report(statusCode="99"))
        with pytest.raises(DispatchRefusedError) as missing:
            await outbox.report("no-such-document", "k11", _report())
        assert missing.value.status == 404
        assert isinstance(missing.value, PermanentError)
    log = sim.outbox.log_of(document_id)
    assert [(r["recipient"][-3:], r["road"], r["state"]) for r in log] == [
        ("H59", "axis", "queued"),
        ("H59", "axis", "sent"),
        ("H59", "axis", "arrived"),
        ("H49", "axis", "failed"),
        ("H49", "axis", "queued"),
        ("H49", "axis", "failed"),
        ("H49", "mail", "queued"),
    ]
    assert sim.outbox.dispatch_answers[:3] == [201, 200, 201]


async def test_dispatch_retries_transient_answers_and_reports_them_when_spent(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    document_id = _issue(sim, 108)
    async with TdofficeOutbox(_settings(sim), ctx) as outbox:
        outbox.retry = QUICK
        sim.faults.down = True
        with pytest.raises(TransientError, match="503"):
            await outbox.report(document_id, "k1", _report())
        assert len(sim.calls("POST", f"/api/v2/documents/{document_id}/dispatch")) == 3
        sim.faults.down = False
        sim.faults.throttle_rate, sim.faults.retry_after_s = 0.3, 0
        outbox.retry = RetryPolicy(attempts=20, budget_s=5.0, base_s=0.01, max_backoff_s=0.02)
        for n in range(6):
            await outbox.report(document_id, f"s{n}", _report(state="sent" if n else "queued"))
        assert sim.faults.counts.get("throttle", 0) > 0
        sim.faults.throttle_rate = 0.0
    async with TdofficeOutbox(_settings(sim, api_key="wrong"), ctx) as bad:
        bad.retry = QUICK
        with pytest.raises(AuthError):
            await bad.report(document_id, "k2", _report())
    assert len(sim.outbox.log_of(document_id)) == 6


async def test_the_dispatch_log_is_read_back_oldest_first(
    sim: TdofficeSim, ctx: AdapterContext
) -> None:
    import aiohttp

    document_id = _issue(sim, 109)
    async with TdofficeOutbox(_settings(sim), ctx) as outbox:
        for n, state in enumerate(("queued", "sent", "arrived")):
            await outbox.report(document_id, f"k{n}", _report(state=state))
    async with aiohttp.ClientSession(headers={"X-API-Key": sim.api_key}) as session:
        url = f"{sim.base_url}/api/v2/documents/{document_id}/dispatch"
        async with session.get(url) as resp:
            assert resp.status == 200
            data = (await resp.json())["data"]
        async with session.get(url.replace(document_id, "nope")) as resp:
            assert resp.status == 404
    assert [r["state"] for r in data] == ["queued", "sent", "arrived"]
