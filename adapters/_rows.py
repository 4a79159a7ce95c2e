"""A spreadsheet row as a record: its data by column name, its content id, the id column
found among the names, and the checks of the adapter's options."""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from adapters._sources import CSV_SUFFIXES
from adapters._table import Table, extra_name
from hub.errors import FatalSourceError
from hub.standardize.persian_text import header_key

_CONTENT_ID_HEX = 12


def column_index(names: list[str], wanted: str, path: Path) -> int:
    if wanted in names:
        return names.index(wanted)
    # Integrators type Persian ی/ک; exports such as Holoo's write Arabic ي/ك.
    folded = [header_key(n) for n in names]
    if header_key(wanted) in folded:
        return folded.index(header_key(wanted))
    raise FatalSourceError(
        f"{path}: options.id_column {wanted!r} is not a column; the columns are "
        f"{', '.join(repr(n) for n in names)}.")


def row_data(table: Table, values: Sequence[Any]) -> dict[str, Any]:
    """A row's cells by column name; filled cells right of the header are kept too."""
    data: dict[str, Any] = dict(zip(table.names[:table.named_width], values, strict=False))
    for i in range(table.named_width, len(values)):
        if values[i] is not None:
            data[extra_name(table.names, i)] = values[i]
    for name in table.names[len(values):table.named_width]:
        data[name] = None  # a short CSV line: the missing cells are empty
    return data


def content_hash(values: Sequence[Any]) -> str:
    """A short hash of a row's values in column order; trailing empty cells do not count
    (``a,b`` and ``a,b,,`` are the same row)."""
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    blob = json.dumps(list(values[:end]), ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:_CONTENT_ID_HEX]


def blank_row(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def option_problems(options: Mapping[str, Any]) -> list[str]:
    """What is wrong with options of the right type (the types are checked already)."""
    problems = []
    header_row, delimiter = options.get("header_row"), options.get("delimiter")
    if isinstance(header_row, int) and header_row < 0:
        problems.append("options.header_row: must be 1 or more (0: the file has no header).")
    if isinstance(delimiter, str) and len(delimiter) != 1:
        problems.append(f"options.delimiter: must be one character, got {delimiter!r}.")
    id_column, sheet = options.get("id_column"), options.get("sheet")
    if isinstance(id_column, list | tuple) and (
            not id_column or any(not str(c).strip() for c in id_column)):
        problems.append("options.id_column: a list of columns must name at least one, "
                        "none of them empty.")
    if isinstance(sheet, list | tuple) and (not sheet or "*" in sheet):
        problems.append('options.sheet: a list of sheets must name at least one; "*" '
                        "stands alone.")
    path = options.get("path")
    if sheet is not None and isinstance(path, str) \
            and Path(path).suffix.lower() in CSV_SUFFIXES:
        problems.append("options.sheet: a CSV file has no sheets.")
    settle = options.get("settle_seconds")
    if isinstance(settle, int | float) and not isinstance(settle, bool) and settle < 0:
        problems.append("options.settle_seconds: must be 0 or more.")
    encoding = options.get("encoding")
    if isinstance(encoding, str):
        try:
            codecs.lookup(encoding)
        except LookupError:
            problems.append(f"options.encoding: unknown encoding {encoding!r}.")
    return problems
