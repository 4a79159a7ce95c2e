"""What the CSV and workbook readers hand the spreadsheet adapter: numbered rows, a header
found among the first rows, and unique column names."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hub.errors import FatalSourceError

HEADER_SCAN_ROWS = 50
# Excel's own limit on the characters of one cell: no spreadsheet program writes more, so
# a longer value is a damaged file or a hostile one, never customer data.
MAX_CELL_CHARS = 32_767


@dataclass(frozen=True, slots=True)
class Row:
    """One row as read: its number as a spreadsheet program shows it, its cells, and what
    is wrong with it when it could not be read properly (its cells then hold what could)."""

    number: int
    values: Sequence[Any]
    problem: str | None = None


@dataclass
class Table:
    """An opened sheet: its column names and its rows under the header."""

    label: str
    names: list[str]
    named_width: int  # columns up to the last non-empty header cell; later ones only if filled
    rows: Iterator[Row]
    total: int        # rows under the header, blank ones included
    header_row: int   # 0: the file has no header


def find_header(rows: Iterator[Row], wanted: int | None, where: str, hint: str = "") -> Row:
    """Consume ``rows`` through the header row and return it.

    ``wanted`` is ``options.header_row``: None finds the first row that looks like a
    header among the first rows, 0 means there is none (an empty row is returned).
    """
    if wanted == 0:
        return Row(0, [])
    for row in itertools.islice(rows, wanted or HEADER_SCAN_ROWS):
        if row.problem is not None:
            # The column names come from here: a row that cannot be read spoils them all.
            raise FatalSourceError(f"{where}: cannot read the rows down to the header: "
                                   f"{row.problem}.{hint}")
        if row.number == wanted or (wanted is None and looks_like_header(row.values)):
            return row
    if wanted is not None:
        raise FatalSourceError(f"{where}: has no row {wanted} (options.header_row).")
    raise FatalSourceError(
        f"{where}: no header row found in the first {HEADER_SCAN_ROWS} rows (a row with "
        "at least two non-empty cells, mostly text); set options.header_row, or 0 when "
        "the file has no header.")


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def looks_like_header(values: Sequence[Any]) -> bool:
    filled = [v for v in values if not blank(v)]
    text = [v for v in filled if isinstance(v, str) and not _is_number(v)]
    return len(filled) >= 2 and 2 * len(text) > len(filled)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def column_names(header: Sequence[Any]) -> tuple[list[str], int]:
    """Unique names for the header cells: empty ones become column_<n>, repeats get _2.

    Returns the names and how many columns the header covers (through its last
    non-empty cell).
    """
    names: list[str] = []
    seen: set[str] = set()
    width = 0
    for i, raw in enumerate(header):
        name = "" if raw is None else str(raw).strip().strip("\ufeff").strip()
        if name:
            width = i + 1
        name = name or f"column_{i + 1}"
        base, k = name, 1
        while name in seen:
            k += 1
            name = f"{base}_{k}"
        seen.add(name)
        names.append(name)
    return names[:width], width


def extra_name(names: list[str], index: int) -> str:
    """The name of a filled cell right of the header (it must not be lost)."""
    name = f"column_{index + 1}"
    return name if name not in names else f"{name}_extra"


def json_safe(value: Any) -> Any:
    """A cell value as JSON can carry it: dates as ISO text, whole floats as int."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return value or None
    if isinstance(value, float):
        return int(value) if value.is_integer() else value  # 9121234567.0 was typed digits
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _iso_duration(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def _iso_duration(delta: dt.timedelta) -> str:
    sign = "-" if delta < dt.timedelta(0) else ""
    delta = abs(delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    secs = f"{seconds}.{delta.microseconds:06d}".rstrip("0").rstrip(".")
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M")) if v)
    time += f"{secs}S" if seconds or delta.microseconds else ""
    days = f"{delta.days}D" if delta.days else ""
    return f"{sign}P{days}{'T' + time if time else ''}" if days or time else "PT0S"
