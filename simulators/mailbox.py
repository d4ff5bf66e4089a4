"""`ImapSim`: a small IMAP4rev1 server on loopback for `lienthong demo` and the adapter's tests.

It speaks the subset the mailbox source uses (CAPABILITY, LOGIN, SELECT/EXAMINE with
UIDVALIDITY and UIDNEXT, UID FETCH of UID/FLAGS/RFC822.SIZE/BODY.PEEK[], UID STORE, NOOP,
LOGOUT), records every command as a `RecordedRequest` (method = command, path = "/" + folder,
body = arguments, with the LOGIN password blanked), and renders common-schema documents as the
official mails the profile describes, in its four subject shapes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import structlog

from schemas import Document
from simulators.server import RecordedRequest, SimServer

log = structlog.get_logger(__name__)

_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\((?:[^()]|\([^()]*\))*\))|(\S+)')
CAPABILITIES = b"IMAP4rev1 LITERAL+ UIDPLUS AUTH=PLAIN"
DEMO_PASSWORD = "secret"  # noqa: S105 - the demo simulator's published test account


@dataclass
class SimMessage:
    uid: int
    data: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class SimFolder:
    uidvalidity: int
    uidnext: int = 1
    messages: list[SimMessage] = field(default_factory=list)


class ImapSim(SimServer):
    """Knobs: `faults.down` (greets with BYE), `refuse_login`, `subject_shape` (0-3 or None for
    a seeded choice), `renumber(folder)` (a new UIDVALIDITY, as after a server migration)."""

    profile = "mailbox"

    def __init__(
        self, *, seed: int = 0, username: str = "vanthu", password: str = DEMO_PASSWORD
    ) -> None:
        super().__init__(seed=seed)
        self.username = username
        self.password = password
        self.refuse_login = False
        self.subject_shape: int | None = None
        self.folders: dict[str, SimFolder] = {"INBOX": SimFolder(uidvalidity=1_000 + seed)}
        self.address_book: dict[str, str] = {}
        self.host = ""
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # -- content ---------------------------------------------------------------------------

    def add_raw(self, eml: bytes, *, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> int:
        """Deliver one message as is; returns its UID."""
        box = self.folders.setdefault(folder, SimFolder(uidvalidity=2_000 + len(self.folders)))
        message = SimMessage(
            uid=box.uidnext, data=eml.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        )
        message.flags.update(flags)
        box.messages.append(message)
        box.uidnext += 1
        return message.uid

    def add_document(self, doc: Document, files: dict[str, bytes], *, unit: str) -> str:
        """Mail `doc` to the unit's official box as its sender's clerk would; returns the
        Message-ID (without brackets). The sender's address joins `address_book`."""
        code = doc.issuer.code or "000.00.00.X00"
        sender = f"vanthu.{code.replace('.', '-').lower()}@lienthong.gov.vn"
        if doc.issuer.code:
            self.address_book[sender] = doc.issuer.code
        msg = EmailMessage()
        msg["From"] = f"Văn thư {doc.issuer.name or code} <{sender}>"
        msg["To"] = f"vanthu.{unit.replace('.', '-').lower()}@lienthong.gov.vn"
        msg["Subject"] = self._subject(doc)
        msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        message_id = make_msgid(domain="lienthong.gov.vn")
        msg["Message-ID"] = message_id
        msg.set_content(self._body(doc))
        for name, data in files.items():
            msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
        if self.rng.random() < 0.5:  # an e-signature image, as clerks' mail clients add
            msg.add_attachment(
                b"\x89PNG\r\n\x1a\n",
                maintype="image",
                subtype="png",
                filename="chuky.png",
                disposition="inline",
            )
        self.add_raw(bytes(msg))
        return message_id.strip("<>")

    def _subject(self, doc: Document) -> str:
        shape = self.subject_shape if self.subject_shape is not None else self.rng.randrange(4)
        date = (
            f"{doc.issued_on.day}/{doc.issued_on.month}/{doc.issued_on.year}"
            if doc.issued_on
            else ""
        )
        if shape == 0:
            return f"Số {doc.symbol} ngày {date} {doc.subject}"
        if shape == 1:
            return f"{doc.symbol} - {doc.subject}"
        if shape == 2:
            return f"[Văn bản đến] CV {doc.symbol} ({date})"
        return "Gửi văn bản"

    @staticmethod
    def _body(doc: Document) -> str:
        date = doc.issued_on.strftime("%d/%m/%Y") if doc.issued_on else ""
        kind = (doc.type_name or "văn bản").lower()
        about = doc.subject.removeprefix("V/v ").removeprefix("V/V ")
        return (
            f"Kính gửi: đơn vị nhận\n\n{doc.issuer.name or ''} gửi {kind} số {doc.symbol} "
            f"ngày {date} về việc {about}.\n\nTrân trọng./.\n"
        )

    def renumber(self, folder: str = "INBOX") -> int:
        """Give `folder` a new UIDVALIDITY and new UIDs; returns the new UIDVALIDITY."""
        box = self.folders[folder]
        box.uidvalidity += 1_000
        for index, message in enumerate(box.messages, start=1):
            message.uid = index * 10
        box.uidnext = len(box.messages) * 10 + 10
        return box.uidvalidity

    def flags_of(self, uid: int, folder: str = "INBOX") -> set[str]:
        return next(m.flags for m in self.folders[folder].messages if m.uid == uid)

    # -- server ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.host, self.port = host, self._server.sockets[0].getsockname()[1]
        self.base_url = f"imap://{host}:{self.port}"
        return self.base_url

    async def close(self) -> None:
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        session = _Session(self, writer)
        try:
            if self.faults.down:
                writer.write(b"* BYE service unavailable\r\n")
                return
            writer.write(
                b"* OK [CAPABILITY " + CAPABILITIES + b"] lienthong IMAP simulator ready\r\n"
            )
            while not session.done:
                line = await asyncio.wait_for(reader.readline(), timeout=300)
                if not line:
                    break
                await session.handle(line.rstrip(b"\r\n"))
                await writer.drain()
        except (ConnectionError, TimeoutError):
            log.debug("imap_sim_client_gone")
        finally:
            self._writers.discard(writer)
            writer.close()


