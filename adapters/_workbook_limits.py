"""Limits an XLSX file must keep before any reader builds it (findings H3, R1, L9).

An XLSX file is a zip of XML parts. A few kilobytes of it can inflate to gigabytes (a zip
bomb), hold one cell of a billion characters, or place two cells at opposite corners of
the grid, which a reader laying the sheet out as a grid (calamine does) turns into
17 billion cells. So, before the workbook is opened:

* the package: the file and the sum of its parts' declared sizes are at most 1 GB
  (Excel's own 1,048,576 rows of ten columns are about 450 MB of sheet XML), and no part
  over 10 MB inflates more than 100 times (small XML parts legitimately compress better
  than that; a bomb needs size to do harm);
* every part a reader inflates (all but the sheets not read) is inflated here first, in
  a stream, counting what really comes out: a part that inflates past its declared size
  is refused, so a lying zip directory is caught too;
* no text in them is over 32,767 characters, Excel's own limit for a cell (a shared
  string made of several runs counts whole);
* no sheet reaches past Excel's 1,048,576 rows and 16,384 columns, and no row is over
  16 MB of XML (what bounds the memory of a streamed sheet, read one row at a time);
* for a sheet calamine reads (its part and the shared strings at most
  ``STREAM_FROM_BYTES``; larger ones are streamed, see ``adapters._xlsx_stream``): its
  real extent, from the positions of the cells it holds, never from its declared
  ``<dimension>`` or ``<col>`` ranges, spans at most 10 million cells. Laid out as a grid
  that is about 300 MB (calamine keeps 32 bytes a cell; measured 306 MB for a
  10-million-cell extent). And the text its cells will hold, counting each reference to a
  shared string as a copy (calamine copies it into the cell), is at most
  ``MAX_TEXT_CHARS``: 20 MB of references to one long shared string would otherwise be
  tens of gigabytes.

It also tells what a file named .xlsx is when it is not a zip: an encrypted workbook (an
OLE2 container holding an ``EncryptedPackage``) or an old .xls under a new name.
"""

from __future__ import annotations

import operator
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from adapters._table import MAX_CELL_CHARS
from hub.errors import FatalSourceError

MB = 1_000_000
MAX_TOTAL_BYTES = 1000 * MB
# A sheet part or shared-strings part larger than this is streamed, not given to calamine:
# calamine's memory grows with the sheet (measured: 466 MB for 500,000 rows of ten
# columns, 250 MB of XML), the stream's does not. 20 MB of sheet XML is some 40,000 rows of
# ten columns, about 40 MB in calamine.
STREAM_FROM_BYTES = 20 * MB
MAX_TEXT_CHARS = 100_000_000
MAX_ROW_XML = 16 * MB
MAX_RATIO = 100
RATIO_FROM_BYTES = 10 * MB
MAX_GRID_CELLS = 10_000_000
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CHUNK = 1 << 20
# Every character costs at least one byte, and none more than 10 ("&#x10FFFF;"): a text
# of fewer bytes is short enough, one of more is too long whatever it holds.
_LONG_TEXT = re.compile(rb">([^<]{%d,})" % (MAX_CELL_CHARS + 1))
_SURE_TOO_LONG = 10 * (MAX_CELL_CHARS + 1)
_ESCAPE = re.compile(r"&#?\w+;|_x[0-9A-Fa-f]{4}_")   # each stands for one character
# A cell's position. Only cells have an ``r`` holding letters and digits, and a pattern
# led by a literal runs fast; were another attribute ending in "r" to match, it would only
# make the extent larger, never hide a cell.
_CELL_REF = re.compile(rb'r="([A-Z]{1,3})([0-9]{1,7})"')
# A cell without a position: readers place it after the cell before it.
_UNPLACED_CELL = re.compile(rb'<c(?=[\s/>])(?![^>]*\sr=")')
_UNPLACED_PREFIXED_CELL = re.compile(rb'<[\w.-]+:c(?=[\s/>])(?![^>]*\sr=")')
_ROW_OR_CELL = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb'\sr="([A-Z]*)([0-9]*)"')
_SHARED_ITEM = re.compile(rb"<(?:[\w.-]+:)?si[\s>].*?</(?:[\w.-]+:)?si>", re.DOTALL)
_PHONETIC = re.compile(rb"<(?:[\w.-]+:)?rPh[\s>].*?</(?:[\w.-]+:)?rPh>", re.DOTALL)
_TAG = re.compile(rb"<[^>]*>")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_OFFICE_DOCUMENT = "/officeDocument"
_ROW_START = re.compile(rb"<(?:[\w.-]+:)?row[\s>/]")
_SHARED_CELL = re.compile(rb'\st="s"[^>]*>\s*<(?:[\w.-]+:)?v>\s*([0-9]+)')
_MERGE = re.compile(rb'<(?:[\w.-]+:)?mergeCell\s[^>]*ref="([A-Z]+)([0-9]+):([A-Z]+)([0-9]+)"')
_SHEET_KINDS = {"/worksheet": "worksheet", "/chartsheet": "chart", "/dialogsheet": "dialog",
                "/xlMacrosheet": "macro", "/macrosheet": "macro"}


