"""One IMAP4rev1 connection (aioimaplib) with bounded waits and the bridge's error taxonomy.

IMAP is one conversation: the connection sends one command at a time (a lock), whoever
calls. A dropped connection or a protocol abort fails the command under way at once (it is
not left to its timeout) and closes the connection; the next use opens a fresh one and logs
in again. Refused connections, TLS failures, timeouts and protocol errors become
TransientError; a refused LOGIN becomes AuthError. Nothing from aioimaplib or `ssl` escapes
this module.
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
LOGOUT_S = 2.0  # a polite LOGOUT at close waits no longer: shutdown has a grace period
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


def _read_late_outcome(command: asyncio.Future[Any]) -> None:
    """The end of a command abandoned midway, read so that no failure goes unreported."""
    if not command.cancelled() and command.exception() is not None:
        log.debug("imap_abandoned_command_failed", error=repr(command.exception()))


class ImapConnection:
    """A logged-in IMAP session on one folder. Concurrent callers take turns: each command
    (and the whole of `open`) holds the connection's lock."""

    def __init__(self, settings: MailboxSettings, ssl_default: Any = None) -> None:
        self._settings = settings
        self._ssl_default = ssl_default
        self._timeout_s = settings.timeout_s
        self._client: Any = None
        self._lock = asyncio.Lock()
        self._lost = asyncio.Event()  # set when the open connection drops or aborts
        self.capabilities: frozenset[str] = frozenset()
        self.folder: FolderState | None = None

    @property
    def what(self) -> str:
        return f"IMAP {self._settings.host}:{self._settings.effective_port}"

    async def _bounded(self, call: Awaitable[T], timeout_s: float | None = None) -> T:
        """`call` within the timeout; a network error, a timeout or the connection dropping
        meanwhile aborts the connection and raises TransientError at once."""
        command = asyncio.ensure_future(call)
        dropped = asyncio.ensure_future(self._lost.wait())
        try:
            async with asyncio.timeout(timeout_s or self._timeout_s):
                await asyncio.wait((command, dropped), return_when=asyncio.FIRST_COMPLETED)
            if not command.done():
                raise ConnectionAbortedError("connection lost")
            return command.result()
        except _NETWORK_ERRORS as exc:
            self._abort()
            raise TransientError(
                f"{self.what}: lỗi kết nối ({type(exc).__name__}) / connection failed: {exc}"
            ) from exc
        finally:
            dropped.cancel()
            if not command.done():
                # A command left midway (timed out, or the caller cancelled at shutdown)
                # leaves the conversation in an unknown state: drop the connection, so that
                # nothing waits on it again, LOGOUT at close included.
                command.cancel()
                self._abort()
                await asyncio.wait((command,), timeout=1.0)  # let it unwind, never hang on it
                command.add_done_callback(_read_late_outcome)  # whatever it ends with is logged

    def _abort(self) -> None:
        """Drop the connection now, without LOGOUT (it is broken, or a command hangs on it)."""
        client, self._client = self._client, None
        self.folder = None
        if client is not None and client.protocol.transport is not None:
            client.protocol.transport.close()

    def _expect_ok(self, response: Any, command: str) -> Any:
        if response.result != "OK":
            text = b" ".join(x for x in response.lines if isinstance(x, bytes))[-300:]
            raise TransientError(
                f"{self.what}: lệnh {command} bị từ chối / {command} refused: "
                f"{response.result} {text.decode('utf-8', 'replace')}"
            )
        return response

    async def open(self) -> None:
        """Connect, secure the channel as configured, and LOG IN (a fresh connection, the old
        one dropped). Raises AuthError, TransientError."""
        async with self._lock:
            self._abort()
            await self._open()

    async def _open(self) -> None:
        s = self._settings
        context = tls_context(s, self._ssl_default) if s.tls != "none" else None
        lost = self._lost = asyncio.Event()  # this connection's own: an old one may drop late

        def on_lost(exc: Exception | None) -> None:
            reason = type(exc).__name__ if exc is not None else "closed"
            log.info("imap_connection_lost", host=s.host, reason=reason)
            lost.set()

        # IMAP4 with a context is implicit TLS (IMAP4_SSL only adds a default context and
        # does not pass on the connection-lost callback)
        self._client = aioimaplib.IMAP4(
            s.host,
            s.effective_port,
            timeout=self._timeout_s,
            conn_lost_cb=on_lost,
            ssl_context=context if s.tls == "implicit" else None,
        )
        await self._bounded(self._client.wait_hello_from_server())
        if s.tls == "starttls" and context is not None:
            await self._bounded(self._starttls(context))
        response = await self._bounded(
            self._client.login(s.username, s.password.get_secret_value())
        )
        if response.result != "OK":
            self._abort()
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
        async with self._lock:
            response = await self._bounded(self._live().select(_quote(folder)))
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
        async with self._lock:
            response = await self._bounded(
                self._live().uid("fetch", f"{last_uid + 1}:*", "(UID RFC822.SIZE)")
            )
        self._expect_ok(response, "UID FETCH")
        # "n:*" always includes the highest UID, even below n (RFC 3501 6.4.8): filter it out.
        listed = {m.uid: m for m in parse_fetch(response.lines) if m.uid > last_uid}
        return [listed[uid] for uid in sorted(listed)]

    async def fetch_bodies(self, uids: Sequence[int], budget_s: float) -> dict[int, Fetched]:
        """BODY.PEEK[] and FLAGS of `uids` (the \\Seen flag is left alone)."""
        if not uids:
            return {}
        async with self._lock:
            response = await self._bounded(
                self._live().uid("fetch", _uid_set(uids), "(UID FLAGS BODY.PEEK[])"), budget_s
            )
        self._expect_ok(response, "UID FETCH")
        return {m.uid: m for m in parse_fetch(response.lines) if m.body is not None}

    async def add_keyword(self, uids: Sequence[int], keyword: str) -> None:
        """Add `keyword` to every message of `uids` with one `UID STORE`."""
        if uids:
            await self._command(
                "UID STORE", "store", _uid_set(uids), "+FLAGS.SILENT", f"({keyword})"
            )

    async def move(self, uids: Sequence[int], folder: str, keyword: str) -> None:
        """Move `uids` with one MOVE when offered; otherwise COPY and mark, never delete."""
        if not uids:
            return
        if "MOVE" in self.capabilities:
            await self._command("UID MOVE", "move", _uid_set(uids), _quote(folder))
            return
        await self._command("UID COPY", "copy", _uid_set(uids), _quote(folder))
        await self.add_keyword(uids, keyword)

    async def _command(self, name: str, *args: str) -> None:
        async with self._lock:
            self._expect_ok(await self._bounded(self._live().uid(*args)), name)

    async def noop(self) -> None:
        async with self._lock:
            self._expect_ok(await self._bounded(self._live().noop()), "NOOP")

    def _live(self) -> Any:
        """The open client. Raises TransientError when the connection was dropped."""
        if self._client is None:
            raise TransientError(f"{self.what}: kết nối đã đóng / connection closed")
        return self._client

    async def close(self) -> None:
        """LOGOUT if still possible, then drop the socket. Never raises, never waits on a
        command under way: that one is failed at once (the connection is dropped)."""
        if self._lock.locked():
            self._abort()
            return
        async with self._lock:
            await self._logout()

    async def _logout(self) -> None:
        client, self._client = self._client, None
        self.folder = None
        if client is None:
            return
        try:
            if client.protocol.state in ("AUTH", "SELECTED", "NONAUTH"):
                async with asyncio.timeout(min(self._timeout_s, LOGOUT_S)):
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