def _token(match: re.Match[bytes]) -> bytes:
    quoted = match.group(1)
    if quoted is not None:
        return re.sub(rb"\\(.)", rb"\1", quoted)
    return match.group(2) or match.group(3) or b""


class _Session:
    """One client connection's state and command handlers."""

    def __init__(self, sim: ImapSim, writer: asyncio.StreamWriter) -> None:
        self.sim = sim
        self.writer = writer
        self.user: str | None = None
        self.folder: SimFolder | None = None
        self.folder_name = ""
        self.done = False

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def handle(self, line: bytes) -> None:
        parts = [_token(m) for m in _TOKEN.finditer(line)]
        if len(parts) < 2:
            self.send(b"* BAD empty command\r\n")
            return
        tag, name, args = parts[0], parts[1].upper(), parts[2:]
        if name == b"UID" and args:
            name, args = b"UID " + args[0].upper(), args[1:]
        shown = [b"********" if name == b"LOGIN" and i == 1 else a for i, a in enumerate(args)]
        self.sim.requests.append(
            RecordedRequest(name.decode(), "/" + self.folder_name, {}, {}, b" ".join(shown))
        )
        handler = getattr(self, "cmd_" + name.decode().lower().replace(" ", "_"), None)
        if handler is None:
            self.send(tag + b" BAD unknown command\r\n")
            return
        self.send(tag + b" " + handler(args) + b"\r\n")

    def cmd_capability(self, args: list[bytes]) -> bytes:
        self.send(b"* CAPABILITY " + CAPABILITIES + b"\r\n")
        return b"OK CAPABILITY completed"

    def cmd_noop(self, args: list[bytes]) -> bytes:
        return b"OK NOOP completed"

    def cmd_logout(self, args: list[bytes]) -> bytes:
        self.send(b"* BYE logging out\r\n")
        self.done = True
        return b"OK LOGOUT completed"

    def cmd_login(self, args: list[bytes]) -> bytes:
        user, password = [*args, b"", b""][:2]
        if self.sim.refuse_login or (user.decode(), password.decode()) != (
            self.sim.username,
            self.sim.password,
        ):
            return b"NO [AUTHENTICATIONFAILED] Authentication failed."
        self.user = user.decode()
        return b"OK [CAPABILITY " + CAPABILITIES + b"] Logged in"

    def cmd_select(self, args: list[bytes]) -> bytes:
        if self.user is None or not args:
            return b"BAD not logged in or no folder"
        name = args[0].decode()
        box = self.sim.folders.get("INBOX" if name.upper() == "INBOX" else name)
        if box is None:
            return b"NO [NONEXISTENT] no such folder"
        self.folder, self.folder_name = box, name
        self.send(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n")
        self.send(b"* OK [PERMANENTFLAGS (\\Seen \\Flagged \\*)] Flags permitted.\r\n")
        self.send(b"* %d EXISTS\r\n* 0 RECENT\r\n" % len(box.messages))
        self.send(b"* OK [UIDVALIDITY %d] UIDs valid\r\n" % box.uidvalidity)
        self.send(b"* OK [UIDNEXT %d] Predicted next UID\r\n" % box.uidnext)
        return b"OK [READ-WRITE] SELECT completed"

    cmd_examine = cmd_select

    def _matching(self, uid_set: bytes) -> list[tuple[int, SimMessage]]:
        assert self.folder is not None
        messages = self.folder.messages
        top = messages[-1].uid if messages else 0
        wanted: list[tuple[int, int]] = []
        for piece in uid_set.decode().split(","):
            low, _, high = piece.partition(":")
            a = top if low == "*" else int(low)
            b = a if not high else (top if high == "*" else int(high))
            wanted.append((min(a, b), max(a, b)))
        return [
            (seq, m)
            for seq, m in enumerate(messages, start=1)
            if any(lo <= m.uid <= hi for lo, hi in wanted)
        ]

    def cmd_uid_fetch(self, args: list[bytes]) -> bytes:
        if self.folder is None or len(args) < 2:
            return b"BAD no folder selected"
        items = args[1].upper()
        for seq, message in self._matching(args[0]):
            fields = [b"UID %d" % message.uid]
            if b"RFC822.SIZE" in items:
                fields.append(b"RFC822.SIZE %d" % len(message.data))
            if b"FLAGS" in items:
                fields.append(b"FLAGS (" + " ".join(sorted(message.flags)).encode() + b")")
            if b"BODY" in items:
                fields.append(b"BODY[] {%d}\r\n" % len(message.data) + message.data)
                if b"PEEK" not in items:
                    message.flags.add("\\Seen")
            self.send(b"* %d FETCH (" % seq + b" ".join(fields) + b")\r\n")
        return b"OK UID FETCH completed"

    def cmd_uid_store(self, args: list[bytes]) -> bytes:
        if self.folder is None or len(args) < 3:
            return b"BAD no folder selected"
        mode, flags = args[1].upper(), set(args[2].strip(b"()").decode().split())
        for seq, message in self._matching(args[0]):
            if mode.startswith(b"+"):
                message.flags |= flags
            elif mode.startswith(b"-"):
                message.flags -= flags
            else:
                message.flags = set(flags)
            if not mode.endswith(b".SILENT"):
                shown = " ".join(sorted(message.flags)).encode()
                self.send(b"* %d FETCH (UID %d FLAGS (%s))\r\n" % (seq, message.uid, shown))
        return b"OK UID STORE completed"


def make_simulator(seed: int) -> ImapSim:
    return ImapSim(seed=seed)