@dataclass(frozen=True, slots=True)
class SheetInfo:
    """A sheet as the workbook lists it."""

    name: str
    kind: str      # worksheet, chart, dialog, macro
    state: str     # visible, hidden, veryHidden


@dataclass(frozen=True, slots=True)
class Package:
    """Where the parts to check are, read from the package's relationships."""

    sheets: dict[str, str]      # worksheet name -> part name
    shared_strings: str | None
    listed: tuple[SheetInfo, ...] = ()   # every sheet, in workbook order
    styles: str | None = None
    date1904: bool = False


@dataclass(frozen=True, slots=True)
class SheetScan:
    """What the scan of a sheet part found: its real extent and its merged ranges
    (0-based, inclusive: ((top, left), (bottom, right)), as calamine gives them)."""

    rows: int
    columns: int
    merged: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = ()


def check_container(path: Path) -> None:
    """Refuse what is no zip at all, with what it is instead: empty, encrypted, .xls."""
    size = path.stat().st_size
    if size == 0:
        raise FatalSourceError(f"{path}: the file is empty.")
    if size > MAX_TOTAL_BYTES:
        raise FatalSourceError(f"{path}: the file is {_mb(size)}, over the limit of "
                               f"{_mb(MAX_TOTAL_BYTES)} for a workbook; export the customers "
                               "in parts, or as CSV.")
    with path.open("rb") as handle:
        header = handle.read(512)
        if not header.startswith(_OLE2):
            return
        # An OLE2 file names its streams in UTF-16 in its directory, which starts at the
        # sector the header gives; look there and near the start.
        directory = header + handle.read(_CHUNK)
        shift = int.from_bytes(header[0x1E:0x20], "little")
        if 7 <= shift <= 16:
            handle.seek((int.from_bytes(header[0x30:0x34], "little") + 1) << shift)
            directory += handle.read(64 << 10)
    if "EncryptedPackage".encode("utf-16-le") in directory:
        raise FatalSourceError(f"{path}: is encrypted (password-protected); save it without "
                               "a password, or export it as CSV.")
    raise FatalSourceError(f"{path}: is an Excel 97-2003 (.xls) workbook with an .xlsx name; "
                           "open it in Excel or LibreOffice and save it as XLSX.")


def check_zip(book: zipfile.ZipFile, where: str, limit: int = MAX_TOTAL_BYTES) -> None:
    """The declared sizes, before anything is inflated (XLSX and ODS alike)."""
    infos = book.infolist()
    total = sum(info.file_size for info in infos)
    if total > limit:
        raise FatalSourceError(
            f"{where}: its parts add up to {_mb(total)} uncompressed, over the limit of "
            f"{_mb(limit)}; the file was not opened (a damaged file or a zip bomb; "
            "a customer export is far smaller).")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            raise FatalSourceError(
                f"{where}: its part {info.filename} inflates {ratio:,.0f} times "
                f"({_mb(info.compress_size)} to {_mb(info.file_size)}), over the limit of "
                f"{MAX_RATIO} times; the file was not opened (a zip bomb or a damaged file).")


def check_package(book: zipfile.ZipFile, where: str) -> Package:
    """``check_zip``; then where the parts are."""
    check_zip(book, where)
    return _locate(book)


