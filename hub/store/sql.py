"""Small SQL helpers every repository uses: bounded IN lists, lookups per source system."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, ColumnElement, Connection, Select

T = TypeVar("T")
CHUNK = 500   # SQLite allows 32766 parameters; small statements keep the planner honest


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def by_system(refs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Source ids grouped by source system.

    Look records up per system (``source_system = ? AND source_id IN (...)``): SQLite
    answers a row-value ``(source_system, source_id) IN (...)`` with a table scan.
    """
    out: dict[str, list[str]] = {}
    for system, source_id in refs:
        out.setdefault(system, []).append(source_id)
    return out


def select_refs(conn: Connection, query: Select[Any], system_col: Column[Any],
                id_col: Column[Any], refs: Iterable[tuple[str, str]]) -> list[Any]:
    """Rows of ``query`` whose (system, id) is in ``refs``, looked up per system."""
    rows: list[Any] = []
    for system, ids in by_system(refs).items():
        for chunk in chunks(ids):
            rows += conn.execute(query.where(system_col == system, id_col.in_(chunk))).all()
    return rows


def select_in(conn: Connection, query: Select[Any], column: ColumnElement[Any],
              values: Iterable[Any]) -> list[Any]:
    """Rows of ``query`` whose ``column`` is one of ``values``, in bounded IN lists."""
    rows: list[Any] = []
    for chunk in chunks(sorted(set(values))):
        rows += conn.execute(query.where(column.in_(chunk))).all()
    return rows
