"""XLSX worksheets, read with python-calamine once ``adapters._workbook_limits`` passed them.

Why calamine and not openpyxl (finding R2), with the measurements: see the docstring of
``adapters.spreadsheet``. calamine is not a streaming reader: it lays the sheet out as a
grid of 32-byte cells, so its memory is bounded by the limits checked before it runs;
its one hazard, a grid sized by two far-apart cells, is what ``check_sheet`` measures.

What it gives, used here: sheet visibility and type (hidden sheets and chart sheets are
skipped when no sheet is named), merged ranges (for .xlsx and .xls; none for .ods), rows
from the first row of the sheet (columns from its first used column, padded back here),
dates, times and durations as Python values, and Excel error values (#N/A, #DIV/0!...)
as empty cells, so an error is never taken as a value or a source id (finding L5).
The .xls and .ods formats stay refused for now: their own limits (the OLE2 and ODS
containers) are not checked yet.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import python_calamine

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
    Package,
    check_container,
    check_declared_sizes,
    check_package,
    check_shared_strings,
    check_sheet,
)
from hub.errors import FatalSourceError

# calamine's enums are not hashable: a list of pairs, not a dict.
_KINDS = [(python_calamine.SheetTypeEnum.ChartSheet, "chart"),
          (python_calamine.SheetTypeEnum.DialogSheet, "dialog"),
          (python_calamine.SheetTypeEnum.MacroSheet, "macro"),
          (python_calamine.SheetTypeEnum.Vba, "VBA")]


def open_xlsx(path: Path, sheet: str | None, header_row: int | None) -> Table:
    """The sheet named ``sheet`` (None: the first visible worksheet), under its header."""
    check_container(path)
    try:
        with zipfile.ZipFile(path) as package, path.open("rb") as handle:
            parts = check_package(package, str(path))
            check_declared_sizes(package, handle, parts, str(path))
            if parts.shared_strings:
                check_shared_strings(package, handle, parts.shared_strings, str(path))
            book = _load(path)
            try:
                name = _pick_sheet(book, sheet, path)
                for part in _parts_of(parts, name):
                    check_sheet(package, handle, part, f"{path} sheet {name}")
                grid = book.get_sheet_by_name(name)
            finally:
                book.close()
    except zipfile.BadZipFile as exc:
        raise FatalSourceError(f"{path}: cannot be read as an XLSX workbook: "
                               f"BadZipFile: {exc}") from exc
    return _table(path, grid, header_row)


def _load(path: Path) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.load_workbook(path)
    except python_calamine.PasswordError as exc:
        raise FatalSourceError(f"{path}: is encrypted (password-protected); save it without "
                               "a password, or export it as CSV.") from exc
    except OSError:
        raise
    except Exception as exc:  # CalamineError, ZipError, XmlError...: a damaged file
        raise FatalSourceError(f"{path}: cannot be read as an XLSX workbook: "
                               f"{type(exc).__name__}: {exc}") from exc


def _parts_of(parts: Package, name: str) -> list[str]:
    """The part to check for sheet ``name``; every sheet part when the map lacks it."""
    if name in parts.sheets:
        return [parts.sheets[name]]
    return sorted(set(parts.sheets.values()))


def _pick_sheet(book: python_calamine.CalamineWorkbook, wanted: str | None,
                path: Path) -> str:
    worksheets = [m for m in book.sheets_metadata
                  if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
    if wanted is None:
        for meta in worksheets:
            if meta.visible == python_calamine.SheetVisibleEnum.Visible:
                return meta.name
        raise FatalSourceError(f"{path}: has no visible worksheet; set options.sheet.")
    if wanted in {m.name for m in worksheets}:
        return wanted   # hidden or not: a sheet named on purpose is read
    for meta in book.sheets_metadata:
        if meta.name == wanted:
            raise FatalSourceError(
                f"{path}: sheet {wanted!r} is a {_kind(meta.typ)} sheet, not "
                "a worksheet; set options.sheet to a worksheet.")
    known = ", ".join(repr(m.name) for m in worksheets)
    raise FatalSourceError(f"{path}: has no sheet {wanted!r}; its worksheets are {known}.")


def _kind(typ: python_calamine.SheetTypeEnum) -> str:
    return next((name for kind, name in _KINDS if kind == typ), "special")


def _table(path: Path, grid: python_calamine.CalamineSheet, header_row: int | None) -> Table:
    where = f"{path} sheet {grid.name}"
    start, end = grid.start, grid.end
    if start is None or end is None:
        raise FatalSourceError(f"{where}: the sheet is empty.")
    width = end[1] + 1
    seen: dict[int, Sequence[Any]] = {}
    rows = _raw_rows(grid, start[1])
    header = find_header(_kept(rows, seen), header_row, where)
    if header.number == 0:   # no header: every column by its position, as CSV rows get
        names, named_width = [f"column_{i}" for i in range(1, width + 1)], width
    else:
        cells = _spread_merged(grid.merged_cell_ranges or [], header, seen)
        names, named_width = column_names([json_safe(v) for v in cells])
    seen.clear()
    return Table(f"{path.name} sheet {grid.name}", names, named_width,
                 (_converted(row) for row in rows), max(end[0] + 1 - header.number, 0),
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
    return Row(row.number, values)


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
