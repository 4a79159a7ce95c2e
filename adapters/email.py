"""E-mail messages from an IMAP account or a local mailbox (Maildir, mbox, .eml files).

Features: incremental: IMAP by UIDVALIDITY + UID per folder, local mailboxes by position
(see ``adapters._mail_imap`` and ``adapters._mail_local``); deletions: no; estimate: yes;
payload: dict, one record per message (keys below).

Connection: an IMAP server (options.url ``imaps://user@host:993/INBOX``, or options.host,
port, user, folders) with the password read from the environment variable that
options.password_env names, never from a file; or a local mailbox (options.path).
TLS is always on for IMAP: IMAPS (implicit TLS, port 993, ``imaps://``) or STARTTLS
(``imap://``, port 143), certificates and host names checked (options.ca_file adds the CA
of a self-signed server). ``tls: none`` (plain text, the password in clear) is refused
unless the server is on this machine: it exists for a loopback test server only.

Each record's keys (all present in every record, ``""`` when the message has none):

==================  ======================================================================
message_id          the Message-ID, without angle brackets
thread              the conversation's first message id (References, else In-Reply-To,
                    else the message's own id): every message of a thread shares it
in_reply_to         the id of the message this one answers
date                the Date header as written (RFC 2822: maps to ``occurredAt``)
received            when the mailbox got it, ISO 8601: the IMAP INTERNALDATE or the
                    Maildir delivery time ("" for mbox and .eml); for messages without Date
subject             decoded (RFC 2047, any charset)
from_name           the sender's display name, decoded; "" when it is only an address
from_address        the sender's address
to_addresses        the To addresses, joined by ", "
cc_addresses        the Cc addresses, joined by ", "
direction           ``inbound`` or ``outbound``: options.direction, else outbound when
                    From is one of options.own_addresses
contact_name        who the message was with: the sender of an inbound message, the first
contact_address     recipient (To, else Cc) of an outbound one. Map contacts from these,
                    so our own address never becomes a customer
summary             the opening of the message's own text (quoted replies cut), at most
                    options.summary_length characters; plain text made from the HTML
                    part when there is no text part
phones_found        valid phone numbers in the message's own text and signature (Persian
                    or Latin digits; Iran unless a country code says otherwise), E.164,
                    joined by ", "; inbound messages only (an outbound one holds our own
                    signature). Candidates, not the contact's known phone
folder              the IMAP or Maildir folder (INBOX for a Maildir's own), or the mbox
                    or .eml folder's name
==================  ======================================================================

Source ids: the Message-ID, which every mail client copies when it files, moves or
forwards a message, so a message moved to another folder stays one record (one longer
than 180 characters, too long for the store, is ``mid-sha256:<32 hex>`` of it). A message
without one is ``sha256:<32 hex>`` of the headers its author wrote (From, To, Cc, Date,
Subject, In-Reply-To, References) and its body: stable in any mailbox, but a copy altered
in transit (re-encoded by a relay) is another record, and two messages identical in
those are one. The same Message-ID twice in one read (filed in two folders) is read once;
with other content (a mailer that reuses ids) the later copy is ``<id>#<12 hex>``.

A message that cannot be parsed at all (no header lines) becomes a record with a
``problem`` and goes to quarantine; malformed MIME is read as far as it goes.
"""

from __future__ import annotations

import datetime
import imaplib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import structlog

from adapters._mail_imap import ImapMailbox, Server, Tls
from adapters._mail_local import LocalMailbox
from adapters._mail_message import Fetched, Reading, Repeats, read_message
from adapters._mail_options import connection, option_problems
from hub.adapter import Adapter, Features
from hub.errors import FatalSourceError
from hub.records import Checkpoint, RawRecord
from hub.settings import well_typed

__all__ = ["EmailAdapter", "EmailSettings"]

log = structlog.get_logger("peyvand.adapters.email")


@dataclass(frozen=True)
class EmailSettings:
    """Which mailbox, and how its messages become records.

    Args:
        url: the IMAP account, ``imaps://user@host:993/FOLDER`` (or ``imap://`` for
            STARTTLS); instead of host, port, user and one folder. No password in it.
        host: the IMAP server, when no url is given.
        port: the IMAP port; 993 for IMAPS, else 143.
        user: the IMAP user (often the address); an app password goes with it.
        password_env: the NAME of the environment variable holding the password.
        tls: ``imaps``, ``starttls`` or ``none`` (a loopback test server only); None
            decides by the url's scheme, else by the port (993: imaps).
        ca_file: a PEM file of the CA to trust for the server's certificate (a
            self-signed server); the system's CAs when None.
        path: a local mailbox instead: a Maildir, an mbox file, or a folder of .eml
            files (or one); relative to the pipeline's folder.
        folders: IMAP or Maildir folders to read, in order (Maildir: INBOX is its own
            messages, other names its Maildir++ folders); INBOX when empty.
        direction: every message's direction; None: outbound when From is one of
            own_addresses, else inbound.
        own_addresses: our addresses (``sales@shop.ir``) or domains (``@shop.ir``).
        since: read only messages from this day on (IMAP: received by the server;
            local: by their Date header; messages without one are read).
        summary_length: characters of the summary.
        timeout: seconds an IMAP connection may wait for the server.
        automated: messages machines send (auto-replies, bounces, mailing lists and
            newsletters, no-reply senders): ``skip`` leaves them out (each logged), since
            their sender is no customer; ``read`` keeps them, their ``automated`` key
            saying why they look automated.
    """

    url: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password_env: str | None = None
    tls: Tls | None = None
    ca_file: str | None = None
    path: str | None = None
    folders: tuple[str, ...] = ()
    direction: Literal["inbound", "outbound"] | None = None
    own_addresses: tuple[str, ...] = ()
    since: datetime.date | str | None = None
    summary_length: int = 300
    timeout: float = 30.0
    automated: Literal["skip", "read"] = "skip"


