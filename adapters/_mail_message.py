"""One e-mail message (its bytes) as one flat record of strings, and its source id.

The keys are documented in ``adapters.email``; every record has all of them (a missing
value is ``""``), because a mapping that names a column the record lacks stops the
pipeline.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import phonenumbers

from adapters._mail_text import (
    addresses,
    decode_bytes,
    header_text,
    html_to_text,
    new_text,
    shorten,
)

KEYS = ("message_id", "thread", "in_reply_to", "date", "received", "subject", "from_name",
        "from_address", "to_addresses", "cc_addresses", "contact_name", "contact_address",
        "direction", "summary", "phones_found", "automated", "folder")
# Where a message was filed and when the mailbox got it: not part of what it says.
_PLACE_KEYS = ("folder", "received")
_ID = re.compile(r"<([^<>\s]{1,1000})>")
# Senders that are machines, by the address's local part (RFC 3834 and common practice).
_MACHINE_SENDER = re.compile(r"(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?)"
                             r"([+._-].*)?", re.IGNORECASE)
_LONGEST_ID = 180
_PARTS = 200              # MIME parts looked at for the body: a bomb of parts is cut short
_TEXT_CHARS = 200_000     # body text considered at all
_PHONE_CHARS = 20_000     # of the new text, scanned for phone numbers
# Control characters a hostile message may carry: PostgreSQL's text and JSON cannot hold
# NUL, and none of them is text a person reads.
_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_HASHED_HEADERS = ("From", "To", "Cc", "Date", "Subject", "In-Reply-To", "References")

# Read of each message: its headers, its text and the start of its attachments. A 30 MB
# attachment is never read whole, and memory stays bounded whatever a mailbox holds.
MAX_MESSAGE_BYTES = 2 * 1024 * 1024

Direction = Literal["inbound", "outbound"]


@dataclass(frozen=True, slots=True)
class Fetched:
    """A message as a mailbox gave it.

    Args:
        folder: the folder (IMAP, Maildir) or file it is in.
        location: where a person finds it, for errors.
        received: when the mailbox got it, ISO 8601 ("" when the mailbox does not say).
        raw: its first ``MAX_MESSAGE_BYTES`` bytes.
        positions: every folder's position once this message is stored (the checkpoint).
    """

    folder: str
    location: str
    received: str
    raw: bytes
    positions: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reading:
    """How messages are read (from the adapter's settings).

    Args:
        direction: every message's direction, or None: outbound when From is one of
            ``own``, else inbound.
        own: our addresses, lower case; ``@domain`` stands for a whole domain.
        summary_length: characters of the summary.
    """

    direction: Direction | None
    own: tuple[str, ...]
    summary_length: int


@dataclass(frozen=True, slots=True)
class ReadMessage:
    """A message read: its record's id, data and problem, and what the adapter filters on."""

    source_id: str
    data: dict[str, str]
    problem: str | None
    digest: str                      # of what the message says, for ids and repeats
    sent: datetime.date | None       # the Date header's day, for ``since``


def read_message(raw: bytes, *, folder: str, received: str, reading: Reading) -> ReadMessage:
    """``raw`` as a record. Never raises: a message that cannot be read at all comes back
    with a ``problem`` and what could be read of it."""
    try:
        msg = message_from_bytes(raw, policy=compat32)
        if not msg.keys():
            return _unreadable(raw, folder, received, "the message has no header lines; it "
                               f"is not an e-mail message (it starts with {raw[:40]!r})")
        data = _data(msg, reading)
    except Exception as exc:
        # A stdlib parser bug on one hostile message must not stop a sync: the record
        # goes to quarantine naming the error.
        return _unreadable(raw, folder, received, "the message could not be parsed "
                           f"({type(exc).__name__}: {exc})")
    data.update(folder=folder, received=received)
    data = {key: value.translate(_CONTROLS) for key, value in data.items()}
    digest = _digest(msg, raw)
    return ReadMessage(_source_id(data["message_id"], digest), data, None, digest,
                       _day(data["date"]))


def _source_id(message_id: str, digest: str) -> str:
    """The Message-ID; one too long for the store's ids (200 characters, with room for a
    ``#`` suffix) by a hash of it, stable too; none: a hash of the message."""
    if not message_id:
        return f"sha256:{digest}"
    if len(message_id) > _LONGEST_ID:
        return "mid-sha256:" + hashlib.sha256(message_id.encode()).hexdigest()[:32]
    return message_id


def _data(msg: Message, reading: Reading) -> dict[str, str]:
    charset = _charset(msg)
    (from_name, from_address), *_ = addresses(_all(msg, "From"), charset) or [("", "")]
    to = addresses(_all(msg, "To"), charset)
    cc = addresses(_all(msg, "Cc"), charset)
    direction = reading.direction or ("outbound" if _is_own(from_address, reading.own)
                                      else "inbound")
    contact = (from_name, from_address) if direction == "inbound" else (to + cc + [("", "")])[0]
    message_id = _first_id(_one(msg, "Message-ID"))
    in_reply_to = _first_id(_one(msg, "In-Reply-To"))
    references = _ID.findall(_one(msg, "References"))
    text = new_text(_body_text(msg))
    return {
        "message_id": message_id,
        "thread": (references[0] if references else in_reply_to) or message_id,
        "in_reply_to": in_reply_to,
        "date": header_text(_one(msg, "Date")),
        "subject": header_text(_one(msg, "Subject"), charset),
        "from_name": from_name, "from_address": from_address,
        "to_addresses": ", ".join(a for _, a in to if a),
        "cc_addresses": ", ".join(a for _, a in cc if a),
        "contact_name": contact[0], "contact_address": contact[1],
        "direction": direction,
        "summary": shorten(text, reading.summary_length),
        # Phones in a reply of ours are our own signature's, not a customer's.
        "phones_found": ", ".join(phones_in(text)) if direction == "inbound" else "",
        "automated": automated(msg, from_address),
    }


def automated(msg: Message, from_address: str) -> str:
    """Why a machine sent ``msg`` (an auto-reply, a bounce, a list or newsletter, a no-reply
    sender), or "" when a person did, as far as its headers tell."""
    auto = _one(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = _one(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for header in ("List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond"):
        if _one(msg, header).strip():
            return f"has {header}"
    if msg.get_content_type() == "multipart/report":
        return "a delivery or read report"
    if _MACHINE_SENDER.fullmatch(from_address.partition("@")[0]):
        return "sent from a no-reply address"
    return ""


def _all(msg: Message, name: str) -> list[str]:
    """Every value of header ``name`` as parsed. Not ``msg.get_all``: for raw 8-bit bytes
    it gives a Header object that turns them into U+FFFD; ``raw_items`` keeps them (as
    surrogate escapes, which ``_mail_text`` decodes)."""
    wanted = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == wanted]


def _one(msg: Message, name: str) -> str:
    values = _all(msg, name)
    return values[0] if values else ""


def _unreadable(raw: bytes, folder: str, received: str, problem: str) -> ReadMessage:
    data = dict.fromkeys(KEYS, "")
    data.update(folder=folder, received=received,
                summary=shorten(decode_bytes(raw[:4096]), 300).translate(_CONTROLS))
    digest = hashlib.sha256(raw).hexdigest()[:32]
    return ReadMessage(f"sha256:{digest}", data, problem, digest, None)


def _charset(msg: Message) -> str | None:
    """The charset raw 8-bit header bytes most likely share: the message's, or its first
    text part's."""
    for part in _parts(msg):
        if charset := part.get_content_charset():
            return charset
    return None


def _parts(msg: Message) -> list[Message]:
    parts = []
    for part in msg.walk():
        parts.append(part)
        if len(parts) >= _PARTS:
            break
    return parts


def _body_text(msg: Message) -> str:
    """The text of the first plain-text part that is not an attachment, else (none, or a
    blank one, as some mailers send beside the HTML) of the first HTML part made plain."""
    plain: Message | None = None
    html: Message | None = None
    for part in _parts(msg):
        if part.is_multipart() or str(part.get("Content-Disposition", "")).strip().lower() \
                .startswith("attachment"):
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = part
        elif kind == "text/html" and html is None:
            html = part
        if plain is not None and html is not None:
            break
    # A part is a Message, whose truth is its number of headers: test for None.
    text = _part_text(plain) if plain is not None else ""
    if not text.strip() and html is not None:
        text = html_to_text(_part_text(html))
    return text


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload[:_TEXT_CHARS * 4], part.get_content_charset())[:_TEXT_CHARS]


def phones_in(text: str) -> list[str]:
    """Valid phone numbers in ``text`` (Persian or Latin digits; Iran unless a country
    code says otherwise), as E.164, each once, in order of appearance."""
    found = (phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
             for m in phonenumbers.PhoneNumberMatcher(text[:_PHONE_CHARS], "IR"))
    return list(dict.fromkeys(found))


def _is_own(address: str, own: Sequence[str]) -> bool:
    address = address.lower()
    domain = address.rpartition("@")[2]
    return any(address == o or (o.startswith("@") and domain == o[1:]) for o in own)


def _first_id(value: object) -> str:
    """A message id without its angle brackets ("" when there is none)."""
    text = str(value or "").strip()
    if match := _ID.search(text):
        return match.group(1)
    return text if text and len(text) <= 1000 and not re.search(r"\s", text) else ""


def _digest(msg: Message, raw: bytes) -> str:
    """A hash of what the message says: the headers its author wrote and the body, not
    the transport's headers (Received, Delivered-To) nor a client's status flags, so the
    same message hashes alike in every mailbox it is filed in."""
    hashed = hashlib.sha256()
    for name in _HASHED_HEADERS:
        value = re.sub(r"\s+", " ", _one(msg, name)).strip()
        hashed.update(f"{name}:{value}\n".encode("utf-8", errors="surrogateescape"))
    body = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)
    hashed.update(body[1].replace(b"\r\n", b"\n").rstrip() if len(body) > 1 else b"")
    return hashed.hexdigest()[:32]


def _day(date: str) -> datetime.date | None:
    try:
        return parsedate_to_datetime(date).date() if date else None
    except (TypeError, ValueError, IndexError):
        return None


class Repeats:
    """The ids one read has given, so a message filed in two folders is one record.

    The same Message-ID again with the same content (whatever the folder) is skipped; with
    other content (a client that reuses ids) it is yielded under ``<id>#<12 hex>`` so
    nothing is lost and no id names two records.
    """

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def source_id(self, message: ReadMessage) -> str | None:
        """The id to yield ``message`` under, or None when it was yielded already."""
        said = {k: v for k, v in message.data.items() if k not in _PLACE_KEYS}
        fingerprint = json.dumps(said, sort_keys=True, ensure_ascii=False)
        for candidate in (message.source_id, f"{message.source_id}#{message.digest[:12]}"):
            known = self._seen.get(candidate)
            if known is None:
                self._seen[candidate] = fingerprint
                return candidate
            if known == fingerprint:
                return None
        return f"{message.source_id}#{message.digest}"
