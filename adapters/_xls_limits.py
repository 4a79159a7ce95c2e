"""Limits an Excel 97-2003 (.xls, BIFF8) file must keep before calamine opens it.

An .xls file is an OLE2 compound file whose ``Workbook`` stream holds BIFF8 records.
calamine parses every sheet of it when the workbook is opened (not only the one read),
and trusts what the records say. What a hostile file can make it do, and the check here
for each (all before calamine sees the file):

* reserve memory for the sheet its ``DIMENSIONS`` record declares (rows are 32-bit: a
  declared 4 billion rows is an abort, not an exception): declared extents must lie in
  the BIFF8 grid, 65,536 rows by 256 columns;
* lay each sheet out as a grid of 32-byte cells spanning its farthest cells (columns are
  16-bit in the records, so two cells make a 65,536 x 65,536 grid, 137 GB): the real
  extent of the value cells and of the formula cells, summed over every sheet, is at
  most ``MAX_GRID_CELLS``, as for XLSX;
* copy a shared string into every cell that names it (a 10 MB file of 14-byte
  references to one 32,767-character string is 20 GB of text): the characters the cells
  will hold, counted through the shared strings, are at most ``MAX_TEXT_CHARS``, and no
  string is over Excel's 32,767;
* allocate what the container's header and directory declare (stream, directory and
  table sizes): each must fit in the file, and sector chains must neither loop nor point
  past its end;
* size its shared-string table by the count the ``SST`` record declares: the count must
  fit in the record's bytes; and index past a ``MERGECELLS`` or ``MULRK`` record's end
  (a panic): their lengths must match their counts.

The file itself is at most ``MAX_XLS_BYTES`` (50 MB; a full BIFF8 sheet of 65,536 rows of
ten columns is about 10 MB): calamine holds the whole file and the stream in memory.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from adapters._table import MAX_CELL_CHARS
from adapters._workbook_limits import MAX_GRID_CELLS, MAX_TEXT_CHARS, MB, mb
from hub.errors import FatalSourceError

MAX_XLS_BYTES = 50 * MB
BIFF8_ROWS, BIFF8_COLUMNS = 65_536, 256
_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END, _FREE = 0xFFFFFFFE, 0xFFFFFFFF
_MINI_CUTOFF = 4096

# BIFF8 record types read here.
_EOF, _BOF, _CONTINUE, _FILEPASS, _BOUNDSHEET, _SST = 0x000A, 0x0809, 0x003C, 0x002F, \
    0x0085, 0x00FC
_DIMENSIONS, _MERGECELLS, _MULRK, _FORMULA, _STRING = 0x0200, 0x00E5, 0x00BD, 0x0006, 0x0207
_NUMBER, _LABEL, _BOOLERR, _RK, _LABELSST = 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD
_PLACED = frozenset({_NUMBER, _LABEL, _BOOLERR, _RK, _LABELSST})


class _Damaged(Exception):
    """The container or a record is not what it claims to be."""


def check_xls(path: Path) -> None:
    """Refuse ``path`` unless calamine can open it within the limits above."""
    where = str(path)
    size = path.stat().st_size
    if size > MAX_XLS_BYTES:
        raise FatalSourceError(f"{where}: the file is {mb(size)}, over the limit of "
                               f"{mb(MAX_XLS_BYTES)} for an .xls workbook; save it as XLSX "
                               "or export the customers as CSV.")
    data = path.read_bytes()
    try:
        stream = _workbook_stream(data)
        _check_biff(stream, where)
    except _Damaged as exc:
        raise FatalSourceError(f"{where}: cannot be read as an Excel 97-2003 (.xls) "
                               f"workbook: {exc}; the file was not opened.") from exc
    except (struct.error, IndexError) as exc:
        raise FatalSourceError(f"{where}: cannot be read as an Excel 97-2003 (.xls) "
                               "workbook: a record ends early; the file was not opened."
                               ) from exc


# -- the OLE2 container ----------------------------------------------------------------------


def _workbook_stream(data: bytes) -> bytes:
    if not data.startswith(_SIGNATURE) or len(data) < 512:
        raise _Damaged("no OLE2 signature")
    (major, shift, mini_shift, dir_count, fat_count, dir_start, mini_fat_start,
     mini_fat_count, difat_start, difat_count) = _header(data)
    if (major, shift) not in ((3, 9), (4, 12)) or mini_shift != 6:
        raise _Damaged(f"unknown version {major} with {1 << min(shift, 30)}-byte sectors")
    sector = 1 << shift
    sectors = (len(data) - sector + sector - 1) // sector
    for count, what in ((fat_count, "FAT"), (dir_count, "directory"),
                        (mini_fat_count, "mini FAT"), (difat_count, "DIFAT")):
        if count > sectors:
            raise _Damaged(f"its header declares {count:,} {what} sectors in a file of "
                           f"{sectors:,}")
    fat = _fat(data, sector, sectors, difat_start)
    directory = _chain(data, sector, fat, dir_start)
    entries = [_entry(directory[i:i + 128], major) for i in range(0, len(directory), 128)]
    if not entries:
        raise _Damaged("its directory is empty")
    for name, _, _, length in entries:
        if length > len(data):
            raise _Damaged(f"its stream {name!r} declares {length:,} bytes in a file of "
                           f"{len(data):,}")
    found = next((e for e in entries if e[0] in ("Workbook", "Book") and e[1] == 2), None)
    if found is None:
        raise _Damaged("it has no Workbook stream")
    _, _, start, length = found
    if length >= _MINI_CUTOFF:
        return _chain(data, sector, fat, start)[:length]
    mini = _chain(data, sector, fat, entries[0][2])[:entries[0][3]]
    mini_fat = _u32s(_chain(data, sector, fat, mini_fat_start))
    return b"".join(mini[s * 64:s * 64 + 64] for s in _walk(mini_fat, start,
                                                               len(mini) // 64))[:length]


def _header(data: bytes) -> tuple[int, ...]:
    major, _order, shift, mini_shift = struct.unpack_from("<HHHH", data, 0x1A)
    dir_count, fat_count, dir_start = struct.unpack_from("<III", data, 0x28)
    mini_fat_start, mini_fat_count, difat_start, difat_count = struct.unpack_from(
        "<IIII", data, 0x3C)
    return (major, shift, mini_shift, dir_count, fat_count, dir_start, mini_fat_start,
            mini_fat_count, difat_start, difat_count)


def _sector(data: bytes, sector: int, sid: int) -> bytes:
    start = (sid + 1) * sector
    if start >= len(data):
        raise _Damaged(f"a sector chain points past the end of the file (sector {sid})")
    return data[start:start + sector]


def _fat(data: bytes, sector: int, sectors: int, difat_start: int) -> list[int]:
    ids = [i for i in _u32s(data[0x4C:0x200]) if i not in (_FREE, _END)]
    sid, seen = difat_start, set()
    while sid not in (_FREE, _END):
        if sid in seen:
            raise _Damaged("its DIFAT chain loops")
        seen.add(sid)
        block = _u32s(_sector(data, sector, sid))
        ids += [i for i in block[:-1] if i not in (_FREE, _END)]
        sid = block[-1]
    if len(ids) > sectors:
        raise _Damaged("its FAT is larger than the file")
    return [entry for sid in ids for entry in _u32s(_sector(data, sector, sid))]


def _walk(fat: list[int], start: int, limit: int) -> list[int]:
    """The sectors of the chain from ``start``; a loop or an index past ``fat`` is damage."""
    chain: list[int] = []
    sid = start
    while sid not in (_END, _FREE):
        if sid >= len(fat) or len(chain) > limit:
            raise _Damaged("a sector chain loops or points past the end of the file")
        chain.append(sid)
        sid = fat[sid]
    return chain


def _chain(data: bytes, sector: int, fat: list[int], start: int) -> bytes:
    return b"".join(_sector(data, sector, sid) for sid in _walk(fat, start, len(data) // sector))


def _entry(raw: bytes, major: int) -> tuple[str, int, int, int]:
    """(name, type, first sector, size) of a 128-byte directory entry."""
    if len(raw) < 128:
        raise _Damaged("a directory entry is cut short")
    name_bytes = min(struct.unpack_from("<H", raw, 64)[0], 64)
    name = raw[:name_bytes].decode("utf-16-le", errors="replace").rstrip("\0")
    start, low, high = struct.unpack_from("<III", raw, 116)
    return name, raw[66], start, low if major == 3 else low | high << 32


def _u32s(raw: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(raw) // 4}I", raw[:len(raw) // 4 * 4]))


# -- BIFF8 records ---------------------------------------------------------------------------


@dataclass
class _Totals:
    cells: int = 0
    text: int = 0
    strings: list[int] = field(default_factory=list)   # each shared string's characters


def _records(stream: bytes, at: int) -> list[tuple[int, bytes]]:
    """The records of the substream starting at ``at``, through its EOF."""
    out = []
    while at + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, at)
        out.append((kind, stream[at + 4:at + 4 + length]))
        at += 4 + length
        if kind == _EOF:
            break
    return out


def _check_biff(stream: bytes, where: str) -> None:
    totals = _Totals()
    globals_ = _records(stream, 0)
    offsets = []
    for i, (kind, data) in enumerate(globals_):
        if kind == _FILEPASS:
            raise FatalSourceError(f"{where}: is encrypted (password-protected); save it "
                                   "without a password, or export it as CSV.")
        if kind == _BOUNDSHEET:
            offsets.append(struct.unpack_from("<I", data)[0])
        if kind == _SST:
            totals.strings = _shared_strings(globals_, i, where)
    for offset in offsets:
        if offset >= len(stream):
            raise _Damaged(f"a sheet starts at {offset:,}, past the end of the stream")
        _check_sheet(_records(stream, offset), totals, where)
    if totals.cells > MAX_GRID_CELLS:
        raise FatalSourceError(
            f"{where}: its sheets' cells span {totals.cells:,} cells laid out as grids, over "
            f"the limit of {MAX_GRID_CELLS:,}; the workbook was not read. Delete the stray "
            "cells far from the data, or export the customers as CSV.")
    if totals.text > MAX_TEXT_CHARS:
        raise FatalSourceError(
            f"{where}: its cells hold {totals.text:,} characters of text, over the limit of "
            f"{MAX_TEXT_CHARS:,}; the workbook was not read (a damaged file, or one built to "
            "repeat a long text in many cells).")


class _Extent:
    def __init__(self) -> None:
        self.rows: list[int] = []
        self.columns: list[int] = []

    def add(self, row: int, first: int, last: int | None = None) -> None:
        self.rows.append(row)
        self.columns += [first, first if last is None else last]
        if len(self.rows) > 4096:   # keep the extremes only
            self.rows = [min(self.rows), max(self.rows)]
            self.columns = [min(self.columns), max(self.columns)]

    def cells(self) -> int:
        if not self.rows:
            return 0
        return (max(self.rows) - min(self.rows) + 1) * (max(self.columns) - min(self.columns)
                                                         + 1)


def _check_sheet(records: list[tuple[int, bytes]], totals: _Totals, where: str) -> None:
    values, formulas = _Extent(), _Extent()
    for kind, data in records:
        if kind == _DIMENSIONS:
            _check_dimensions(data, where)
        elif kind in _PLACED:
            row, column = struct.unpack_from("<HH", data)
            values.add(row, column)
            totals.text += _text(kind, data, totals.strings, where)
        elif kind == _MULRK:
            row, first = struct.unpack_from("<HH", data)
            last = struct.unpack_from("<H", data, len(data) - 2)[0]
            if last < first or len(data) != 6 + 6 * (last - first + 1):
                raise _Damaged("a MULRK record's length does not match its columns")
            values.add(row, first, last)
        elif kind == _FORMULA:
            row, column = struct.unpack_from("<HH", data)
            values.add(row, column)
            formulas.add(row, column)
        elif kind == _STRING:
            totals.text += _counted(struct.unpack_from("<H", data)[0], where)
        elif kind == _MERGECELLS and len(data) < 2 + 8 * struct.unpack_from("<H", data)[0]:
            raise _Damaged("a MERGECELLS record is shorter than its count")
    totals.cells += values.cells() + formulas.cells()


def _check_dimensions(data: bytes, where: str) -> None:
    if len(data) == 14:
        _, rows, _, columns = struct.unpack_from("<IIHH", data)
    else:
        _, rows, _, columns = struct.unpack_from("<HHHH", data)
    if rows > BIFF8_ROWS or columns > BIFF8_COLUMNS:
        raise FatalSourceError(
            f"{where}: a sheet declares {rows:,} rows by {columns:,} columns, beyond the "
            f"{BIFF8_ROWS:,} by {BIFF8_COLUMNS} an .xls sheet holds; the workbook was not "
            "read (a damaged file, or not one a spreadsheet program wrote).")


def _text(kind: int, data: bytes, strings: list[int], where: str) -> int:
    if kind == _LABEL:
        return _counted(struct.unpack_from("<H", data, 6)[0], where)
    if kind == _LABELSST:
        index = struct.unpack_from("<I", data, 6)[0]
        return strings[index] if index < len(strings) else 0
    return 0


def _counted(chars: int, where: str) -> int:
    if chars > MAX_CELL_CHARS:
        raise FatalSourceError(f"{where}: a cell holds {chars:,} characters, over the limit "
                               f"of {MAX_CELL_CHARS:,} that Excel itself keeps; the workbook "
                               "was not read (a damaged file, or not one a spreadsheet "
                               "program wrote).")
    return chars


def _shared_strings(records: list[tuple[int, bytes]], at: int, where: str) -> list[int]:
    """Each shared string's length in characters, read across the SST's CONTINUE records."""
    segments = [records[at][1]]
    for kind, data in records[at + 1:]:
        if kind != _CONTINUE:
            break
        segments.append(data)
    reader = _Segments(segments)
    reader.take(4)
    declared = struct.unpack("<I", reader.take(4))[0]
    if declared > sum(map(len, segments)) // 3:   # a string takes 3 bytes at least
        raise _Damaged(f"its shared-string table declares {declared:,} strings, more than "
                       "its bytes can hold")
    return [_counted(reader.string(), where) for _ in range(declared)]


class _Segments:
    """A cursor over an SST record and its CONTINUE records."""

    def __init__(self, segments: list[bytes]) -> None:
        self.segments, self.index, self.at = segments, 0, 0

    def _next(self) -> None:
        self.index, self.at = self.index + 1, 0
        if self.index >= len(self.segments):
            raise _Damaged("its shared-string table ends early")

    def take(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            if self.at >= len(self.segments[self.index]):
                self._next()
            piece = self.segments[self.index][self.at:self.at + n - len(out)]
            self.at += len(piece)
            out += piece
        return out

    def string(self) -> int:
        """Step over one XLUnicodeRichExtendedString; its length in characters."""
        if self.at >= len(self.segments[self.index]):
            self._next()
        chars, flags = struct.unpack("<HB", self.take(3))
        runs = int(struct.unpack("<H", self.take(2))[0]) if flags & 0x08 else 0
        extra = int(struct.unpack("<I", self.take(4))[0]) if flags & 0x04 else 0
        chars = int(chars)
        left, wide = chars, bool(flags & 0x01)
        while left:
            if self.at >= len(self.segments[self.index]):
                self._next()
                wide = bool(self.take(1)[0] & 0x01)   # each continuation restates it
            room = (len(self.segments[self.index]) - self.at) // (2 if wide else 1)
            step = min(left, max(room, 0))
            if step == 0:
                self._next()
                wide = bool(self.take(1)[0] & 0x01)
                continue
            self.take(step * (2 if wide else 1))
            left -= step
        self.take(4 * runs)
        self.take(extra)
        return chars
