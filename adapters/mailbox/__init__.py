"""The `mailbox` profile: documents mailed to a unit's official mailbox, read over IMAP4rev1;
and the mail road of sending (`SmtpSender`, built from an outbox's `smtp` table)."""

from __future__ import annotations

from typing import Any

from adapters.mailbox.mapping import read_file, to_document
from adapters.mailbox.send import SmtpSender
from adapters.mailbox.send import make_sender as make_mail_sender
from adapters.mailbox.settings import MailboxSettings
from adapters.mailbox.source import MailboxSource
from bridge.interfaces import AdapterContext, Profile


def make_source(settings: Any, ctx: AdapterContext) -> MailboxSource:
    return MailboxSource(settings, ctx)


PROFILE = Profile(
    name="mailbox",
    to_document=to_document,
    read_file=read_file,
    source_settings=MailboxSettings,
    make_source=make_source,
    make_mail_sender=make_mail_sender,
)

__all__ = ["PROFILE", "MailboxSettings", "MailboxSource", "SmtpSender"]
