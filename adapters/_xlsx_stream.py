"""Rows of a large XLSX sheet, streamed in bounded memory.

calamine builds a whole sheet before the first row comes out (about 930 bytes a row of
ten text columns, shared strings included: 466 MB for 500,000 rows), so a sheet whose
part, or whose workbook's shared strings, is over ``STREAM_FROM_BYTES`` is read here
instead: the sheet part is inflated in chunks and parsed with lxml's pull parser, one
``<row>`` at a time, each row dropped once read. The shared strings go to a temporary
file as UTF-8, with the offset of each kept in memory (8 bytes a string); a cell's text
is read back from the file when the cell names it, so memory does not grow with the text.

Values are made as calamine makes them, so a sheet that grows past the threshold between
two runs gives the same records: numbers as floats (whole ones become ints later), dates,
times and durations by the cell's number format (calamine's rule for which formats are
dates, ported below) in the workbook's date system (1900 or 1904), booleans, error cells
empty, inline and formula strings as text. A row holding more than ``MAX_ROW_CHARS``
characters (16,384 cells may all name one 32,767-character string) is set aside with a
problem instead of being built.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import weakref
from array import array
from collections.abc import Iterator
from typing import Any

from lxml import etree

from adapters._table import Row

MAX_ROW_CHARS = 1 << 20
_PARSER_OPTIONS: dict[str, Any] = {"resolve_entities": False, "no_network": True,
                                   "load_dtd": False, "huge_tree": True}
_DATE, _DURATION, _OTHER = "date", "duration", "other"
_BUILTIN_DATES = {*range(14, 23), 45, 47}
_MAX_SERIAL = 2_958_466   # 10000-01-01: past it calamine gives the number


def _local(tag: object) -> str:
    text = str(tag)
    return text[text.rfind("}") + 1:]


class SharedStrings:
    """The workbook's shared strings, kept in a temporary file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        # Closed by ``close``: the file outlives this method, as long as the sheet is read.
        self._file = tempfile.TemporaryFile()  # noqa: SIM115
        self._closing = weakref.finalize(self, self._file.close)   # if never closed
        self._offsets = array("Q", [0])
        parser = etree.XMLPullParser(events=("end",), tag="{*}si", **_PARSER_OPTIONS)
        for chunk in chunks:
            parser.feed(chunk)
            for _, item in parser.read_events():
                self._add(_item_text(item))
                _drop(item)
        parser.close()
        self._file.flush()
        self._fd = self._file.fileno()

    def _add(self, text: str) -> None:
        data = text.encode("utf-8")
        self._file.write(data)
        self._offsets.append(self._offsets[-1] + len(data))

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def get(self, index: int) -> str | None:
        if index < 0:
            return None
        try:
            start, end = self._offsets[index], self._offsets[index + 1]
        except IndexError:
            return None
        return os.pread(self._fd, end - start, start).decode("utf-8") if end > start else ""

    def close(self) -> None:
        self._file.close()


def _item_text(item: etree._Element) -> str:
    """A shared or inline string: its text, or its runs' texts; phonetic runs left out."""
    parts: list[str] = []
    for child in item:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts += [t.text or "" for t in child if _local(t.tag) == "t"]
    return "".join(parts)


def _drop(element: etree._Element) -> None:
    element.clear()
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def number_formats(styles: bytes | None) -> list[str]:
    """The kind of each cell style (``s`` index): date, duration or other."""
    if not styles:
        return []
    root = etree.fromstring(styles, etree.XMLParser(**_PARSER_OPTIONS))
    custom = {str(f.get("numFmtId")): str(f.get("formatCode", ""))
              for f in root.iter("{*}numFmt")}
    kinds = []
    for xfs in root.iter("{*}cellXfs"):
        for xf in xfs:
            fmt = str(xf.get("numFmtId", "0"))
            if fmt in custom:
                kinds.append(format_kind(custom[fmt]))
            else:
                kinds.append(_DATE if fmt.isdigit() and int(fmt) in _BUILTIN_DATES else
                             _DURATION if fmt == "46" else _OTHER)
    return kinds


