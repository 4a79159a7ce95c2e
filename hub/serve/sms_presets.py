"""SMS gateways: where each one puts the sender, the line, the text, its id and the time.

A preset names the fields a gateway sends (several names where its documentation uses
more than one, compared without regard to case); ``Gateway.message`` turns any of them
into the same normalized fields, which are what the SMS mappings name:

* ``sender``: the sender's number in E.164 (``hub.standardize.phones``), read in the
  gateway's ``country`` and, when not valid there, as an international number without
  its ``+`` (Vonage's ``msisdn``); left as sent when it is no number at all (an operator's
  name), so that the pipeline sets it aside with its reason instead of guessing;
* ``receiver``: our line, in E.164 when it is a phone number, else as sent (``3000505``);
* ``text``; ``message_id``: the gateway's id of the message, as sent;
* ``received_at``: the gateway's time in ISO 8601 with its offset (a time written without
  one is in the preset's ``timezone``), else the time the request came in;
* ``sms_consent``: ``"false"``, ``"true"`` or ``""`` (``hub.serve.sms_consent``);
* ``gateway``: the preset's name; and every field as sent, under ``raw.<name>``.

The inbox id of a message (a gateway's retry is stored once) is ``<preset>:<its id>``.
Melipayamak and sms.ir send no id: theirs is a digest of sender, line, text and the
gateway's time (sms.ir), or the minute it came in (Melipayamak, which sends no time
either), so a retry in the same minute is stored once, and the same text sent twice in
one minute is taken as a retry.

Which documentation each preset follows is in its ``doc``. Kavenegar, Ghasedak and
Melipayamak are Iranian gateways whose forwarding is configured in their panels; their
presets were written from their documentation, not from a captured request. A field
named differently in an account is set with ``fields:`` (``{sender: mobile}``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from hub.errors import InvalidValue
from hub.serve.payload import BodyProblem
from hub.serve.sms_consent import ConsentWords
from hub.standardize.datetimes import standardize_datetime
from hub.standardize.persian_text import to_ascii_digits
from hub.standardize.phones import standardize_phone

# The normalized fields a preset (or ``fields:`` in config) names the gateway's fields for.
FIELDS = ("sender", "receiver", "text", "message_id", "time", "status")
MAX_ID = 200 - 40   # the inbox's source_id holds 200; room for the preset and a status


@dataclass(frozen=True, slots=True)
class Preset:
    """The field names of one gateway's inbound messages and delivery reports."""

    name: str
    doc: str
    sender: tuple[str, ...] = ()
    receiver: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    message_id: tuple[str, ...] = ()
    time: tuple[str, ...] = ()
    status: tuple[str, ...] = ("status",)    # a delivery report's state
    timezone: str = "UTC"                    # of a time written without an offset
    answer: Literal["json", "twiml", "ok"] = "json"

    def with_fields(self, names: Mapping[str, Any]) -> Preset:
        """This preset with the names ``fields:`` gives (one name or a list each)."""
        given: dict[str, Any] = {k: (v,) if isinstance(v, str) else tuple(str(n) for n in v)
                                 for k, v in names.items()}
        return replace(self, **given)


PRESETS = {p.name: p for p in (
    Preset("kavenegar",
           "Kavenegar's REST API (kavenegar.com/rest.html): a received message is messageid, "
           "message, sender, receptor and date (Unix seconds) in sms/receive; forwarding to "
           "a URL sends from, to, message and messageid; a delivery report messageid and "
           "status.",
           sender=("from", "sender"), receiver=("to", "receptor"), text=("message",),
           message_id=("messageid",), time=("date",), timezone="Asia/Tehran"),
    Preset("ghasedak",
           "Ghasedak's REST API (ghasedak.me, GetReceivedSmses): a received message is id, "
           "sender, lineNumber, message and receiveDate.",
           sender=("sender",), receiver=("lineNumber", "linenumber", "receptor"),
           text=("message",), message_id=("id", "messageid"), time=("receiveDate",),
           timezone="Asia/Tehran"),
    Preset("smsir",
           "sms.ir's REST API v1 (apidocs.sms.ir, receive/live): a received message is "
           "mobile, number (the line), messageText and receivedDateTime (Unix seconds, "
           "UTC); no id. Delivery: messageId and deliveryState.",
           sender=("mobile",), receiver=("number", "lineNumber"), text=("messageText",),
           message_id=("messageId",), time=("receivedDateTime",),
           status=("deliveryState", "status")),
    Preset("twilio",
           "Twilio's messaging webhook (twilio.com/docs/messaging/guides/webhook-request): "
           "MessageSid, From, To, Body; a status callback MessageSid and MessageStatus. "
           "It expects TwiML back: an empty <Response/> sends no reply.",
           sender=("From",), receiver=("To",), text=("Body",),
           message_id=("MessageSid", "SmsSid"), status=("MessageStatus", "SmsStatus"),
           answer="twiml"),
    Preset("vonage",
           "Vonage's SMS API inbound webhook (developer.vonage.com/messaging/sms/guides/"
           "inbound-sms), GET, form POST or JSON: msisdn, to, messageId, text, "
           "message-timestamp (UTC); a delivery receipt messageId and status.",
           sender=("msisdn",), receiver=("to",), text=("text",), message_id=("messageId",),
           time=("message-timestamp",)),
    Preset("melipayamak",
           "Melipayamak's forwarding of received messages (melipayamak.com/api/"
           "transfering-massage/): GET ?to=$TO$&body=$TEXT$&from=$FROM$, answered OK; no "
           "id and no time.",
           sender=("from",), receiver=("to",), text=("body",), timezone="Asia/Tehran",
           answer="ok"),
    Preset("custom", "The field names given in config.yaml (fields:)."),
)}


