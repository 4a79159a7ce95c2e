"""The ``sql`` adapter's statements: the source's columns, its pages, counts and keys.

A ``table`` is selected as it is; a ``query`` is wrapped as a derived table, so every
statement is the same over both:

    SELECT peyvand_source.* FROM (<the query>) AS peyvand_source
    WHERE <after the checkpoint> ORDER BY <watermark>, <key> LIMIT <page_size>

Pages are keyset pages: each statement starts after the last row of the one before, in
the same order, and reads at most ``page_size`` rows. Memory is one page, whatever the
table's size; each statement is short (no cursor held open on the server while the
pipeline matches and commits, which MySQL's ``net_write_timeout`` punishes), and the
same SQL works on every database SQLAlchemy speaks. "After" is the row-value comparison
``(w, k) > (w0, k0)`` spelled out as ``w >= w0 AND (w > w0 OR (w = w0 AND k > k0))``,
since SQL Server has no row values; the redundant ``w >= w0`` lets an index on
``(watermark, key)`` serve a range scan. Rows whose watermark or key is NULL are never
selected (NULL compares as unknown), and a read from the start counts and logs them.

Values are bound untyped (``NullType``): the driver sends each value as the type it
read it as, so no cast (SQLAlchemy would add ``::TIMESTAMP WITHOUT TIME ZONE`` for a
naive datetime) can shift a comparison, and SQLite's text dates are compared as text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    FromClause,
    Select,
    and_,
    bindparam,
    column,
    false,
    func,
    inspect,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.sql.elements import BindParameter, ColumnClause, ColumnElement
from sqlalchemy.types import NullType

from adapters._sql_checkpoint import Position
from hub.errors import FatalSourceError
from hub.suggest import did_you_mean

ALIAS = "peyvand_source"
_KEY_PAGE = 10_000   # keys only: a light page


@dataclass(frozen=True)
class Source:
    """The source's columns as the database names them, and the settings' columns
    resolved against them.

    Args:
        label: what a location names: the table, or ``query``.
        origin: the table or the wrapped query, with every column.
        key: the key columns.
        watermark: the watermark column (watermark mode).
        active: the column that says whether a row is active.
    """

    label: str
    origin: FromClause
    key: tuple[str, ...]
    watermark: str | None
    active: str | None

    def order(self, mode: str) -> tuple[str, ...]:
        """The columns a read is ordered by and a checkpoint holds."""
        return (self.watermark, *self.key) if mode == "watermark" and self.watermark \
            else self.key

    def cols(self, names: Sequence[str]) -> list[ColumnElement[Any]]:
        return [self.origin.c[n] for n in names]


def probe(conn: Connection, *, table_name: str | None, schema: str | None, query: str | None,
          key: Sequence[str], watermark: str | None, active: str | None) -> Source:
    """Find the source's columns with a statement that reads no row, and resolve the
    settings' columns; FatalSourceError names what is missing and what there is."""
    if table_name is not None:
        _check_table(conn, table_name, schema)
    bare = _origin(table_name, schema, query, [])
    names = tuple(conn.execute(select(literal_column("*")).select_from(bare)
                               .where(false())).keys())
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise FatalSourceError(f"sql: options.query gives several columns named "
                               f"{', '.join(twice)}; name each once (AS another_name)")
    find = _Resolver(names)
    resolved_key = tuple(find(k, "key") for k in key)
    resolved_wm = find(watermark, "watermark") if watermark else None
    resolved_active = find(active, "active_column") if active else None
    origin = _origin(table_name, schema, query, [column(n) for n in names])
    return Source(table_name or "query", origin, resolved_key, resolved_wm, resolved_active)


def _origin(table_name: str | None, schema: str | None, query: str | None,
            cols: list[ColumnClause[Any]]) -> FromClause:
    """The table, or the query wrapped as a derived table, with ``cols``."""
    if table_name is not None:
        return table(table_name, *cols, schema=schema)
    assert query is not None   # the options name exactly one
    # ":" would start a bind parameter in text(); the query has none, so escape all. On
    # lines of its own, so a "-- comment" on its last line cannot swallow the ")".
    return text(f"\n{query}\n".replace(":", r"\:")).columns(*cols).subquery(ALIAS)


def _check_table(conn: Connection, name: str, schema: str | None) -> None:
    inspector = inspect(conn)
    if inspector.has_table(name, schema=schema):
        return
    known = [*inspector.get_table_names(schema=schema), *inspector.get_view_names(schema=schema)]
    where = f" in schema {schema!r}" if schema else ""
    raise FatalSourceError(f"sql: there is no table or view {name!r}{where} (options.table)."
                           f"{did_you_mean(name, known)} It holds {len(known)} tables and "
                           "views; check options.table and options.schema")


