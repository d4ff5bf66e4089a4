"""The `mailbox` source: reads new messages of an IMAP folder, stores their document files,
and marks each stored message with a keyword (or moves it). Mail is never deleted.

Cursor (JSON): `{"uidvalidity": V, "uid": U}`, the last UID of the last page yielded. When the
folder's UIDVALIDITY differs from V, every message is read again; deduplication downstream
recognises the records (same Message-ID and content hash).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog

from adapters._records import stored_file
from adapters._session import AsyncResource
from adapters.mailbox.imap import Fetched, FolderState, ImapConnection
from adapters.mailbox.mapping import media_type_for, message_key
from adapters.mailbox.parse import read_mail
from adapters.mailbox.settings import MailboxSettings
from bridge.errors import PermanentError, TransientError
from bridge.interfaces import AdapterContext
from bridge.normalize import VN_TZ
from schemas import Attachment, Page, RawRecord

log = structlog.get_logger(__name__)

RECONNECT_BASE_S = 0.5  # first wait before a fresh connection after one failed or dropped
RECONNECT_MAX_S = 15.0


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int | None = None
    uid: int = 0

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        """An unreadable cursor starts over: re-reading is safe, skipping mail is not."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(uidvalidity=int(data["uidvalidity"]), uid=int(data["uid"]))
        except (ValueError, KeyError, TypeError):
            log.warning("mailbox_cursor_unreadable")
            return cls()

    def dump(self) -> str:
        return json.dumps({"uidvalidity": self.uidvalidity, "uid": self.uid})