def check_declared_sizes(book: zipfile.ZipFile, handle: BinaryIO, parts: Package,
                         where: str) -> None:
    """Every part a reader may inflate when it opens the workbook (all but the sheets and
    the shared strings, checked apart) inflates to no more than it declares."""
    skip = {*parts.sheets.values(), parts.shared_strings}
    for info in book.infolist():
        if info.filename not in skip and not info.is_dir():
            for _ in _inflate(book, handle, info.filename, where):
                pass


def check_shared_strings(book: zipfile.ZipFile, handle: BinaryIO, part: str,
                         where: str) -> array[int]:
    """No shared string over the cell limit (its runs counted together); the length of
    each in bytes of XML, an upper bound of its characters (for ``check_sheet``)."""
    carry = b""
    lengths = array("I")
    for chunk in _inflate(book, handle, part, where):
        block, end = carry + chunk, 0
        for item in _SHARED_ITEM.finditer(block):
            end = item.end()
            lengths.append(end - item.start())
            if end - item.start() > MAX_CELL_CHARS:
                _check_text(_TAG.sub(b"", _PHONETIC.sub(b"", item.group())), where)
        carry = block[end:]
        if len(carry) > _SURE_TOO_LONG:   # a string still open, maybe too long already
            _check_text(_TAG.sub(b"", _PHONETIC.sub(b"", carry)), where)
            if len(carry) > 16 * MB:
                raise FatalSourceError(f"{where}: its shared strings hold one over 16 MB of "
                                       "XML; the workbook was not read (a damaged file).")
    return lengths


def check_sheet(book: zipfile.ZipFile, handle: BinaryIO, part: str, where: str,
                strings: array[int] | None = None, grid: bool = True) -> SheetScan:
    """No text over the cell limit; with ``grid`` (a sheet calamine reads), a real extent
    within MAX_GRID_CELLS and, through ``strings`` (``check_shared_strings``), cell text
    within MAX_TEXT_CHARS. Returns the extent and the merged ranges."""
    rows = columns = shared = 0
    unplaced = False
    carry = b""
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = []
    spans = _RowSpans(where)
    for chunk in _inflate(book, handle, part, where):
        block = carry + chunk
        cut = _cut_after_tag(block)
        spans.add(block, cut, len(carry))
        for text in _LONG_TEXT.findall(block, 0, cut):
            _check_text(text, where)
        if found := _CELL_REF.findall(block, 0, cut):
            columns = max(columns, *map(_column, set(map(_first, found))))
            rows = max(rows, max(map(int, map(_second, found))))
        unplaced = unplaced or _unplaced(block, cut)
        shared += block.count(b' t="s"', 0, cut)
        merged += [((int(r1) - 1, _column(c1) - 1), (int(r2) - 1, _column(c2) - 1))
                   for c1, r1, c2, r2 in _MERGE.findall(block, 0, cut)]
        # Keep the '>' before the rest: a long text after it is found in the next block.
        carry = block[max(cut - 1, 0):]
        _check_open_text(carry, where)
    spans.end()
    if unplaced:   # some cells have no position: count them as a reader does
        rows, columns = _extent_by_counting(book, handle, part, where)
    if rows > EXCEL_ROWS or columns > EXCEL_COLUMNS:
        raise FatalSourceError(
            f"{where}: its cells reach row {rows:,} and column {columns:,}, beyond the "
            f"{EXCEL_ROWS:,} rows by {EXCEL_COLUMNS:,} columns of a sheet; the workbook was "
            "not read (a damaged file, or not one a spreadsheet program wrote).")
    if grid:
        _check_grid(rows, columns, where)
        if strings and shared * max(strings) > MAX_TEXT_CHARS:
            _check_copies(book, handle, part, where, strings)
    return SheetScan(rows, columns, tuple(merged))


class _RowSpans:
    """No row of a sheet over MAX_ROW_XML bytes of XML: a streaming reader holds one row
    at a time, so this is what bounds it (16,384 cells of 32,767 characters would be
    half a gigabyte in one row)."""

    def __init__(self, where: str) -> None:
        self.where, self.read, self.last = where, 0, 0

    def add(self, block: bytes, cut: int, carried: int) -> None:
        start = self.read - carried   # where ``block`` starts in the part
        for found in _ROW_START.finditer(block, 0, cut):
            self._check(start + found.start())
        self.read = start + len(block)

    def end(self) -> None:
        self._check(self.read)

    def _check(self, at: int) -> None:
        if at - self.last > MAX_ROW_XML:
            raise FatalSourceError(
                f"{self.where}: a row holds {_mb(at - self.last)} of XML, over the limit of "
                f"{_mb(MAX_ROW_XML)} for one row; the workbook was not read (a damaged file, "
                "or not one a spreadsheet program wrote).")
        self.last = at


