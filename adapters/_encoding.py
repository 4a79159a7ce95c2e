"""Which encoding a CSV file is in: decided once per file, from the whole file's bytes,
by the rule written in the docstring of ``adapters.spreadsheet`` (a byte order mark, then
the NUL bytes of UTF-16, then the evidence of the lines with non-ASCII bytes).

The whole file is read once for this, together with its hash and line count: a decision
from the first 64 KB alone missed Windows-1256 text after a long ASCII start, and one bad
byte anywhere made a whole UTF-8 file Windows-1256 (finding H2). Only lines that do not
decode as a block are decoded one by one, so a clean UTF-8 file costs one decode a chunk.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

SNIFF_BYTES = 64 * 1024
_CHUNK = 1 << 20
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_WHITESPACE = b" \t\r\n\x00"
# A non-ASCII letter: a word character that is no digit, underscore or ASCII letter.
_LETTER_LINE = re.compile(r"^[^\n]*?[^\W\d_a-zA-Z]", re.MULTILINE)
_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16",
           "utf-16-be": "UTF-16", "cp1256": "Windows-1256"}


@dataclass(frozen=True, slots=True)
class Scan:
    """What one pass over a file's bytes tells.

    Args:
        digest: a hash of the content (the checkpoint's file identity).
        lines: line breaks, plus one for a last line without one.
        head: the first 64 KB, for the UTF-16 test and the delimiter sniffer.
        utf8_lines: lines with non-ASCII letters that decode as UTF-8.
        other_lines: lines that do not decode as UTF-8.
        empty: nothing but a byte order mark and white space.
    """

    digest: str
    lines: int
    head: bytes
    utf8_lines: int
    other_lines: int
    empty: bool


@dataclass(frozen=True, slots=True)
class Decision:
    encoding: str
    reason: str   # for the log: what decided it


def scan_file(path: Path) -> Scan:
    """Read ``path`` once: its hash, line count, first bytes and UTF-8 evidence."""
    sha = hashlib.sha256()
    head, carry, last = b"", b"", b""
    lines = utf8 = other = 0
    empty = True
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
            lines += chunk.count(b"\n")
            if not head:
                head = chunk[:SNIFF_BYTES]
                chunk_text = _strip_bom(chunk)
            else:
                chunk_text = chunk
            empty = empty and not chunk_text.strip(_WHITESPACE)
            block = carry + chunk
            cut = block.rfind(b"\n") + 1 or (len(block) if len(block) > _CHUNK else 0)
            good, bad = _evidence(block[:cut])
            utf8, other, carry = utf8 + good, other + bad, block[cut:]
            last = chunk[-1:]
    good, bad = _evidence(carry)
    lines += 1 if last not in (b"", b"\n") else 0
    return Scan(sha.hexdigest()[:16], lines, head, utf8 + good, other + bad, empty)


def decide(scan: Scan) -> Decision:
    """The encoding of the scanned file, by the rule in the module docstring."""
    head = scan.head
    if head.startswith(codecs.BOM_UTF8):
        return Decision("utf-8-sig", "byte order mark")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decision("utf-16", "byte order mark")
    if utf16 := _utf16_without_bom(head):
        return Decision(utf16, "NUL bytes of UTF-16")
    if scan.other_lines == 0:
        return Decision("utf-8", "valid UTF-8")
    if scan.utf8_lines >= scan.other_lines:
        return Decision("utf-8", "most non-ASCII lines are UTF-8")
    return Decision("cp1256", "most non-ASCII lines are not UTF-8")


def label(encoding: str) -> str:
    """The encoding's name for people: ``UTF-8``, ``Windows-1256``."""
    name = codecs.lookup(encoding).name
    return _LABELS.get(name, name)


def _strip_bom(data: bytes) -> bytes:
    for bom in _BOMS:
        if data.startswith(bom):
            return data[len(bom):]
    return data


def _evidence(block: bytes) -> tuple[int, int]:
    """(UTF-8 lines with letters, lines that are not UTF-8) in whole lines of bytes."""
    if block.isascii():
        return 0, 0
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return len(_LETTER_LINE.findall(text)), 0
    good = bad = 0
    for line in block.split(b"\n"):
        if line.isascii():
            continue
        try:
            good += bool(_LETTER_LINE.search(line.decode("utf-8")))
        except UnicodeDecodeError:
            bad += 1
    return good, bad


def _utf16_without_bom(head: bytes) -> str | None:
    units = len(head) // 2
    even, odd = head[0:2 * units:2].count(0), head[1:2 * units:2].count(0)
    many, few = max(even, odd), min(even, odd)
    if units == 0 or 10 * many < units or 20 * few > many:
        return None
    return "utf-16-le" if odd >= even else "utf-16-be"