class MailboxSource(AsyncResource):
    """A `Source` over one IMAP folder. Use as an async context manager.

    The one connection is used by one step at a time (`_turn`): a pull's listing, a batch's
    fetch, or one `UID STORE` (or MOVE) for every acknowledgement waiting at that moment,
    however many the pipeline sends at once. A connection that failed or dropped is replaced
    by a fresh one (a new LOGIN) after a backoff that grows while reconnecting fails.
    """

    def __init__(self, settings: MailboxSettings, ctx: AdapterContext) -> None:
        self.name = settings.name
        self.settings = settings
        self.ctx = ctx
        self._imap = ImapConnection(settings, ctx.ssl)
        limit = ctx.limits.max_page_bytes
        self._max_message_bytes = settings.max_message_bytes or limit
        self._turn = asyncio.Lock()
        self._marks: list[tuple[int, int, asyncio.Future[None]]] = []  # (uidvalidity, uid, done)
        self._reconnect_s = 0.0  # wait before the next fresh connection
        self._was_open = False

    async def _release(self) -> None:
        await self._imap.close()

    async def _folder(self, reselect: bool) -> FolderState:
        """The selected folder, on a fresh connection if the last one is gone. The caller
        holds `_turn`."""
        if not self._imap.is_open:
            await self._reconnect()
            reselect = True
        if reselect or self._imap.folder is None:
            return await self._imap.select(self.settings.folder)
        return self._imap.folder

    async def _reconnect(self) -> None:
        """Open a fresh connection (a new LOGIN), first waiting out the backoff when the
        previous connection dropped or the last try failed."""
        if self._was_open and self._reconnect_s == 0.0:
            self._reconnect_s = RECONNECT_BASE_S  # the connection we had is gone
        if self._reconnect_s > 0.0:
            wait_s = random.uniform(self._reconnect_s / 2, self._reconnect_s)
            log.info("imap_reconnecting", source=self.name, wait_s=round(wait_s, 2))
            await asyncio.sleep(wait_s)
        try:
            await self._imap.open()
        except TransientError:
            self._reconnect_s = min(RECONNECT_MAX_S, max(RECONNECT_BASE_S, self._reconnect_s * 2))
            raise
        self._reconnect_s, self._was_open = 0.0, True

    async def check(self) -> None:
        """Log in and open the folder. Raises AuthError, TransientError, PermanentError."""
        async with self._turn:
            await self._folder(reselect=True)
            await self._imap.noop()

    async def pull(self, cursor: str | None) -> AsyncIterator[Page]:
        """Pages of new messages, oldest first, each page's cursor naming its last UID."""
        state = Cursor.load(cursor)
        async with self._turn:
            folder = await self._folder(reselect=True)
            pending = await self._listing(state, folder)
        last = state.uid if state.uidvalidity == folder.uidvalidity else 0
        if not pending and state.uidvalidity != folder.uidvalidity:
            yield Page(records=(), cursor=Cursor(folder.uidvalidity, last).dump())
        for batch in self._batches(pending):
            async with self._turn:
                if (await self._folder(reselect=False)).uidvalidity != folder.uidvalidity:
                    raise TransientError(
                        f"{self._imap.what}: UIDVALIDITY đổi giữa chừng / changed mid-pull"
                    )
                records = await self._read_batch(batch, folder.uidvalidity)
            yield Page(
                records=tuple(records), cursor=Cursor(folder.uidvalidity, batch[-1].uid).dump()
            )

    async def _listing(self, state: Cursor, folder: FolderState) -> list[Fetched]:
        """The messages after the cursor (all of them when the folder was renumbered)."""
        last = state.uid
        if state.uidvalidity is not None and state.uidvalidity != folder.uidvalidity:
            log.warning(
                "mailbox_uidvalidity_changed",
                source=self.name,
                was=state.uidvalidity,
                now=folder.uidvalidity,
            )
            last = 0
        return await self._imap.list_after(last)

    def _batches(self, pending: list[Fetched]) -> list[list[Fetched]]:
        """At most `batch_size` messages and about `max_page_bytes` per batch."""
        batches: list[list[Fetched]] = []
        current: list[Fetched] = []
        size = 0
        for message in pending:
            message_size = min(message.size or 0, self._max_message_bytes)
            full = len(current) >= self.settings.batch_size
            if current and (full or size + message_size > self.ctx.limits.max_page_bytes):
                batches.append(current)
                current, size = [], 0
            current.append(message)
            size += message_size
        if current:
            batches.append(current)
        return batches

    async def _read_batch(self, batch: list[Fetched], uidvalidity: int) -> list[RawRecord]:
        wanted = [m.uid for m in batch if (m.size or 0) <= self._max_message_bytes]
        budget_s = self.settings.timeout_s * 4
        bodies = await self._imap.fetch_bodies(wanted, budget_s)
        records: list[RawRecord] = []
        for message in batch:
            fetched = bodies.get(message.uid)
            if message.uid not in wanted:
                records.append(self._too_large(message, uidvalidity))
            elif fetched is None or fetched.body is None:
                log.info("mailbox_message_gone", source=self.name, uid=message.uid)
            else:
                records.append(await self._record(message.uid, fetched.body, uidvalidity))
        return records

    def _too_large(self, message: Fetched, uidvalidity: int) -> RawRecord:
        reason = (
            f"thư quá lớn ({message.size} byte > {self._max_message_bytes}) / "
            f"message larger than {self._max_message_bytes} bytes"
        )
        log.warning(
            "mailbox_message_too_large", source=self.name, uid=message.uid, bytes=message.size
        )
        return self._raw(
            f"uid:{uidvalidity}:{message.uid}", "0", b"", uidvalidity, message.uid, error=reason
        )

    async def _record(self, uid: int, body: bytes, uidvalidity: int) -> RawRecord:
        mail = read_mail(body)
        external_id, version = message_key(body, mail.message_id)
        entry = self.settings.address_book.get(mail.sender_address or "")
        if entry is None:
            log.info("mailbox_sender_unknown", source=self.name, uid=uid)
        stored: list[Attachment] = []
        try:
            for file in mail.files:
                blob = await self.ctx.blobs.put_bytes(
                    file.data, max_bytes=self.ctx.limits.max_inline_attachment_bytes
                )
                stored.append(stored_file(file.name, file.content_type, blob))
        except PermanentError as exc:
            return self._raw(external_id, version, body, uidvalidity, uid, error=exc.reason)
        log.info("mailbox_message_read", source=self.name, uid=uid, files=len(stored))
        return self._raw(
            external_id,
            version,
            body,
            uidvalidity,
            uid,
            media_type=media_type_for(entry),
            attachments=tuple(stored),
        )

    def _raw(
        self,
        external_id: str,
        version: str,
        payload: bytes,
        uidvalidity: int,
        uid: int,
        *,
        error: str | None = None,
        media_type: str = "message/rfc822",
        attachments: tuple[Attachment, ...] = (),
    ) -> RawRecord:
        return RawRecord(
            source=self.name,
            unit=self.ctx.units[0] if self.ctx.units else "",
            external_id=external_id,
            version=version,
            media_type=media_type,
            payload=payload,
            attachments=attachments,
            ack=f"{uidvalidity}:{uid}",
            error=error,
            received_at=dt.datetime.now(VN_TZ),
        )

    async def acknowledge(self, record: RawRecord) -> None:
        """Add the keyword to the stored message (or move it). Idempotent.

        Acknowledgements that arrive together wait for one turn on the connection and go out
        as one `UID STORE` (or MOVE) for all their UIDs; each caller gets that command's
        outcome. A message whose folder was renumbered since (UIDVALIDITY changed) is left as
        it is: its old UID may name another message now, and the re-read brings it back
        anyway. Raises TransientError, AuthError.
        """
        if record.ack is None:
            return
        uidvalidity, _, uid_text = record.ack.partition(":")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((int(uidvalidity), int(uid_text), done))
        try:
            async with self._turn:
                if not done.done():
                    await self._mark_waiting()
        finally:
            if done.done() and not done.cancelled():
                done.exception()  # the same outcome is raised here or below, never lost
        await done

    async def _mark_waiting(self) -> None:
        """Mark every message whose acknowledgement is waiting, with one command. The caller
        holds `_turn`; every waiter is settled, whatever happens."""
        marks, self._marks = self._marks, []
        failure: BaseException | None = None
        try:
            folder = await self._folder(reselect=False)
            uids = [uid for validity, uid, _ in marks if validity == folder.uidvalidity]
            if len(uids) < len(marks):
                log.warning(
                    "mailbox_ack_skipped",
                    source=self.name,
                    reason="uidvalidity_changed",
                    count=len(marks) - len(uids),
                )
            if self.settings.move_to:
                await self._imap.move(uids, self.settings.move_to, self.settings.keyword)
            else:
                await self._imap.add_keyword(uids, self.settings.keyword)
            log.debug("mailbox_acknowledged", source=self.name, count=len(uids))
        except BaseException as exc:
            failure = exc
            raise
        finally:
            for _, _, waiter in marks:
                if waiter.done():
                    continue
                if failure is None:
                    waiter.set_result(None)
                elif isinstance(failure, Exception):
                    waiter.set_exception(failure)
                else:  # the caller was cancelled: the others try again later
                    waiter.set_exception(
                        TransientError("xác nhận bị ngắt / acknowledgement interrupted")
                    )
