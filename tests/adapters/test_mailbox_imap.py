"""The mailbox source against a real Dovecot (plain, STARTTLS, implicit TLS) and ImapSim."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from adapters.mailbox import PROFILE, MailboxSettings, MailboxSource
from bridge.blobs import BlobStore
from bridge.errors import AuthError, TransientError
from bridge.health import Health
from bridge.ingest import SourceRunner
from bridge.interfaces import AdapterContext
from bridge.pipeline import Processor
from bridge.store import SqliteStore
from schemas import Document, Organ, Page, RawRecord
from simulators.mailbox import ImapSim
from tests.corpus_path import CORPUS as CORPUS_ROOT
from tests.imap_server import (
    CuttableProxy,
    Dovecot,
    append,
    create_folder,
    delete_folder,
    flags_by_uid,
    free_port,
    start_dovecot,
)

CORPUS = CORPUS_ROOT / "mailbox"
MAILS = sorted(CORPUS.glob("*.eml"))


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = start_dovecot()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def folder(dovecot: Dovecot) -> str:
    name = f"T{uuid.uuid4().hex[:10]}"
    await create_folder(dovecot, name)
    return name


def settings_for(server: Any, folder: str = "INBOX", **extra: Any) -> MailboxSettings:
    values: dict[str, Any] = {
        "name": "vandon-mailbox",
        "profile": "mailbox",
        "host": "127.0.0.1",
        "port": server.port,
        "username": server.username,
        "password": server.password,
        "tls": "none",
        "folder": folder,
        "timeout_s": 10,
        "batch_size": 3,
    }
    values.update(extra)
    return MailboxSettings.model_validate(values)


def context(tmp_path: Path) -> AdapterContext:
    return AdapterContext(units=("000.00.33.H49",), blobs=BlobStore(tmp_path / "blobs"))


async def drain(source: MailboxSource, cursor: str | None) -> tuple[list[RawRecord], str | None]:
    records: list[RawRecord] = []
    async with asyncio.timeout(30):
        async for page in source.pull(cursor):
            assert isinstance(page, Page)
            records.extend(page.records)
            cursor = page.cursor
    return records, cursor


async def test_pull_pages_and_resume_after_restart(
    dovecot: Dovecot, folder: str, tmp_path: Path
) -> None:
    """Corpus mails come in pages of batch_size; a new source resumes from the stored cursor."""
    for path in MAILS[:5]:
        await append(dovecot, path.read_bytes(), folder)
    ctx = context(tmp_path)
    async with MailboxSource(settings_for(dovecot, folder), ctx) as source:
        first, cursor = await drain(source, None)
    expected_ids = [PROFILE.read_file(p.read_bytes(), p.name).external_id for p in MAILS[:5]]
    assert [r.external_id for r in first] == expected_ids
    assert len({r.external_id for r in first}) == 5
    assert isinstance(ctx.blobs, BlobStore)
    for record in first:
        assert record.error is None and record.ack is not None
        for attachment in record.attachments:
            assert attachment.blob is not None and ctx.blobs.path(attachment.blob).is_file()
        assert PROFILE.to_document(record).attachments == record.attachments
    for path in MAILS[5:]:
        await append(dovecot, path.read_bytes(), folder)
    async with MailboxSource(settings_for(dovecot, folder), ctx) as restarted:
        rest, cursor2 = await drain(restarted, cursor)
        again, _ = await drain(restarted, cursor2)
    assert len(rest) == len(MAILS) - 5
    assert again == []
    assert json.loads(cursor2 or "{}")["uid"] == len(MAILS)


async def test_keyword_only_after_acknowledge(
    dovecot: Dovecot, folder: str, tmp_path: Path
) -> None:
    """Pulling leaves flags alone (BODY.PEEK); acknowledge adds $LienThong to that message only."""
    for path in MAILS[:2]:
        await append(dovecot, path.read_bytes(), folder)
    async with MailboxSource(settings_for(dovecot, folder), context(tmp_path)) as source:
        records, _ = await drain(source, None)
        assert all(not flags for flags in (await flags_by_uid(dovecot, folder)).values())
        await source.acknowledge(records[0])
        await source.acknowledge(records[0])  # idempotent
    flags = await flags_by_uid(dovecot, folder)
    assert flags == {1: {"$LienThong"}, 2: set()}


async def test_uidvalidity_change_rereads_folder(
    dovecot: Dovecot, folder: str, tmp_path: Path
) -> None:
    """A folder recreated with a new UIDVALIDITY is read again; records keep their identity."""
    await append(dovecot, MAILS[0].read_bytes(), folder)
    async with MailboxSource(settings_for(dovecot, folder), context(tmp_path)) as source:
        before, cursor = await drain(source, None)
    await delete_folder(dovecot, folder)
    await create_folder(dovecot, folder)
    await append(dovecot, MAILS[0].read_bytes(), folder)
    await append(dovecot, MAILS[1].read_bytes(), folder)
    async with MailboxSource(settings_for(dovecot, folder), context(tmp_path)) as source:
        after, cursor2 = await drain(source, cursor)
    assert json.loads(cursor2 or "{}")["uidvalidity"] != json.loads(cursor or "{}")["uidvalidity"]
    assert len(after) == 2
    assert (after[0].external_id, after[0].version) == (before[0].external_id, before[0].version)


async def test_oversized_message_becomes_error_record(
    dovecot: Dovecot, folder: str, tmp_path: Path
) -> None:
    """A message above max_message_bytes is an error record, and the cursor moves past it."""
    await append(dovecot, MAILS[0].read_bytes(), folder)
    async with MailboxSource(
        settings_for(dovecot, folder, max_message_bytes=500), context(tmp_path)
    ) as source:
        records, cursor = await drain(source, None)
    assert len(records) == 1 and records[0].error is not None and "500" in records[0].error
    assert json.loads(cursor or "{}")["uid"] == 1


async def test_wrong_password_is_auth_error(dovecot: Dovecot, tmp_path: Path) -> None:
    """A refused LOGIN raises AuthError."""
    settings = settings_for(dovecot, password="wrong")
    async with MailboxSource(settings, context(tmp_path)) as source:
        with pytest.raises(AuthError):
            await source.check()


async def test_server_down_is_transient(tmp_path: Path) -> None:
    """A refused connection raises TransientError, not an OSError."""
    server = Dovecot(Path("/nonexistent"), None, free_port(), 0, "")  # type: ignore[arg-type]
    async with MailboxSource(settings_for(server), context(tmp_path)) as source:
        with pytest.raises(TransientError):
            await source.check()


async def test_implicit_tls_with_custom_ca(dovecot: Dovecot, folder: str, tmp_path: Path) -> None:
    """Implicit TLS verifies the server against the configured CA file."""
    await append(dovecot, MAILS[1].read_bytes(), folder)
    settings = settings_for(
        dovecot, folder, tls="implicit", port=dovecot.tls_port, ca_file=dovecot.ca_file
    )
    async with MailboxSource(settings, context(tmp_path)) as source:
        records, _ = await drain(source, None)
    assert len(records) == 1


async def test_implicit_tls_rejects_unknown_ca(dovecot: Dovecot, tmp_path: Path) -> None:
    """Without the CA the certificate is refused: TransientError, no plaintext fallback."""
    settings = settings_for(dovecot, tls="implicit", port=dovecot.tls_port)
    async with MailboxSource(settings, context(tmp_path)) as source:
        with pytest.raises(TransientError):
            await source.check()


async def test_starttls(dovecot: Dovecot, folder: str, tmp_path: Path) -> None:
    """STARTTLS upgrades the plain port before LOGIN."""
    await append(dovecot, MAILS[2].read_bytes(), folder)
    settings = settings_for(dovecot, folder, tls="starttls", ca_file=dovecot.ca_file)
    async with MailboxSource(settings, context(tmp_path)) as source:
        records, _ = await drain(source, None)
    assert len(records) == 1


async def test_move_to_folder_on_acknowledge(dovecot: Dovecot, folder: str, tmp_path: Path) -> None:
    """With move_to, an acknowledged mail moves to that folder and is never deleted."""
    done = folder + "done"
    await create_folder(dovecot, done)
    await append(dovecot, MAILS[3].read_bytes(), folder)
    settings = settings_for(dovecot, folder, move_to=done)
    async with MailboxSource(settings, context(tmp_path)) as source:
        records, _ = await drain(source, None)
        await source.acknowledge(records[0])
    assert await flags_by_uid(dovecot, folder) == {}
    assert len(await flags_by_uid(dovecot, done)) == 1


async def test_simulator_round_trip(tmp_path: Path) -> None:
    """ImapSim serves add_document mails that map back; STORE comes only with acknowledge."""
    sim = ImapSim(seed=3)
    await sim.start()
    try:
        doc = Document(
            issuer=Organ(code="000.00.00.H49", name="Ủy ban nhân dân tỉnh Quảng Ninh"),
            number="371",
            notation="UBND-NC",
            issued_on=__import__("datetime").date(2023, 3, 10),
            type_name="Công văn",
            subject="V/v phối hợp tổ chức Hội thi Tin học trẻ năm 2023",
        )
        for shape in range(3):
            sim.subject_shape = shape
            sim.add_document(doc, {"CV 371.pdf": b"%PDF-1.4 x"}, unit="000.00.33.H49")
        sim.add_raw(MAILS[0].read_bytes())
        settings = settings_for(
            sim, address_book=sim.address_book, password="secret", username="vanthu"
        )
        async with MailboxSource(settings, context(tmp_path)) as source:
            records, _ = await drain(source, None)
            assert not sim.calls("UID STORE", "/")
            for record in records:
                await source.acknowledge(record)
        assert len(sim.calls("UID STORE", "/")) == 4
        assert all("$LienThong" in sim.flags_of(uid) for uid in (1, 2, 3, 4))
        for record in records[:3]:
            mapped = PROFILE.to_document(record)
            assert (mapped.number, mapped.notation, mapped.issued_on) == (
                "371",
                "UBND-NC",
                doc.issued_on,
            )
            assert mapped.issuer.code == "000.00.00.H49"
        login = sim.calls("LOGIN", "/")[0]
        assert b"secret" not in login.body
    finally:
        await sim.close()


async def test_simulator_faults(tmp_path: Path) -> None:
    """The simulator's down and refuse_login knobs map to TransientError and AuthError."""
    sim = ImapSim()
    await sim.start()
    try:
        settings = settings_for(sim, password="secret")
        sim.refuse_login = True
        async with MailboxSource(settings, context(tmp_path)) as source:
            with pytest.raises(AuthError):
                await source.check()
        sim.refuse_login, sim.faults.down = False, True
        async with MailboxSource(settings, context(tmp_path)) as source:
            with pytest.raises(TransientError):
                await source.check()
    finally:
        await sim.close()


