"""One IMAP4rev1 connection (aioimaplib) with bounded waits and the bridge's error taxonomy.

Refused connections, TLS failures, timeouts and protocol errors become TransientError; a
refused LOGIN becomes AuthError. Nothing from aioimaplib or `ssl` escapes this module.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aioimaplib
import structlog

from adapters.mailbox.settings import MailboxSettings
from bridge.errors import AuthError, PermanentError, TransientError

log = structlog.get_logger(__name__)

T = TypeVar("T")
_FETCH_START = re.compile(rb"^(\d+) FETCH \((.*)$", re.DOTALL)
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_NETWORK_ERRORS = (OSError, asyncio.TimeoutError, aioimaplib.AioImapException, EOFError)


@dataclass(frozen=True)
class FolderState:
    """What SELECT says about the folder."""

    uidvalidity: int
    uidnext: int | None
    exists: int
    permanent_flags: frozenset[str]


@dataclass
class Fetched:
    """One message from a UID FETCH answer; `body` is None when BODY[] was not asked for."""

    uid: int
    size: int | None = None
    flags: frozenset[str] = frozenset()
    body: bytes | None = None


def parse_fetch(lines: Iterable[Any]) -> list[Fetched]:
    """The messages in an aioimaplib FETCH answer (metadata lines and literal bytearrays)."""
    found: list[Fetched] = []
    meta = b""
    current: Fetched | None = None

    def finish() -> None:
        if current is None:
            return
        uid = _UID.search(meta)
        if uid is None:
            return
        current.uid = int(uid.group(1))
        size = _SIZE.search(meta)
        current.size = int(size.group(1)) if size else None
        flags = _FLAGS.search(meta)
        current.flags = frozenset(
            flags.group(1).decode("ascii", "replace").split() if flags else ()
        )
        found.append(current)

    for line in lines:
        if isinstance(line, bytearray):
            if current is not None:
                current.body = bytes(line)
            continue
        start = _FETCH_START.match(line)
        if start:
            finish()
            current, meta = Fetched(uid=0), start.group(2)
        elif current is not None:
            meta += b" " + line
    finish()
    return found


def tls_context(settings: MailboxSettings, default: Any = None) -> ssl.SSLContext:
    """The TLS context for implicit TLS or STARTTLS, from the source's own TLS keys."""
    if settings.ca_file is None and isinstance(default, ssl.SSLContext):
        return default
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.client_cert:
        context.load_cert_chain(settings.client_cert, settings.client_key)
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class ImapConnection:
    """A logged-in IMAP session on one folder. Not safe for concurrent use; callers serialize."""

    def __init__(self, settings: MailboxSettings, ssl_default: Any = None) -> None:
        self._settings = settings
        self._ssl_default = ssl_default
        self._timeout_s = settings.timeout_s
        self._client: Any = None
        self.capabilities: frozenset[str] = frozenset()
        self.folder: FolderState | None = None

    @property
    def what(self) -> str:
        return f"IMAP {self._settings.host}:{self._settings.effective_port}"

    async def _bounded(self, call: Awaitable[T], timeout_s: float | None = None) -> T:
        try:
            async with asyncio.timeout(timeout_s or self._timeout_s):
                return await call
        except _NETWORK_ERRORS as exc:
            await self.close()
            raise TransientError(
                f"{self.what}: lỗi kết nối ({type(exc).__name__}) / connection failed: {exc}"
            ) from exc

    def _expect_ok(self, response: Any, command: str) -> Any:
        if response.result != "OK":
            text = b" ".join(x for x in response.lines if isinstance(x, bytes))[-300:]
            raise TransientError(
                f"{self.what}: lệnh {command} bị từ chối / {command} refused: "
                f"{response.result} {text.decode('utf-8', 'replace')}"
            )
        return response

    async def open(self) -> None:
        """Connect, secure the channel as configured, and LOG IN. Raises AuthError, TransientError."""
        s = self._settings
        context = tls_context(s, self._ssl_default) if s.tls != "none" else None
        if s.tls == "implicit":
            self._client = aioimaplib.IMAP4_SSL(
                s.host, s.effective_port, timeout=self._timeout_s, ssl_context=context
            )
        else:
            self._client = aioimaplib.IMAP4(s.host, s.effective_port, timeout=self._timeout_s)
        await self._bounded(self._client.wait_hello_from_server())
        if s.tls == "starttls" and context is not None:
            await self._bounded(self._starttls(context))
        response = await self._bounded(
            self._client.login(s.username, s.password.get_secret_value())
        )
        if response.result != "OK":
            await self.close()
            raise AuthError(
                f"{self.what}: máy chủ từ chối đăng nhập / login refused for {s.username!r}"
            )
        self.capabilities = frozenset(self._client.protocol.capabilities)
        log.info("imap_logged_in", host=s.host, port=s.effective_port, tls=s.tls)

    async def _starttls(self, context: ssl.SSLContext) -> None:
        protocol = self._client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise TransientError(f"{self.what}: máy chủ không hỗ trợ STARTTLS / no STARTTLS")
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        self._expect_ok(await protocol.execute(command), "STARTTLS")
        loop = asyncio.get_running_loop()
        protocol.transport = await loop.start_tls(
            protocol.transport, protocol, context, server_hostname=self._settings.host
        )
        await protocol.capability()  # capabilities said before TLS must not be trusted

    async def select(self, folder: str) -> FolderState:
        """SELECT `folder` (read-write, for keywords). Raises TransientError, PermanentError."""
        response = await self._bounded(self._client.select(_quote(folder)))
        if response.result != "OK":
            raise PermanentError(
                f"{self.what}: không mở được thư mục {folder!r} / cannot select folder {folder!r}"
            )
        text = b"\n".join(x for x in response.lines if isinstance(x, bytes))
        validity = re.search(rb"\[UIDVALIDITY (\d+)\]", text)
        if validity is None:
            raise TransientError(f"{self.what}: thiếu UIDVALIDITY / no UIDVALIDITY in SELECT")
        uidnext = re.search(rb"\[UIDNEXT (\d+)\]", text)
        exists = re.search(rb"(?m)^(\d+) EXISTS", text)
        flags = re.search(rb"\[PERMANENTFLAGS \(([^)]*)\)\]", text)
        self.folder = FolderState(
            uidvalidity=int(validity.group(1)),
            uidnext=int(uidnext.group(1)) if uidnext else None,
            exists=int(exists.group(1)) if exists else 0,
            permanent_flags=frozenset(flags.group(1).decode().split() if flags else ()),
        )
        return self.folder

    async def list_after(self, last_uid: int) -> list[Fetched]:
        """UID and size of every message with a UID above `last_uid`, in UID order."""
        if self.folder is None or self.folder.exists == 0:
            return []
        response = await self._bounded(
            self._client.uid("fetch", f"{last_uid + 1}:*", "(UID RFC822.SIZE)")
        )
        self._expect_ok(response, "UID FETCH")
        # "n:*" always includes the highest UID, even below n (RFC 3501 6.4.8): filter it out.
        listed = {m.uid: m for m in parse_fetch(response.lines) if m.uid > last_uid}
        return [listed[uid] for uid in sorted(listed)]

    async def fetch_bodies(self, uids: Sequence[int], budget_s: float) -> dict[int, Fetched]:
        """BODY.PEEK[] and FLAGS of `uids` (the \\Seen flag is left alone)."""
        if not uids:
            return {}
        response = await self._bounded(
            self._client.uid("fetch", _uid_set(uids), "(UID FLAGS BODY.PEEK[])"), budget_s
        )
        self._expect_ok(response, "UID FETCH")
        return {m.uid: m for m in parse_fetch(response.lines) if m.body is not None}

    async def add_keyword(self, uid: int, keyword: str) -> None:
        response = await self._bounded(
            self._client.uid("store", str(uid), "+FLAGS.SILENT", f"({keyword})")
        )
        self._expect_ok(response, "UID STORE")

    async def move(self, uid: int, folder: str, keyword: str) -> None:
        """Move with MOVE when offered; otherwise COPY and mark, never delete."""
        if "MOVE" in self.capabilities:
            response = await self._bounded(self._client.uid("move", str(uid), _quote(folder)))
            self._expect_ok(response, "UID MOVE")
            return
        response = await self._bounded(self._client.uid("copy", str(uid), _quote(folder)))
        self._expect_ok(response, "UID COPY")
        await self.add_keyword(uid, keyword)

    async def noop(self) -> None:
        self._expect_ok(await self._bounded(self._client.noop()), "NOOP")

    async def close(self) -> None:
        """LOGOUT if still possible, then drop the socket. Never raises."""
        client, self._client = self._client, None
        self.folder = None
        if client is None:
            return
        try:
            if client.protocol.state in ("AUTH", "SELECTED", "NONAUTH"):
                async with asyncio.timeout(min(self._timeout_s, 5.0)):
                    await client.logout()
        except (*_NETWORK_ERRORS, RuntimeError):
            log.debug("imap_logout_failed", host=self._settings.host)
        finally:
            transport = client.protocol.transport
            if transport is not None:
                transport.close()

    @property
    def is_open(self) -> bool:
        client = self._client
        if client is None or client.protocol.transport is None:
            return False
        return not client.protocol.transport.is_closing()


def _quote(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _uid_set(uids: Sequence[int]) -> str:
    """Compact sequence set: [1, 2, 3, 7] → "1:3,7"."""
    ranges: list[str] = []
    ordered = sorted(set(uids))
    start = prev = ordered[0]
    for uid in [*ordered[1:], None]:
        if uid is not None and uid == prev + 1:
            prev = uid
            continue
        ranges.append(str(start) if start == prev else f"{start}:{prev}")
        if uid is not None:
            start = prev = uid
    return ",".join(ranges)