def _check_grid(rows: int, columns: int, where: str) -> None:
    if rows * columns > MAX_GRID_CELLS:
        raise FatalSourceError(
            f"{where}: its cells span {rows:,} rows by {columns:,} columns "
            f"({rows * columns:,} cells laid out as a grid), over the limit of "
            f"{MAX_GRID_CELLS:,}; the workbook was not read. Delete the stray cells far from "
            "the data, or export the customers as CSV.")


def _check_copies(book: zipfile.ZipFile, handle: BinaryIO, part: str, where: str,
                  strings: array[int]) -> None:
    """The text the cells hold, each shared string counted once per cell naming it."""
    total, carry = 0, b""
    for chunk in _inflate(book, handle, part, where):
        block = carry + chunk
        cut = _cut_after_tag(block)
        total += sum(strings[i] for i in map(int, _SHARED_CELL.findall(block, 0, cut))
                     if i < len(strings))
        carry = block[cut:]
    if total > MAX_TEXT_CHARS:
        raise FatalSourceError(
            f"{where}: its cells hold {total:,} characters of text, over the limit of "
            f"{MAX_TEXT_CHARS:,}; the workbook was not read (a damaged file, or one built to "
            "repeat a long text in many cells).")


# -- inflating a part -----------------------------------------------------------------------


def _inflate(book: zipfile.ZipFile, handle: BinaryIO, part: str, where: str
             ) -> Iterator[bytes]:
    """The part's bytes in chunks, from its compressed data: a part that inflates past its
    declared size is refused (zipfile itself would stop there and hide the rest)."""
    info = book.getinfo(part)
    handle.seek(info.header_offset)
    local = handle.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04" or info.flag_bits & 1:
        raise FatalSourceError(f"{where}: its part {part} is damaged or encrypted.")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    if info.compress_type == zipfile.ZIP_STORED:
        yield from _stored(handle, info.compress_size)
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise FatalSourceError(f"{where}: its part {part} is compressed with method "
                               f"{info.compress_type}, which workbooks do not use.")
    produced = 0
    try:
        for chunk in _deflated(handle, info.compress_size):
            produced += len(chunk)
            if produced > info.file_size:
                raise FatalSourceError(
                    f"{where}: its part {part} inflates past the {info.file_size:,} bytes it "
                    "declares; the file was not opened (a zip bomb or a damaged file).")
            yield chunk
    except zlib.error as exc:
        raise FatalSourceError(f"{where}: its part {part} is damaged ({exc}).") from exc


inflate = _inflate


def _stored(handle: BinaryIO, size: int) -> Iterator[bytes]:
    while size > 0 and (chunk := handle.read(min(size, _CHUNK))):
        size -= len(chunk)
        yield chunk


def _deflated(handle: BinaryIO, size: int) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    for data in _stored(handle, size):
        while data:
            yield inflater.decompress(data, _CHUNK)
            data = inflater.unconsumed_tail
    yield inflater.flush()


# -- what a block of XML holds ----------------------------------------------------------------


def _cut_after_tag(block: bytes) -> int:
    """Where whole tags end in ``block``: the rest waits for the next chunk."""
    return block.rfind(b">") + 1


def _check_text(raw: bytes, where: str) -> None:
    text = raw.decode("utf-8", errors="replace")
    length = len(text) - sum(len(m) - 1 for m in _ESCAPE.findall(text))
    if length > MAX_CELL_CHARS:
        raise FatalSourceError(_long_cell(where, f"{length:,}"))


def _check_open_text(carry: bytes, where: str) -> None:
    """A text still open at the end of what was read, already too long to be a cell."""
    if len(carry) > _SURE_TOO_LONG and b"<" not in carry[1:]:
        raise FatalSourceError(_long_cell(where, f"more than {len(carry) // 10:,}"))


