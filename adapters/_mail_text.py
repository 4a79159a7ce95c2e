"""Text out of e-mail bytes: charsets, RFC 2047 headers, addresses, HTML, the new text.

Everything here reads hostile input leniently: a wrong or unknown charset, a broken
encoded-word or unbalanced HTML gives the best text it can, never an exception.
"""

from __future__ import annotations

import codecs
import re
from email.errors import HeaderParseError
from email.header import decode_header
from email.utils import getaddresses
from html.parser import HTMLParser

# What a declared charset really means in mail: GB2312 mail routinely holds GBK/GB18030
# characters, and "ISO-8859-1" mail holds Windows-1252 quotes and dashes (the WHATWG
# encoding standard maps these labels the same way).
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
            "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
            "us-ascii": "utf-8", "ascii": "utf-8", "ks_c_5601-1987": "cp949",
            "iso-8859-8-i": "iso-8859-8", "unknown-8bit": "", "x-unknown": ""}
_FOLD = re.compile(r"\r?\n[ \t]")
_SPACE = re.compile(r"\s+")
_ADDRESS_ONLY = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """``data`` as text: in its declared charset when Python knows it, else UTF-8, else
    Windows-1256.

    Windows-1256 is the last resort because Persian Windows mail clients write it; it also
    keeps the accented letters of French and German text where Latin-1 has them.
    """
    label = (charset or "").strip().strip('"').lower()
    codec = _ALIASES.get(label, label)
    if codec:
        try:
            return data.decode(codecs.lookup(codec).name, errors="replace")
        except LookupError:
            pass   # an unknown label: guess as if none were given
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1256", errors="replace")


def header_text(value: str | None, fallback_charset: str | None = None) -> str:
    """A header's text: unfolded, RFC 2047 encoded-words decoded, spaces collapsed."""
    if not value:
        return ""
    text = _undo_surrogates(_FOLD.sub(" ", str(value)), fallback_charset)
    try:
        parts = decode_header(text)
    except (HeaderParseError, ValueError, LookupError):
        return _SPACE.sub(" ", text).strip()   # a broken encoded-word: keep it as written
    decoded = "".join(part if isinstance(part, str) else decode_bytes(part, charset)
                      for part, charset in parts)
    return _SPACE.sub(" ", decoded).strip()


def addresses(values: list[str], fallback_charset: str | None = None
              ) -> list[tuple[str, str]]:
    """(display name, address) of every mailbox in address headers, names decoded.

    The header is split into addresses *before* encoded-words are decoded: a decoded name
    may hold a comma (``=?utf-8?q?Karimi=2C_Ali?=``) that is no separator. A display name
    that is only an address (a phishing trick, or a client repeating the address) is no
    name and is dropped.
    """
    raw = [_undo_surrogates(_FOLD.sub(" ", str(v)), fallback_charset) for v in values]
    found = []
    for name, address in getaddresses(raw):
        # A local name without a domain (``<moderator>``) is no address; its display
        # name still says who it is.
        address = address.strip() if "@" in address else ""
        shown = header_text(name).strip("\"' ")
        shown = "" if _ADDRESS_ONLY.fullmatch(shown) else shown
        if shown or address:
            found.append((shown, address))
    return found


def _undo_surrogates(text: str, charset: str | None) -> str:
    """Raw 8-bit bytes in a header (no encoded-word; RFC 6532 allows UTF-8 there) reach
    us as surrogate escapes: decode them as UTF-8, else the message's charset."""
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    return decode_bytes(text.encode("utf-8", errors="surrogateescape"), charset)


class _HtmlText(HTMLParser):
    """The visible text of an HTML body; quoted replies (blockquote) are left out."""

    _SKIP = frozenset({"script", "style", "head", "title", "blockquote"})
    _BREAK = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
                        "table", "ul", "ol", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The text a reader sees, one line per block."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):
        pass   # HTMLParser gives up on some broken markup: keep what it read
    return "".join(parser.parts)


# Where a reply's own text ends and the message it answers begins.
_REPLY_MARKERS = re.compile(
    r"^\s*(?:-{2,}\s*original message\s*-{2,}"            # Outlook, Thunderbird
    r"|_{10,}"                                             # Outlook's rule above headers
    r"|on\s[^\n]{4,200}(?:\n[^\n]{0,100})?\swrote:"       # Gmail, Apple Mail (English)
    r"|am\s.{4,200}\sschrieb.{0,100}:"                     # German clients
    r"|le\s.{4,200}\sa\s[ée]crit\s?:"                      # French clients
    r"|\W*در\s.{4,200}نوشت\W*)\s*$",                       # Gmail in Persian
    re.IGNORECASE | re.MULTILINE)


def new_text(text: str) -> str:
    """The message's own text: quoted lines (``>``) and what follows a reply header are
    dropped, so neither the summary nor the phones found come from the answered mail
    (often our own, with our signature)."""
    marker = _REPLY_MARKERS.search(text)
    if marker is not None:
        text = text[:marker.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary near ``limit`` characters."""
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.6 else cut).rstrip(" ,.;:-") + "…"