class _Resolver:
    """A settings' column name -> the source's: exactly, else ignoring case when that
    finds one column (PostgreSQL folds unquoted names to lower case)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = names

    def __call__(self, wanted: str, option: str) -> str:
        if wanted in self.names:
            return wanted
        folded = [n for n in self.names if n.lower() == wanted.lower()]
        if len(folded) == 1:
            return folded[0]
        raise FatalSourceError(
            f"sql: options.{option} {wanted!r} is not a column of the source."
            f"{did_you_mean(wanted, self.names)} Its columns are: {', '.join(self.names)}")


def _bound(value: Any) -> BindParameter[Any]:
    return bindparam(None, value, type_=NullType())


def after(cols: Sequence[ColumnElement[Any]], values: Sequence[Any]) -> ColumnElement[bool]:
    """``(cols) > (values)`` in the columns' order, spelled without row values."""
    head, value = cols[0], values[0]
    if len(cols) == 1:
        greater: ColumnElement[bool] = head > _bound(value)
        return greater
    rest = after(cols[1:], values[1:])
    return and_(head >= _bound(value),
                or_(head > _bound(value), and_(head == _bound(value), rest)))


def filters(source: Source, mode: str, position: Position,
            upper: Any = None) -> list[ColumnElement[bool]]:
    """What a read from ``position`` selects: rows whose order columns are not NULL,
    after it; in watermark mode none whose watermark is past ``upper``."""
    order = source.cols(source.order(mode))
    found: list[ColumnElement[bool]] = [c.is_not(None) for c in order]
    if position.after is not None:
        found.append(after(order, position.after))
    if upper is not None:
        found.append(order[0] <= _bound(upper))
    return found


def page(source: Source, mode: str, position: Position, size: int,
         upper: Any = None) -> Select[Any]:
    """The statement of the page after ``position``, in order, at most ``size`` rows."""
    return select(source.origin).where(*filters(source, mode, position, upper)) \
        .order_by(*source.cols(source.order(mode))).limit(size)


class Reader:
    """The statements of one read over ``source`` (one connection, one snapshot)."""

    def __init__(self, conn: Connection, source: Source, mode: str, page_size: int) -> None:
        self.conn, self.source, self.mode, self.page_size = conn, source, mode, page_size
        self.names = source.order(mode)

    def rows(self, position: Position, upper: Any = None) -> Iterator[dict[str, Any]]:
        """Every row after ``position`` in order, a page at a time (see ``page``)."""
        while True:
            rows = [dict(r) for r in self.conn.execute(
                page(self.source, self.mode, position, self.page_size, upper)).mappings()]
            yield from rows
            if len(rows) < self.page_size:
                return
            position = Position(self.mode, self.names, tuple(rows[-1][c] for c in self.names))

    def upper(self) -> Any:
        """The highest watermark now: a read goes no further, so a row updated while it
        runs is read by the next one, not twice by this one."""
        assert self.source.watermark is not None
        mark = self.source.origin.c[self.source.watermark]
        return self.conn.execute(select(func.max(mark))).scalar()

    def count(self, position: Position) -> int:
        """How many rows a read from ``position`` selects."""
        stmt = select(func.count()).select_from(self.source.origin) \
            .where(*filters(self.source, self.mode, position))
        return int(self.conn.execute(stmt).scalar() or 0)

    def unread(self) -> int:
        """Rows never selected: their watermark or key is NULL."""
        cols = self.source.cols(self.names)
        stmt = select(func.count()).select_from(self.source.origin) \
            .where(or_(*[c.is_(None) for c in cols]))
        return int(self.conn.execute(stmt).scalar() or 0)

    def all_keys(self) -> Iterator[tuple[Any, ...]]:
        """Every key of the source, in key order, a light page at a time."""
        cols = self.source.cols(self.source.key)
        last: tuple[Any, ...] | None = None
        while True:
            filters: list[ColumnElement[bool]] = [c.is_not(None) for c in cols]
            if last is not None:
                filters.append(after(cols, last))
            rows = [tuple(r) for r in self.conn.execute(
                select(*cols).where(*filters).order_by(*cols).limit(_KEY_PAGE))]
            yield from rows
            if len(rows) < _KEY_PAGE:
                return
            last = rows[-1]