def _long_cell(where: str, length: str) -> str:
    return (f"{where}: a cell holds {length} characters, over the limit of "
            f"{MAX_CELL_CHARS:,} that Excel itself keeps; the workbook was not read (a "
            "damaged file, or not one a spreadsheet program wrote).")


_first, _second = operator.itemgetter(0), operator.itemgetter(1)


def _unplaced(block: bytes, end: int) -> bool:
    """Whether a cell in ``block`` has no ``r``."""
    if _UNPLACED_CELL.search(block, 0, end):
        return True
    return b":c" in block and _UNPLACED_PREFIXED_CELL.search(block, 0, end) is not None


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _extent_by_counting(book: zipfile.ZipFile, handle: BinaryIO, part: str,
                        where: str) -> tuple[int, int]:
    """(rows, columns) when cells lack an ``r``: each row and cell without one comes
    right after the one before it, as readers place them."""
    row = column = rows = columns = 0
    carry = b""
    for chunk in _inflate(book, handle, part, where):
        block = carry + chunk
        cut = _cut_after_tag(block)
        for kind, attributes in _ROW_OR_CELL.findall(block, 0, cut):
            ref = _R_ATTR.search(attributes)
            if kind == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                column = 0
                continue
            if ref and ref.group(1):
                column, row = _column(ref.group(1)), int(ref.group(2) or row)
            else:
                column += 1
            rows, columns = max(rows, row), max(columns, column)
        carry = block[cut:]
    return rows, columns


# -- where the parts are --------------------------------------------------------------------


def _locate(book: zipfile.ZipFile) -> Package:
    """The worksheets' parts and the shared strings, by the package's relationships."""
    names = set(book.namelist())
    try:
        workbook = _target("", _relationships(book, "_rels/.rels"), _OFFICE_DOCUMENT)
        folder = workbook.rpartition("/")[0]
        rels = _relationships(book, f"{folder}/_rels/{workbook.rpartition('/')[2]}.rels")
        root = etree.fromstring(book.read(workbook), _PARSER)
    except (KeyError, etree.XMLSyntaxError, ValueError):
        # No readable map: check every sheet-like part, the reader will find its own.
        sheets = {name: name for name in names if "worksheets/" in name.lower()}
        shared = next((n for n in names if n.lower().endswith("sharedstrings.xml")), None)
        return Package(sheets, shared)
    sheets, listed = {}, []
    for sheet in root.iter("{*}sheet"):
        rid = next((v for k, v in sheet.attrib.items() if str(k).endswith("}id")), None)
        kind, target = rels.get(str(rid), ("", ""))
        listed.append(SheetInfo(str(sheet.get("name")), _kind(kind),
                                str(sheet.get("state", "visible"))))
        if rid in rels and (part := _resolve(folder, target)) in names:
            sheets[str(sheet.get("name"))] = part
    shared = next((_resolve(folder, target) for kind, target in rels.values()
                   if kind.endswith("/sharedStrings")), None)
    styles = next((_resolve(folder, target) for kind, target in rels.values()
                   if kind.endswith("/styles")), None)
    properties = next(root.iter("{*}workbookPr"), None)
    date1904 = properties is not None and properties.get("date1904") in ("1", "true")
    return Package(sheets, shared if shared in names else None, tuple(listed),
                   styles if styles in names else None, date1904)


def _kind(relationship: str) -> str:
    return next((kind for end, kind in _SHEET_KINDS.items() if relationship.endswith(end)),
                "worksheet")


def _relationships(book: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    root = etree.fromstring(book.read(part), _PARSER)
    return {str(r.get("Id")): (str(r.get("Type", "")), str(r.get("Target", "")))
            for r in root.iter("{*}Relationship")}


def _target(folder: str, rels: dict[str, tuple[str, str]], kind: str) -> str:
    for rel_kind, target in rels.values():
        if rel_kind.endswith(kind):
            return _resolve(folder, target)
    raise KeyError(kind)


def _resolve(folder: str, target: str) -> str:
    """A relationship's target as a part name: absolute, or relative to ``folder``."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = folder.split("/") if folder else []
    for piece in target.split("/"):
        if piece == "..":
            parts = parts[:-1]
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def mb(size: int) -> str:
    return _mb(size)


def _mb(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= MB else f"{size / 1000:,.0f} KB"