class _Mailbox(Protocol):
    def kind(self) -> str: ...
    def read(self, positions: dict[str, Any]) -> Iterator[Fetched]: ...
    def count(self, positions: dict[str, Any]) -> int: ...


class EmailAdapter(Adapter):
    """E-mail messages of an IMAP account or a local mailbox (Maildir, mbox, .eml)."""

    name: ClassVar[str] = "email"
    Settings: ClassVar[type] = EmailSettings
    features: ClassVar[Features] = Features(incremental=True, estimate=True)
    # The connection dropped, timed out or was refused; a file share briefly away. (A
    # wrong path, a refused login or an untrusted certificate are FatalSourceError.)
    transient_errors: ClassVar[tuple[type[BaseException], ...]] = (OSError,
                                                                    imaplib.IMAP4.abort)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        return option_problems(well_typed(EmailSettings, options))

    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        mailbox = self._mailbox()
        kind = mailbox.kind()
        settings: EmailSettings = self.settings
        reading = Reading(settings.direction, tuple(a.lower() for a in settings.own_addresses),
                          settings.summary_length)
        since = self._since() if kind != "imap" else None   # IMAP filters on the server
        repeats = Repeats()
        for fetched in mailbox.read(_positions(checkpoint, kind)):
            message = read_message(fetched.raw, folder=fetched.folder,
                                   received=fetched.received, reading=reading)
            if since and message.sent and message.sent < since:
                continue
            if settings.automated == "skip" and message.data.get("automated"):
                log.info("automated message skipped", location=fetched.location,
                         why=message.data["automated"])
                continue
            source_id = repeats.source_id(message)
            if source_id is None:
                log.info("message filed in several folders: read once",
                         location=fetched.location)
                continue
            yield RawRecord(source_id, message.data, fetched.location,
                            Checkpoint(_checkpoint(kind, fetched.positions)), message.problem)

    def estimate_total(self, checkpoint: Checkpoint | None) -> int | None:
        """Messages after ``checkpoint``; None when counting would mean parsing every
        message (``since`` on a local mailbox)."""
        mailbox = self._mailbox()
        kind = mailbox.kind()
        if kind != "imap" and self.settings.since is not None:
            return None
        return mailbox.count(_positions(checkpoint, kind))

    def _mailbox(self) -> _Mailbox:
        settings: EmailSettings = self.settings
        if settings.path is not None:
            path = self.context.base_dir / Path(settings.path).expanduser()
            return LocalMailbox(path, settings.folders)
        account = connection(asdict(settings))
        since = self._since()
        return ImapMailbox(Server(account.host, account.port, account.user, self._password(),
                                  account.tls, self._ca_file(), settings.timeout),
                           account.folders, since)

    def _password(self) -> str:
        name = self.settings.password_env
        password = os.environ.get(name)
        if not password:
            raise FatalSourceError(f"email: the environment variable {name} (named by "
                                   "options.password_env) is not set; it must hold the IMAP "
                                   "password")
        return password

    def _ca_file(self) -> str | None:
        ca_file = self.settings.ca_file
        return str(self.context.base_dir / Path(ca_file).expanduser()) if ca_file else None

    def _since(self) -> datetime.date | None:
        since = self.settings.since
        return datetime.date.fromisoformat(since) if isinstance(since, str) else since


def _checkpoint(kind: str, positions: dict[str, Any]) -> str:
    return json.dumps({"kind": kind, "at": positions}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def _positions(checkpoint: Checkpoint | None, kind: str) -> dict[str, Any]:
    """Each folder's position in ``checkpoint``; none when it is another kind of
    mailbox's (the options changed: everything is read again, and recognised)."""
    if checkpoint is None:
        return {}
    try:
        value = json.loads(checkpoint.value)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("at"), dict):
        raise FatalSourceError(f"email checkpoint {checkpoint.value[:80]!r} is not the e-mail "
                               "adapter's; reset the pipeline's checkpoint")
    if value.get("kind") != kind:
        log.warning("checkpoint of another kind of mailbox: reading from the start",
                    was=value.get("kind"), now=kind)
        return {}
    at: dict[str, Any] = value["at"]
    return at
