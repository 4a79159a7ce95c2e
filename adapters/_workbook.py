"""Workbooks (XLSX, XLS, ODS), read with python-calamine once their limits passed, and
large XLSX sheets streamed.

Why calamine and not openpyxl (finding R2), with the measurements: see the docstring of
``adapters.spreadsheet``. calamine is not a streaming reader: it lays a sheet out as a
grid of 32-byte cells, so its memory is bounded by the limits checked before it runs
(``adapters._workbook_limits`` for XLSX, ``adapters._xls_limits``, ``adapters._ods_limits``);
an XLSX sheet too large for that is streamed (``adapters._xlsx_stream``).

What it gives, used here: sheet visibility and type (hidden sheets and chart sheets are
skipped unless named), merged ranges (for .xlsx and .xls; none for .ods), rows from the
first row of the sheet (columns from its first used column, padded back here), dates,
times and durations as Python values in the workbook's date system (the 1904 system of
Mac workbooks included), and Excel error values (#N/A, #DIV/0!...) as empty cells, so an
error is never taken as a value or a source id (finding L5).
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import python_calamine

from adapters._ods_limits import check_ods
from adapters._table import (
    MAX_CELL_CHARS,
    Row,
    Table,
    blank,
    column_names,
    find_header,
    json_safe,
)
from adapters._workbook_limits import (
    STREAM_FROM_BYTES,
    Package,
    SheetInfo,
    check_container,
    check_declared_sizes,
    check_package,
    check_shared_strings,
    check_sheet,
    inflate,
)
from adapters._xls_limits import check_xls
from adapters._xlsx_stream import SharedStrings, SheetRows, number_formats
from hub.errors import FatalSourceError

# calamine's enums are not hashable: a list of pairs, not a dict.
_KINDS = [(python_calamine.SheetTypeEnum.ChartSheet, "chart"),
          (python_calamine.SheetTypeEnum.DialogSheet, "dialog"),
          (python_calamine.SheetTypeEnum.MacroSheet, "macro"),
          (python_calamine.SheetTypeEnum.Vba, "VBA")]


XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
WORKBOOK_SUFFIXES = XLSX_SUFFIXES | {".xls", ".ods"}
_HIDDEN = ("hidden", "veryHidden")


class Workbook:
    """One workbook file, checked against its limits and opened; ``table`` gives a sheet.

    Args:
        path: the file (.xlsx, .xlsm, .xls or .ods).
        wanted: ``options.sheet``: a name, several, ``"*"`` (every visible worksheet), or
            None (the first visible worksheet).
    """

    def __init__(self, path: Path, wanted: str | tuple[str, ...] | None) -> None:
        self.path, self.where = path, str(path)
        suffix = path.suffix.lower()
        self._book: python_calamine.CalamineWorkbook | None = None
        self._strings: SharedStrings | None = None
        self._styles: list[str] = []
        self._parts: Package | None = None
        self.streamed = False
        if suffix in XLSX_SUFFIXES:
            self.sheets = self._open_xlsx(wanted)
            return
        if suffix == ".xls":
            check_xls(path)
        else:
            check_ods(path)
        self._book = _load(path, suffix)
        listed = [SheetInfo(m.name, _kind(m.typ), _state(m.visible))
                  for m in self._book.sheets_metadata]
        self.sheets = pick_sheets(listed, wanted, self.where)

    def _open_xlsx(self, wanted: str | tuple[str, ...] | None) -> list[str]:
        # The zip is opened for each use and closed after it: a workbook kept for later
        # (the adapter's estimate keeps one for its extract) holds no file open.
        check_container(self.path)
        with self._package() as (package, handle):
            parts = self._parts = check_package(package, self.where)
            check_declared_sizes(package, handle, parts, self.where)
            listed = list(parts.listed) or [SheetInfo(n, "worksheet", "visible")
                                            for n in parts.sheets]
            sheets = pick_sheets(listed, wanted, self.where)
            shared = parts.shared_strings
            self._lengths = (check_shared_strings(package, handle, shared, self.where)
                             if shared else None)
            sizes = [package.getinfo(p).file_size
                     for p in [shared, *(parts.sheets.get(n) for n in sheets)] if p]
            self.streamed = max(sizes, default=0) > STREAM_FROM_BYTES and all(
                n in parts.sheets for n in sheets)   # no map to a part: calamine finds it
            if self.streamed:
                if shared:
                    self._strings = SharedStrings(inflate(package, handle, shared,
                                                          self.where))
                if parts.styles:
                    self._styles = number_formats(b"".join(
                        inflate(package, handle, parts.styles, self.where)))
        if not self.streamed:
            self._book = _load(self.path, ".xlsx")
        return sheets

    @contextlib.contextmanager
    def _package(self) -> Iterator[tuple[zipfile.ZipFile, BinaryIO]]:
        try:
            with zipfile.ZipFile(self.path) as package, self.path.open("rb") as handle:
                yield package, handle
        except zipfile.BadZipFile as exc:
            raise FatalSourceError(f"{self.path}: cannot be read as an XLSX workbook: "
                                   f"BadZipFile: {exc}") from exc

    def table(self, name: str, header_row: int | None) -> Table:
        """Sheet ``name`` under its header (limits checked first, for an XLSX sheet). An
        empty sheet is an error when it is the only one read, and has no rows else."""
        where = f"{self.path} sheet {name}"
        empty = Table(f"{self.path.name} sheet {name}", [], 0, iter(()), 0, 0)
        if self._parts is not None:
            with self._package() as (package, handle):
                scans = [check_sheet(package, handle, part, where, self._lengths,
                                     grid=not self.streamed)
                         for part in _parts_of(self._parts, name)]
            if self.streamed:
                scan = scans[0]
                if scan.rows == 0 and len(self.sheets) > 1:
                    return empty
                return _framed(self.path, name, self._stream(self._parts.sheets[name], where),
                               header_row, list(scan.merged), (scan.rows, scan.columns))
        assert self._book is not None
        grid = self._book.get_sheet_by_name(name)
        if grid.start is None and len(self.sheets) > 1:
            return empty
        return _table(self.path, grid, header_row)

    def _stream(self, part: str, where: str) -> Iterator[Row]:
        assert self._parts is not None
        with self._package() as (package, handle):
            yield from SheetRows(inflate(package, handle, part, where), self._strings,
                                 self._styles, self._parts.date1904)

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
        if self._strings is not None:
            self._strings.close()
        self._book = self._strings = None


def _load(path: Path, suffix: str) -> python_calamine.CalamineWorkbook:
    name = {".xls": "an Excel 97-2003 (.xls)", ".ods": "an OpenDocument (.ods)"}.get(
        suffix, "an XLSX")
    try:
        return python_calamine.load_workbook(path)
    except python_calamine.PasswordError as exc:
        raise FatalSourceError(f"{path}: is encrypted (password-protected); save it without "
                               "a password, or export it as CSV.") from exc
    except OSError:
        raise
    except Exception as exc:  # CalamineError, ZipError, XmlError...: a damaged file
        raise FatalSourceError(f"{path}: cannot be read as {name} workbook: "
                               f"{type(exc).__name__}: {exc}") from exc
    except BaseException as exc:   # a Rust panic (pyo3's PanicException) on a damaged file
        if type(exc).__name__ != "PanicException":
            raise
        raise FatalSourceError(f"{path}: cannot be read as {name} workbook: the reader "
                               f"failed ({exc}).") from exc


def _parts_of(parts: Package, name: str) -> list[str]:
    """The part to check for sheet ``name``; every sheet part when the map lacks it."""
    if name in parts.sheets:
        return [parts.sheets[name]]
    return sorted(set(parts.sheets.values()))


def pick_sheets(listed: list[SheetInfo], wanted: str | tuple[str, ...] | None,
                where: str) -> list[str]:
    """The sheets to read, in the order asked (``"*"`` and None: workbook order)."""
    worksheets = [s for s in listed if s.kind == "worksheet"]
    visible = [s.name for s in worksheets if s.state not in _HIDDEN]
    if wanted == "*":
        if not visible:
            raise FatalSourceError(f"{where}: has no visible worksheet; set options.sheet.")
        return visible
    if wanted is None:
        if not visible:
            raise FatalSourceError(f"{where}: has no visible worksheet; set options.sheet.")
        return visible[:1]
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    for name in names:   # hidden or not: a sheet named on purpose is read
        if name not in {s.name for s in worksheets}:
            _unknown(listed, worksheets, name, where)
    return names


def _unknown(listed: list[SheetInfo], worksheets: list[SheetInfo], name: str,
             where: str) -> None:
    for info in listed:
        if info.name == name:
            raise FatalSourceError(
                f"{where}: sheet {name!r} is a {info.kind} sheet, not a worksheet; set "
                "options.sheet to a worksheet.")
    known = ", ".join(repr(s.name) for s in worksheets)
    raise FatalSourceError(f"{where}: has no sheet {name!r}; its worksheets are {known}.")


def _kind(typ: python_calamine.SheetTypeEnum) -> str:
    return next((name for kind, name in _KINDS if kind == typ), "worksheet")


def _state(visible: python_calamine.SheetVisibleEnum) -> str:
    if visible == python_calamine.SheetVisibleEnum.Visible:
        return "visible"
    return "hidden"


def _table(path: Path, grid: python_calamine.CalamineSheet, header_row: int | None) -> Table:
    start, end = grid.start, grid.end
    if start is None or end is None:
        raise FatalSourceError(f"{path} sheet {grid.name}: the sheet is empty.")
    return _framed(path, grid.name, _raw_rows(grid, start[1]), header_row,
                   list(grid.merged_cell_ranges or []), (end[0] + 1, end[1] + 1))


def _framed(path: Path, name: str, rows: Iterator[Row], header_row: int | None,
            merged: list[tuple[tuple[int, int], tuple[int, int]]],
            extent: tuple[int, int]) -> Table:
    """A sheet's rows under its header. ``extent``: (rows, columns) of the sheet."""
    where = f"{path} sheet {name}"
    height, width = extent
    seen: dict[int, Sequence[Any]] = {}
    header = find_header(_kept(rows, seen), header_row, where)
    if header.number == 0:   # no header: every column by its position, as CSV rows get
        names, named_width = [f"column_{i}" for i in range(1, width + 1)], width
    else:
        cells = _spread_merged(merged, header, seen)
        names, named_width = column_names([json_safe(v) for v in cells])
    seen.clear()
    return Table(f"{path.name} sheet {name}", names, named_width,
                 (_converted(row) for row in rows), max(height - header.number, 0),
                 header.number)