def format_kind(code: str) -> str:
    """Whether a number format shows a date, a duration or a plain number: the rule of
    calamine's ``detect_custom_number_format`` (quoted and escaped text, the fill and
    skip characters and bracketed sections are not tokens; ``[h]``, ``[m]``, ``[s]`` are
    durations; the first section decides)."""
    escaped = quoted = ampm = hms = False
    brackets = 0
    prev = " "
    for ch in code:
        if escaped:
            escaped = False
        elif ch in "_\\*":
            escaped = True
        elif quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == ";":
            return _OTHER
        elif ch == "[":
            brackets += 1
        elif ch == "]" and brackets == 1 and hms:
            return _DURATION
        elif ch == "]":
            brackets = max(brackets - 1, 0)
        elif ch in "aA" and not ampm and brackets == 0:
            ampm = True
        elif brackets == 0 and (ch in "pmPM/" if ampm else ch in "dmhysDMHYS"):
            return _DATE
        elif not (hms and ch.lower() == prev.lower()):
            hms = prev == "[" and ch in "mhsMHS"
        prev = ch
    return _OTHER


def serial(value: float, kind: str, date1904: bool) -> Any:
    """An Excel serial number as calamine's Python binding gives it."""
    if kind == _DURATION:
        return dt.timedelta(milliseconds=round(value * 86_400_000))
    if value >= _MAX_SERIAL:
        return value
    if value < 1:   # a time of day, in either date system
        millis = round(max(value, 0) * 86_400_000)
        return (dt.datetime.min + dt.timedelta(milliseconds=millis)).time()
    if date1904:
        base = dt.datetime(1904, 1, 1)
    else:
        base = dt.datetime(1899, 12, 31) if value < 60 else dt.datetime(1899, 12, 30)
    moment = base + dt.timedelta(milliseconds=round(value * 86_400_000))
    return moment.date() if moment.time() == dt.time() else moment


class SheetRows:
    """The rows of one sheet part, streamed: iterate once."""

    def __init__(self, chunks: Iterator[bytes], strings: SharedStrings | None,
                 styles: list[str], date1904: bool) -> None:
        self._chunks, self._strings = chunks, strings
        self._styles, self._date1904 = styles, date1904

    def __iter__(self) -> Iterator[Row]:
        parser = etree.XMLPullParser(events=("end",), tag="{*}row", **_PARSER_OPTIONS)
        number = 0
        for chunk in self._chunks:
            parser.feed(chunk)
            for _, element in parser.read_events():
                r = element.get("r")
                number = int(r) if r and r.isdigit() else number + 1
                yield self._row(number, element)
                _drop(element)
        parser.close()

    def _row(self, number: int, element: etree._Element) -> Row:
        tag = str(element.tag)
        ns = tag[:tag.rfind("}") + 1]   # the sheet's namespace, if any
        cell_tag, value_tag = f"{ns}c", f"{ns}v"
        values: list[Any] = []
        chars = 0
        for cell in element.iterchildren(cell_tag):
            ref = cell.get("r")
            column = _column(ref) if ref else len(values) + 1
            kind = cell.get("t")
            if kind == "s":   # most cells: a shared string
                text = cell.findtext(value_tag)
                value = self._shared(text) if text else None
            else:
                value = self._value(cell, kind or "n", _text(cell.findtext(value_tag)), ns)
            if isinstance(value, str):
                chars += len(value)
                if chars > MAX_ROW_CHARS:
                    return Row(number, values, f"row {number} holds over {MAX_ROW_CHARS:,} "
                                               "characters, so it was set aside")
            if column - 1 > len(values):
                values.extend([None] * (column - 1 - len(values)))
            values.append(value)
        return Row(number, values)

    def _shared(self, text: str) -> str | None:
        try:
            return self._strings.get(int(text)) if self._strings else None
        except ValueError:
            return None

    def _value(self, cell: etree._Element, kind: str, text: str | None, ns: str) -> Any:
        if kind == "inlineStr":
            found = cell.find(f"{ns}is")
            return (_item_text(found) or None) if found is not None else None
        if text is None or kind == "e":
            return None
        if kind == "b":
            return text.strip() == "1"
        if kind in ("str", "d"):
            return text or None
        try:
            number = float(text)
        except ValueError:
            return None
        style = int(cell.get("s", "0") or 0)
        fmt = self._styles[style] if 0 <= style < len(self._styles) else _OTHER
        return number if fmt == _OTHER else serial(number, fmt, self._date1904)


def _text(found: object) -> str | None:
    return found if isinstance(found, str) else None


def _column(ref: str) -> int:
    number = 0
    for ch in ref:
        if not "A" <= ch <= "Z":
            break
        number = number * 26 + ord(ch) - 64
    return number or 1
