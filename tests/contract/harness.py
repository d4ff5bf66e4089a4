"""One harness per source profile: its simulator, a source pointed at it, and what it observed.

The contract tests drive every adapter through the same questions; each harness answers them
in its profile's terms (a receipt, an ack, a ConfirmReceived, an IMAP keyword, a `.done` move).
Every simulator id returned by `seed` is the `external_id` the adapter must report for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import shutil
from pathlib import Path
from typing import Any, ClassVar

from adapters import registry
from bridge.blobs import BlobStore
from bridge.interfaces import AdapterContext, Source
from schemas import Page, RawRecord
from simulators.demo_data import SeedDocument
from simulators.folder import FolderDropper
from simulators.idesk import IdeskSim
from simulators.mailbox import ImapSim
from simulators.moffice import MofficeSim
from simulators.server import SimServer
from simulators.tdoffice import TdofficeSim
from simulators.voffice import VofficeSim
from simulators.vxp import DEFAULT_SECRET, DEFAULT_SYSTEM, VxpSim

UNIT = "000.00.33.H49"  # Ủy ban nhân dân huyện Vân Đồn, the receiving unit of every test
TIMEOUT_S = 5.0  # per HTTP read: every call in these tests answers from loopback


class SourceHarness:
    """A profile's simulator plus the settings of a source reading it for `UNIT`.

    `page_size_key` names the setting that bounds a page (None when the profile yields one
    message per page anyway). `write_calls()` are the simulator calls that change its state:
    a pull makes none of them. `acknowledges` is False for a profile without a receipt call
    (tdoffice: the stored cursor is the acknowledgement); `ack_removes` is True where an
    acknowledged record leaves the listing (a vxp pending list, a drop folder).
    """

    profile: ClassVar[str]
    has_credentials: ClassVar[bool] = True
    speaks_http: ClassVar[bool] = True
    acknowledges: ClassVar[bool] = True
    page_size_key: ClassVar[str | None] = "page_size"
    ack_removes: ClassVar[bool] = False  # an acknowledged record is never listed again

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.blobs = BlobStore(tmp_path / "blobs")
        self.sim: Any = None

    async def start(self) -> None:
        await self.sim.start()

    async def close(self) -> None:
        await self.sim.close()

    def seed(self, item: SeedDocument) -> str:
        """Render one common-schema document into the simulator; return its id there."""
        return str(self.sim.add_document(item.document, item.files, unit=UNIT))

    def settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def source(self, **overrides: Any) -> Source:
        """A NEW adapter instance, built through the registry like the daemon builds it."""
        profile = registry()[self.profile]
        assert profile.source_settings is not None and profile.make_source is not None
        values = {**self.settings(), **overrides}
        settings = profile.source_settings.model_validate(values)
        return profile.make_source(settings, AdapterContext(units=(UNIT,), blobs=self.blobs))

    def small_pages(self, size: int) -> dict[str, Any]:
        return {} if self.page_size_key is None else {self.page_size_key: size}

    def acknowledged(self) -> set[str]:
        """Simulator ids the simulator has seen acknowledged, as the profile acknowledges."""
        raise NotImplementedError

    def writes(self) -> list[str]:
        """Every state-changing call the simulator received, in order (`METHOD path`)."""
        return [
            f"{r.method} {r.path}"
            for r in self.sim.requests
            if any(r.method == m and r.path.startswith(p) for m, p in self.write_calls())
        ]

    def write_calls(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def go_down(self) -> None:
        self.sim.faults.down = True

    async def vanish(self) -> None:
        """The system is gone altogether (connection refused, folder removed)."""
        await self.sim.close()

    def wrong_credentials(self) -> dict[str, Any]:
        raise NotImplementedError

    def throttle(self, retry_after_s: int) -> None:
        self.sim.faults.throttle_rate = 1.0
        self.sim.faults.retry_after_s = retry_after_s

    def serve_junk(self) -> dict[str, Any]:
        """Make the next pull meet unreadable input; return settings the source then needs."""
        raise NotImplementedError


def _http_settings(profile: str, sim: SimServer, **values: Any) -> dict[str, Any]:
    return {
        "name": f"contract-{profile}",
        "profile": profile,
        "base_url": sim.base_url,
        "timeout_s": TIMEOUT_S,
        **values,
    }


class TdofficeHarness(SourceHarness):
    profile = "tdoffice"
    acknowledges = False  # the stored cursor is the acknowledgement: no receipt call

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = TdofficeSim(seed=5)

    def settings(self) -> dict[str, Any]:
        return _http_settings(self.profile, self.sim, api_key=self.sim.api_key)

    def acknowledged(self) -> set[str]:
        return set()

    def write_calls(self) -> list[tuple[str, str]]:
        return [("POST", "/"), ("PATCH", "/"), ("PUT", "/"), ("DELETE", "/")]

    def wrong_credentials(self) -> dict[str, Any]:
        return {"api_key": "not-the-key"}

    def serve_junk(self) -> dict[str, Any]:
        self.sim.add_junk(["not", "a", "document"], unit=UNIT)
        return {}


class MofficeHarness(SourceHarness):
    profile = "moffice"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = MofficeSim(seed=5)

    def settings(self) -> dict[str, Any]:
        return _http_settings(
            self.profile, self.sim, username=self.sim.username, password=self.sim.password
        )

    def acknowledged(self) -> set[str]:
        return {str(r.item_id) for r in self.sim.receipts if r.receiver == UNIT}

    def write_calls(self) -> list[tuple[str, str]]:
        return [("POST", "/api/v1/incoming/")]

    def wrong_credentials(self) -> dict[str, Any]:
        return {"password": "wrong-password"}

    def serve_junk(self) -> dict[str, Any]:
        self.sim.garbage_pages = 1
        return {}


class VofficeHarness(SourceHarness):
    profile = "voffice"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = VofficeSim(seed=5)

    def settings(self) -> dict[str, Any]:
        return _http_settings(
            self.profile,
            self.sim,
            client_id=self.sim.client_id,
            client_secret=self.sim.client_secret,
        )

    def acknowledged(self) -> set[str]:
        return {a.doc_id for a in self.sim.acks if a.organ == UNIT}

    def write_calls(self) -> list[tuple[str, str]]:
        return [("POST", "/api/documents/")]

    def wrong_credentials(self) -> dict[str, Any]:
        return {"client_secret": "wrong-secret"}

    def serve_junk(self) -> dict[str, Any]:
        self.sim.garbage_pages = 1
        return {}


class IdeskHarness(SourceHarness):
    profile = "idesk"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = IdeskSim(seed=5)

    def settings(self) -> dict[str, Any]:
        return _http_settings(
            self.profile, self.sim, username=self.sim.username, password=self.sim.password
        )

    def acknowledged(self) -> set[str]:
        return {doc_id for doc_id, unit in self.sim.confirmed if unit == UNIT}

    def writes(self) -> list[str]:
        # one SOAP endpoint: the operation is in the body
        return [
            f"ConfirmReceived {r.path}" for r in self.sim.requests if b"ConfirmReceived" in r.body
        ]

    def wrong_credentials(self) -> dict[str, Any]:
        return {"password": "wrong-password"}

    def serve_junk(self) -> dict[str, Any]:
        self.sim.raw_pages.append(b"<html><body>Service Unavailable</body>")
        return {}


class VxpHarness(SourceHarness):
    profile = "vxp"
    ack_removes = True
    page_size_key = None  # one page per pending message

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = VxpSim(seed=5)

    def settings(self) -> dict[str, Any]:
        return _http_settings(
            self.profile, self.sim, system_id=DEFAULT_SYSTEM, secret=DEFAULT_SECRET
        )

    def acknowledged(self) -> set[str]:
        return {doc_id for doc_id, status in self.sim.acks if status == "done"}

    def write_calls(self) -> list[tuple[str, str]]:
        return [("POST", "/updateStatus"), ("POST", "/sendEdoc")]

    def wrong_credentials(self) -> dict[str, Any]:
        return {"secret": "not-the-node-secret"}

    def serve_junk(self) -> dict[str, Any]:
        self.sim.add_raw(b"\x00\x01 this is not edXML <<<", to=[UNIT], sender="000.00.05.H49")
        return {}


class MailboxHarness(SourceHarness):
    profile = "mailbox"
    speaks_http = False
    page_size_key = "batch_size"
    keyword = "$LienThong"

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = ImapSim(seed=5)
        self.sim.subject_shape = 0  # "Số 335/UBND-VP ngày 5/3/2026 V/v ...": the whole identity

    def settings(self) -> dict[str, Any]:
        return {
            "name": "contract-mailbox",
            "profile": self.profile,
            "host": "127.0.0.1",
            "port": self.sim.port,
            "username": self.sim.username,
            "password": self.sim.password,
            "tls": "none",
            "timeout_s": TIMEOUT_S,
            "address_book": dict(self.sim.address_book),
        }

    def acknowledged(self) -> set[str]:
        parser = email.parser.BytesHeaderParser()
        return {
            str(parser.parsebytes(m.data)["Message-ID"]).strip().strip("<>")
            for m in self.sim.folders["INBOX"].messages
            if self.keyword in m.flags
        }

    def write_calls(self) -> list[tuple[str, str]]:
        return [("UID STORE", "/"), ("UID MOVE", "/"), ("UID COPY", "/"), ("STORE", "/")]

    def wrong_credentials(self) -> dict[str, Any]:
        return {"password": "wrong-password"}

    def throttle(self, retry_after_s: int) -> None:
        raise AssertionError("IMAP has no 429")

    def serve_junk(self) -> dict[str, Any]:
        # IMAP mail is always parseable; what a source cannot read is a message over its cap
        self.sim.add_raw(b"Subject: junk\r\n\r\n" + b"x" * 300_000)
        return {"max_message_bytes": 200_000}


class FolderHarness(SourceHarness):
    profile = "folder"
    has_credentials = False
    speaks_http = False
    ack_removes = True

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.inbox = tmp_path / "inbox"
        self.sim = FolderDropper(self.inbox, seed=5)
        self.sim.backdate_s = 60.0  # written a minute ago: settled for the reader

    def settings(self) -> dict[str, Any]:
        return {
            "name": "contract-folder",
            "profile": self.profile,
            "path": str(self.inbox),
            "settle_s": 0,
        }

    def acknowledged(self) -> set[str]:
        done = self.inbox / ".done"
        if not done.is_dir():
            return set()
        still_here = {p.stem for p in self.inbox.iterdir() if p.suffix == ".json"}
        return {p.stem for p in done.iterdir() if p.suffix == ".json"} - still_here

    def writes(self) -> list[str]:
        hidden = [p for p in self.inbox.iterdir() if p.name in (".done", ".rejected")]
        return [f"{p.name}/{c.name}" for p in hidden for c in p.iterdir()]

    def go_down(self) -> None:
        shutil.rmtree(self.inbox)

    async def vanish(self) -> None:
        await asyncio.to_thread(shutil.rmtree, self.inbox, True)

    def wrong_credentials(self) -> dict[str, Any]:
        raise AssertionError("a drop folder has no credentials")

    def throttle(self, retry_after_s: int) -> None:
        raise AssertionError("a drop folder has no 429")

    def serve_junk(self) -> dict[str, Any]:
        self.sim.add_raw("VB20260101_junk.json", b'{"codeNumber": "12", "subject": ')
        return {}

    async def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            await self.sim.close()


SOURCE_HARNESSES: dict[str, type[SourceHarness]] = {
    h.profile: h
    for h in (
        TdofficeHarness,
        FolderHarness,
        MofficeHarness,
        IdeskHarness,
        VofficeHarness,
        VxpHarness,
        MailboxHarness,
    )
}


async def drain(
    source: Source, cursor: str | None = None, *, timeout_s: float = 20.0
) -> tuple[list[RawRecord], str | None]:
    """Every record of one pull until caught up, and the last cursor a page carried."""
    records: list[RawRecord] = []
    async with asyncio.timeout(timeout_s):
        async for page in source.pull(cursor):
            assert isinstance(page, Page)
            records.extend(page.records)
            if page.cursor is not None:
                cursor = page.cursor
    return records, cursor


async def first_page(source: Source, cursor: str | None = None) -> Page:
    """The first page of a pull; the pull is then abandoned, as a crash would abandon it."""
    async with asyncio.timeout(20.0):
        pages: Any = source.pull(cursor)
        async with contextlib.aclosing(pages):
            page = await anext(pages)
    assert isinstance(page, Page)
    return page