async def test_simulator_renumber_rereads(tmp_path: Path) -> None:
    """After the simulator renumbers its folder, the source reads every message again."""
    sim = ImapSim()
    await sim.start()
    try:
        sim.add_raw(MAILS[0].read_bytes())
        settings = settings_for(sim, password="secret")
        async with MailboxSource(settings, context(tmp_path)) as source:
            first, cursor = await drain(source, None)
            sim.renumber()
            second, _ = await drain(source, cursor)
        assert [r.external_id for r in second] == [r.external_id for r in first]
    finally:
        await sim.close()


def small_mail(n: int) -> bytes:
    """A short official mail with one PDF, its Message-ID its own."""
    mail = EmailMessage()
    mail["From"] = "vanthu@quangninh.gov.vn"
    mail["To"] = "vanthu@vandon.quangninh.gov.vn"
    mail["Subject"] = f"Công văn số {n}/UBND-VP"
    mail["Message-ID"] = f"<batch-{n}-{uuid.uuid4().hex}@quangninh.gov.vn>"
    mail.set_content(f"Kính gửi: UBND huyện Vân Đồn. Văn bản số {n}.")
    mail.add_attachment(
        b"%PDF-1.4 " + str(n).encode(), maintype="application", subtype="pdf", filename=f"{n}.pdf"
    )
    return mail.as_bytes()