def _raw_rows(grid: python_calamine.CalamineSheet, first_column: int) -> Iterator[Row]:
    """The sheet's rows from row 1, as calamine gives them."""
    pad: list[Any] = [""] * first_column   # calamine starts rows at the first used column
    for index, values in enumerate(grid.iter_rows()):
        yield Row(index + 1, pad + values if pad else values)


def _kept(rows: Iterator[Row], seen: dict[int, Sequence[Any]]) -> Iterator[Row]:
    """``rows``, each also kept in ``seen``: a merged header cell takes its value from
    the range's top row, which may be above the header."""
    for row in rows:
        seen[row.number] = row.values
        yield row


def _converted(row: Row) -> Row:
    # Most cells are text: only the others need converting.
    values = [v if type(v) is str and v else json_safe(v) for v in row.values]
    longest = max((len(v) for v in values if isinstance(v, str)), default=0)
    if longest > MAX_CELL_CHARS:   # text in several runs, which the limits scan counts apart
        return Row(row.number, values, f"row {row.number} has a cell of {longest:,} "
                                       f"characters; a cell holds at most {MAX_CELL_CHARS:,}, "
                                       "so the row was set aside")
    return Row(row.number, values, row.problem)


def _spread_merged(ranges: Sequence[tuple[tuple[int, int], tuple[int, int]]], header: Row,
                   seen: dict[int, Sequence[Any]]) -> list[Any]:
    """Give every column a merged header cell spans its value (suffixed _2, _3...)."""
    cells: list[Any] = list(header.values)
    for (top, left), (bottom, right) in ranges:   # 0-based, inclusive
        if not top + 1 <= header.number <= bottom + 1:
            continue
        source = seen.get(top + 1, ())
        value = source[left] if left < len(source) else None
        if blank(value):
            continue
        # A range may reach past the last used column: its columns are named all the same.
        cells.extend([""] * (right + 1 - len(cells)))
        for col in range(left, right + 1):
            k = col - left + 1
            cells[col] = value if k == 1 else f"{json_safe(value)}_{k}"
    return cells