@dataclass(frozen=True, slots=True)
class Report:
    """A delivery report: the message it is about and its state."""

    source_id: str
    payload: dict[str, Any]


class Gateway:
    """One gateway's preset with its settings: reads its requests into normalized fields."""

    def __init__(self, preset: Preset, *, country: str = "IR", timezone: str | None = None,
                 words: ConsentWords | None = None) -> None:
        self.preset = preset
        self.country = country
        self.timezone = timezone or preset.timezone
        self.words = words or ConsentWords()

    def message(self, fields: Mapping[str, Any], now: datetime | None = None
                ) -> tuple[str, dict[str, Any]]:
        """(inbox id, normalized fields) of an inbound message; BodyProblem (422) naming
        the field when the request has no sender."""
        now = now or datetime.now(UTC)
        found = _Fields(fields)
        sender = found.first(self.preset.sender)
        if not sender:
            raise BodyProblem(422, "the request holds no sender", [
                ("sender", f"expected one of {', '.join(self.preset.sender) or '(none)'}: "
                           f"set serve.sms.<gateway>.fields.sender")])
        text = found.first(self.preset.text)
        given_id = found.first(self.preset.message_id)
        time = found.first(self.preset.time)
        normal = {"gateway": self.preset.name, "sender": self._phone(sender),
                  "receiver": self._phone(found.first(self.preset.receiver)),
                  "text": text, "message_id": given_id,
                  "received_at": self._time(time, now),
                  "sms_consent": self.words.statement(text)}
        key = given_id[:MAX_ID] if given_id else _digest(
            normal["sender"], normal["receiver"], text, time or now.strftime("%Y-%m-%dT%H:%M"))
        return f"{self.preset.name}:{key}", {**normal, **_raw(fields)}

    def report(self, fields: Mapping[str, Any], now: datetime | None = None) -> Report:
        """A delivery report; stored once per message and state."""
        found = _Fields(fields)
        message_id = found.first((*self.preset.message_id, "messageid", "id"))
        status = found.first((*self.preset.status, "status"))
        key = f"{message_id[:MAX_ID]}:{status[:30]}" if message_id else _digest(
            *(f"{k}={v}" for k, v in sorted(fields.items())))
        payload = {"gateway": self.preset.name, "message_id": message_id, "status": status,
                   "received_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
                   **_raw(fields)}
        return Report(f"{self.preset.name}:{key}", payload)

    def _phone(self, raw: str) -> str:
        if not raw:
            return ""
        try:
            return standardize_phone(raw, self.country)[0]
        except InvalidValue:
            digits = to_ascii_digits(raw).strip()
            if digits.isdigit() and len(digits) > 10:   # international, without its +
                try:
                    return standardize_phone(f"+{digits}", self.country)[0]
                except InvalidValue:
                    pass
            return raw.strip()

    def _time(self, raw: str, now: datetime) -> str:
        if raw:
            try:
                return standardize_datetime(raw, timezone=self.timezone)
            except InvalidValue:
                pass   # the raw time stays under raw.<name>; the message is not refused
        return now.isoformat(timespec="seconds")


class _Fields:
    """A request's fields, found by any of several names, whatever their case."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields
        self.folded = {str(k).casefold(): k for k in fields}

    def first(self, names: tuple[str, ...]) -> str:
        for name in names:
            key = name if name in self.fields else self.folded.get(name.casefold())
            value = self.fields.get(key) if key is not None else None
            if value not in (None, ""):
                return str(value).strip()
        return ""


def _raw(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {f"raw.{k}": v for k, v in fields.items()}


def _digest(*parts: str) -> str:
    return "sha256-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