def runner_for(source: MailboxSource, store: SqliteStore) -> SourceRunner:
    """The pipeline's own acknowledger: several receipts under way at once."""
    processor = Processor(store, {}, lambda name: None, lambda unit: ())
    return SourceRunner(source, store, processor, Health(source.name, "test"), 1.0)


async def test_fifty_acknowledgements_at_once_keep_the_connection(
    dovecot: Dovecot, folder: str, tmp_path: Path
) -> None:
    """50 stored mails acknowledged as the pipeline does (eight at a time): every one gets
    the keyword, in few commands, and the same connection goes on reading mail."""
    for n in range(50):
        await append(dovecot, small_mail(n), folder)
    settings = settings_for(dovecot, folder, batch_size=50)
    async with (
        SqliteStore(tmp_path / "s.sqlite3") as store,
        MailboxSource(settings, context(tmp_path)) as source,
    ):
        records, cursor = await drain(source, None)
        assert len(records) == 50
        await store.save_records(records)
        async with asyncio.timeout(20):
            await runner_for(source, store).acknowledge(records)
        assert await store.unacked(source.name) == []
        await append(dovecot, small_mail(50), folder)
        more, _ = await drain(source, cursor)
        assert len(more) == 1
    flags = await flags_by_uid(dovecot, folder)
    assert [uid for uid in range(1, 51) if "$LienThong" not in flags[uid]] == []
    assert "$LienThong" not in flags[51]


async def test_connection_cut_mid_batch_fails_fast_and_reconnects(
    dovecot: Dovecot, folder: str, tmp_path: Path
) -> None:
    """The connection cut while 50 acknowledgements are under way: they fail at once (not
    after the command timeout), and the next pass logs in afresh and marks every mail."""
    for n in range(50):
        await append(dovecot, small_mail(n), folder)
    async with CuttableProxy(dovecot.port) as proxy:
        settings = settings_for(dovecot, folder, batch_size=50, port=proxy.port, timeout_s=30)
        async with (
            SqliteStore(tmp_path / "s.sqlite3") as store,
            MailboxSource(settings, context(tmp_path)) as source,
        ):
            records, _ = await drain(source, None)
            await store.save_records(records)
            runner = runner_for(source, store)
            acks = asyncio.create_task(runner.acknowledge(records))
            async with asyncio.timeout(10):
                await proxy.stored.wait()
            proxy.cut()
            started = asyncio.get_running_loop().time()
            with pytest.raises(TransientError):
                async with asyncio.timeout(20):
                    await acks
            assert asyncio.get_running_loop().time() - started < 5, "waited on a dead connection"
            async with asyncio.timeout(20):
                await runner.ack_pending()
            assert await store.unacked(source.name) == []
        assert proxy.connections >= 2, "no fresh connection after the cut"
    flags = await flags_by_uid(dovecot, folder)
    assert [uid for uid in range(1, 51) if "$LienThong" not in flags[uid]] == []
