"""The living part of `lienthong demo`: after the first batch, a new document every few seconds
on a random road (one in four by two roads), and among them each case the operations guide
deals with: a secret document (Mật, held), an unreadable record (quarantined with its reason),
a document the home system refuses for good (a dead letter), a revision and a revocation of a
known document, and a near miss held for review (a mail naming no number whose file two
documents share)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import structlog

from schemas import Confidentiality
from simulators.demo_data import SeedDocument
from simulators.tdoffice import JsonObject, TdofficeSim, require_number_and_subject

log = structlog.get_logger(__name__)

REFUSED_MARK = "(bản có tệp bị hỏng)"  # the home system refuses a document so marked, for good
INTERVAL_S = 3.0


def refusing(mark: str = REFUSED_MARK) -> Callable[[JsonObject], list[JsonObject]]:
    """A home-system validator refusing, for good (422), documents whose subject has `mark`."""

    def validate(body: JsonObject) -> list[JsonObject]:
        errors = require_number_and_subject(body)
        if mark in str(body.get("subject", "")):
            errors.append(
                {"field": "attachments", "message": "tệp đính kèm bị hỏng / attachment damaged"}
            )
        return errors

    return validate


@dataclass
class Trickle:
    """Feeds the simulators of each unit (`roads`: unit → [(profile, simulator)]) from `seeds`,
    one event every `interval_s` seconds; the special cases come first, then new documents."""

    roads: dict[str, list[tuple[str, Any]]]
    seeds: list[SeedDocument]
    interval_s: float = INTERVAL_S
    rng: random.Random = field(default_factory=lambda: random.Random(2026))
    _known: list[tuple[TdofficeSim, str]] = field(default_factory=list)
    _mail: tuple[str, str, bytes] | None = None  # the near miss's file, mailed once both are stored

    async def run(self) -> None:
        for event, seed in self._events():
            await asyncio.sleep(self.interval_s)
            try:
                event(seed)
            except Exception:  # a broken case must not stop the demo living
                log.exception("demo_event_failed", event=event.__name__)

    def _events(self) -> Iterator[tuple[Callable[[SeedDocument], None], SeedDocument]]:
        """Two documents by tdoffice (to revise and revoke later), then each special case
        between new documents, then new documents until the seeds run out."""
        seeds = iter(self.seeds)
        specials = (self.secret, self.unreadable, self.refused, self.revision, self.near_miss,
                    self.revocation, self.unnumbered_mail)  # fmt: skip
        for _ in range(2):
            yield self.known, next(seeds)
        for special in specials:
            yield special, next(seeds)
            yield self.new, next(seeds)
        for seed in seeds:
            yield self.new, seed

    def _tdoffice(self, unit: str) -> TdofficeSim:
        sim: TdofficeSim = next(sim for road, sim in self.roads[unit] if road == "tdoffice")
        return sim

    def known(self, seed: SeedDocument) -> None:
        """A new document by tdoffice, remembered for a later revision or revocation."""
        sim = self._tdoffice(seed.unit)
        self._known.append((sim, sim.add_document(seed.document, seed.files, unit=seed.unit)))
        log.info("demo_document", unit=seed.unit, road="tdoffice", symbol=seed.document.symbol)

    def new(self, seed: SeedDocument) -> None:
        """A new document on a random road of its unit, one in four by a second road too."""
        roads = self.rng.sample(self.roads[seed.unit], 2 if self.rng.random() < 0.25 else 1)
        for _road, sim in roads:
            sim.add_document(seed.document, seed.files, unit=seed.unit)
        log.info("demo_document", unit=seed.unit, roads=[r for r, _ in roads])

    def secret(self, seed: SeedDocument) -> None:
        """A document marked Mật: held (quarantined as secret), never sent on."""
        doc = seed.document.model_copy(update={"confidentiality": Confidentiality.MAT})
        self._tdoffice(seed.unit).add_document(doc, seed.files, unit=seed.unit)
        log.info("demo_secret", unit=seed.unit)

    def unreadable(self, seed: SeedDocument) -> None:
        """A record no reader can use: quarantined with the reason."""
        self._tdoffice(seed.unit).add_junk({"ghiChu": "không phải văn bản"}, unit=seed.unit)
        log.info("demo_unreadable", unit=seed.unit)

    def refused(self, seed: SeedDocument) -> None:
        """A document the home system refuses for good: it becomes a dead letter."""
        subject = f"{seed.document.subject} {REFUSED_MARK}"
        doc = seed.document.model_copy(update={"subject": subject})
        self._tdoffice(seed.unit).add_document(doc, seed.files, unit=seed.unit)
        log.info("demo_refused", unit=seed.unit)

    def revision(self, seed: SeedDocument) -> None:
        """A later version of a known document (its subject corrected)."""
        sim, document_id = self._known[0]
        subject = str(sim.documents[document_id]["subject"])
        sim.update_document(document_id, subject=f"{subject} (sửa đổi, bổ sung)")
        self.new(seed)
        log.info("demo_revision", document=document_id)

    def revocation(self, seed: SeedDocument) -> None:
        """A known document revoked by its sender."""
        sim, document_id = self._known[1]
        sim.revoke(document_id)
        self.new(seed)
        log.info("demo_revocation", document=document_id)

    def near_miss(self, seed: SeedDocument) -> None:
        """Two documents of one issuer that share their file (`unnumbered_mail` mails it
        later, naming no number: alike both, the same as neither for sure, so held)."""
        doc, files = seed.document, seed.files
        name, data = next(iter(files.items()))
        shared = tuple(a for a in doc.attachments if a.name == name)
        twin = doc.model_copy(update={"number": str(int(doc.number or "0") + 1000)})
        sim = self._tdoffice(seed.unit)
        for one in (doc, twin):
            sim.add_document(one.model_copy(update={"attachments": shared}), {name: data},
                             unit=seed.unit)  # fmt: skip
        self._mail = (seed.unit, name, data)
        log.info("demo_near_miss", unit=seed.unit, symbols=[doc.symbol, twin.symbol])

    def unnumbered_mail(self, seed: SeedDocument) -> None:
        """The near miss's file by mail, without its number or date: held for review."""
        unit = self._mail[0] if self._mail is not None else seed.unit
        mailbox = next((s for road, s in self.roads[unit] if road == "mailbox"), None)
        if mailbox is None or self._mail is None:
            self.new(seed)
            return
        mailbox.add_raw(_unnumbered_mail(*self._mail))
        log.info("demo_unnumbered_mail", unit=unit)


def _unnumbered_mail(unit: str, name: str, data: bytes) -> bytes:
    """A clerk's mail forwarding a file without naming its number or date."""
    msg = EmailMessage()
    msg["From"] = "Văn thư <vanthu.guilai@lienthong.gov.vn>"
    msg["To"] = f"vanthu.{unit.replace('.', '-').lower()}@lienthong.gov.vn"
    msg["Subject"] = "Gửi văn bản"
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain="lienthong.gov.vn")
    msg.set_content("Kính gửi: đơn vị nhận\n\nGửi đơn vị tài liệu đính kèm.\n\nTrân trọng./.\n")
    msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return bytes(msg)
