"""Opt-out and opt-in words: an SMS that says STOP, لغو or START is a consent statement.

``statement(text)`` reads an inbound message's text at intake and gives ``"false"`` (the
sender opts out of SMS), ``"true"`` (opts back in) or ``""`` (no statement); the SMS
endpoint stores it as the message's ``sms_consent`` field, which the contacts mapping
maps to ``consents.consent:sms``.

Decisions:

* The whole message must be the word, as Twilio and the carriers read keywords: "stop"
  is a statement, "please don't stop the offers" is not. Around the word, spaces,
  punctuation, Arabic ي/ك, tatweel, case and a trailing number (``لغو11``, ``لغو ۱۱``:
  Iranian operators ask for the line's suffix after the word) make no difference.
* The words: Persian لغو, انصراف, لغو عضویت; Twilio's default opt-out keywords (STOP,
  STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) and its opt-in keywords START and UNSTOP,
  with SUBSCRIBE, شروع and عضویت. Not YES, which Twilio also takes as an opt-in: in a
  conversation "yes" answers a question far more often than it renews consent, and a
  consent wrongly turned on is worse than one a customer must give again.
* A gateway's ``opt_out_words`` and ``opt_in_words`` add to these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hub.standardize.persian_text import text_key

OPT_OUT = ("لغو", "انصراف", "لغو عضویت", "stop", "stopall", "unsubscribe", "cancel", "end",
           "quit")
OPT_IN = ("start", "unstop", "subscribe", "شروع", "عضویت")

_NOT_A_LETTER = re.compile(r"[\W_]+")   # \w keeps letters and digits of any script
_TRAILING_DIGITS = re.compile(r"\d+$")


def keyword(text: str) -> str:
    """The message as one word: folded, without spaces, punctuation or a trailing number."""
    return _TRAILING_DIGITS.sub("", _NOT_A_LETTER.sub("", text_key(text)))


class ConsentWords:
    """The opt-out and opt-in words of one gateway."""

    def __init__(self, opt_out: Iterable[str] = (), opt_in: Iterable[str] = ()) -> None:
        self.opt_out = {keyword(w) for w in (*OPT_OUT, *opt_out)} - {""}
        self.opt_in = {keyword(w) for w in (*OPT_IN, *opt_in)} - {""}

    def statement(self, text: str) -> str:
        """``"false"`` for an opt-out, ``"true"`` for an opt-in, else ``""``."""
        word = keyword(text)
        if word in self.opt_out:
            return "false"
        return "true" if word in self.opt_in else ""
