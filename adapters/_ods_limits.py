"""Limits an OpenDocument spreadsheet (.ods) must keep before calamine opens it.

An .ods file is a zip whose ``content.xml`` holds every sheet; calamine parses all of
them when the workbook is opened. So the zip gets the XLSX package limits
(``adapters._workbook_limits``: declared sizes, inflation ratio, parts that inflate past
what they declare), at most 200 MB uncompressed since calamine reads it whole, and then
``content.xml`` is scanned, in a stream, for what the format lets a few bytes ask for:

* ``table:number-rows-repeated`` and ``table:number-columns-repeated``: a cell with a value
  repeated a billion times is a billion cells in calamine. The real extent of every sheet,
  counted as calamine lays it out (from the first to the last row holding a value, repeats
  included, by the widest such row), summed over the sheets, is at most
  ``MAX_GRID_CELLS``;
* ``text:s text:c="..."`` (that many spaces) and repeated text cells: no cell over 32,767
  characters, and the text of all cells, repeats counted, at most ``MAX_TEXT_CHARS``.

calamine gives no merged ranges for .ods, so a merged header cell names its first column
only (the others are named ``column_<n>``).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from adapters._table import MAX_CELL_CHARS
from adapters._workbook_limits import (
    MAX_GRID_CELLS,
    MAX_TEXT_CHARS,
    MB,
    check_zip,
    inflate,
)
from hub.errors import FatalSourceError

MAX_ODS_BYTES = 200 * MB
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_ROW, _SHEET = f"{{{_TABLE}}}table-row", f"{{{_TABLE}}}table"
_CELLS = (f"{{{_TABLE}}}table-cell", f"{{{_TABLE}}}covered-table-cell")
_ROWS_REPEATED = f"{{{_TABLE}}}number-rows-repeated"
_COLUMNS_REPEATED = f"{{{_TABLE}}}number-columns-repeated"
_VALUE_ATTRIBUTES = (*(f"{{{_OFFICE}}}{name}" for name in (
    "value-type", "value", "string-value", "date-value", "time-value", "boolean-value")),
    f"{{{_TABLE}}}formula")
_STRING_VALUE, _SPACES = f"{{{_OFFICE}}}string-value", f"{{{_TEXT}}}s"
_SPACE_COUNT = f"{{{_TEXT}}}c"


@dataclass
class _Sheet:
    row: int = 0            # rows seen so far, repeats included
    first: int | None = None
    last: int = 0           # one past the last row holding a value
    width: int = 0          # one past the last column holding a value

    def cells(self) -> int:
        return 0 if self.first is None else (self.last - self.first) * self.width


def check_ods(path: Path) -> None:
    """Refuse ``path`` unless calamine can open it within the limits above."""
    where = str(path)
    try:
        with zipfile.ZipFile(path) as package, path.open("rb") as handle:
            check_zip(package, where, MAX_ODS_BYTES)
            if "content.xml" not in package.namelist():
                raise FatalSourceError(f"{where}: has no content.xml; it is not an "
                                       "OpenDocument spreadsheet.")
            for info in package.infolist():   # calamine inflates what it opens: all fit
                if info.is_dir():
                    continue
                chunks = inflate(package, handle, info.filename, where)
                if info.filename == "content.xml":
                    _scan(chunks, where)
                else:
                    for _ in chunks:
                        pass
    except zipfile.BadZipFile as exc:
        raise FatalSourceError(f"{where}: cannot be read as an OpenDocument spreadsheet: "
                               f"BadZipFile: {exc}") from exc


def _scan(chunks: Iterator[bytes], where: str) -> None:
    parser = etree.XMLPullParser(events=("start", "end"), tag=(_SHEET, _ROW),
                                 resolve_entities=False, no_network=True, load_dtd=False)
    cells = text = 0
    sheet = _Sheet()
    try:
        for chunk in chunks:
            parser.feed(chunk)
            for event, element in parser.read_events():
                if element.tag == _SHEET:
                    if event == "end":
                        cells += sheet.cells()
                        element.clear()
                    sheet = _Sheet()
                    continue
                if event == "end":
                    text += _row(element, sheet, where)
                    element.clear()
                    parent = element.getparent()
                    while parent is not None and element.getprevious() is not None:
                        del parent[0]
            _check(cells + sheet.cells(), text, where)
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise FatalSourceError(f"{where}: its content.xml is not well-formed XML ({exc}); "
                               "the file was not opened.") from exc


def _row(row: etree._Element, sheet: _Sheet, where: str) -> int:
    """Add ``row`` to ``sheet``'s extent; the characters of text its cells hold."""
    repeats = _count(row.get(_ROWS_REPEATED))
    column = text = 0
    width = 0
    for cell in row:
        if cell.tag not in _CELLS:
            continue
        span = _count(cell.get(_COLUMNS_REPEATED))
        column += span
        if any(cell.get(name) is not None for name in _VALUE_ATTRIBUTES) or len(cell):
            width = column
            text += _cell_text(cell, where) * span * repeats
    if width:
        if sheet.first is None:
            sheet.first = sheet.row
        sheet.last = sheet.row + repeats
        sheet.width = max(sheet.width, width)
    sheet.row += repeats
    return text


def _cell_text(cell: etree._Element, where: str) -> int:
    value = cell.get(_STRING_VALUE)
    length = len(value) if value is not None else sum(
        (_count(node.get(_SPACE_COUNT)) if node.tag == _SPACES else len(node.text or ""))
        + len(node.tail or "") for node in cell.iter() if node is not cell)
    if length > MAX_CELL_CHARS:
        raise FatalSourceError(f"{where}: a cell holds {length:,} characters, over the limit "
                               f"of {MAX_CELL_CHARS:,} that spreadsheet programs keep; the "
                               "workbook was not read (a damaged file, or not one a "
                               "spreadsheet program wrote).")
    return length


def _count(value: str | None) -> int:
    try:
        return max(int(value), 1) if value else 1
    except ValueError:
        return 1


def _check(cells: int, text: int, where: str) -> None:
    if cells > MAX_GRID_CELLS:
        raise FatalSourceError(
            f"{where}: its sheets span {cells:,} cells laid out as grids (repeated rows and "
            f"columns counted), over the limit of {MAX_GRID_CELLS:,}; the workbook was not "
            "read. Delete the stray cells far from the data, or export the customers as CSV.")
    if text > MAX_TEXT_CHARS:
        raise FatalSourceError(
            f"{where}: its cells hold {text:,} characters of text (repeats counted), over the "
            f"limit of {MAX_TEXT_CHARS:,}; the workbook was not read.")
