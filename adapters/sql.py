"""Customer rows of an ERP's database: a table or a SELECT, by any SQLAlchemy URL.

Features: incremental: by a watermark column with its ties (``write_date``, then the key),
or by key alone (new rows only), or a whole snapshot each run; deletions: yes (rows that
turn inactive, and with ``deletions: true`` rows gone from the table); estimate: yes (a
COUNT); payload: dict (column -> value, JSON-safe).

Connection: the URL in the environment variable options.url_env names
(``ERP_DATABASE_URL=postgresql+psycopg://odoo:SECRET@db:5432/odoo``), or options.url
without a password. PostgreSQL (psycopg), MySQL and MariaDB (PyMySQL, ``peyvand[mysql]``),
SQL Server (pyodbc) and SQLite; give the adapter a read-only user.

Modes (``options.mode``; by default ``watermark`` when options.watermark is set, else
``snapshot``):

* ``watermark``: rows after the checkpoint's (watermark, key) pair, in that order. Rows
  sharing one watermark value are neither lost nor read twice, wherever a batch ends; a
  row updated since the last sync comes again (its watermark moved). A read goes up to
  the highest watermark when it started, so a row updated during the read is read by
  the next sync, never twice by this one. Misses: a row whose watermark is NULL, and a
  row committed late with a watermark older than a sync that already ran (a long
  transaction stamping its start time): a periodic ``peyvand run --full`` catches those.
* ``key``: rows whose key is past the checkpoint's: new rows only (an ever-growing id).
  Misses every update to a row already read, and any row inserted with a smaller key;
  use it for append-only tables, and snapshot mode for the rest.
* ``snapshot``: the whole table every run, in key order (resumable within a run); rows
  that did not change are recognised downstream and publish nothing. Misses nothing,
  at the cost of reading every row each time.

In each mode a row whose ``active_column`` is false (``false``, ``0``, ``'f'``, ``'no'``;
NULL counts as active) is a deletion, and with ``deletions: true`` the ids the master
holds open that the source no longer has are too: after the last row, a separate ``SELECT
key`` over the whole table (in the same snapshot) is compared with them; their records
carry the read's final checkpoint. Streaming and statements: ``adapters._sql_source``;
checkpoints: ``adapters._sql_checkpoint``; errors: ``adapters._sql_connect``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import structlog
from sqlalchemy import Connection
from sqlalchemy.exc import InterfaceError, OperationalError

from adapters._sql_checkpoint import Position, parse
from adapters._sql_connect import Database, SourceDown, open_database, source_url
from adapters._sql_options import clean_query, key_columns, option_problems
from adapters._sql_source import Reader, Source, probe
from adapters._sql_values import UnsupportedValue, encode, json_safe, render_id, unsupported
from hub.adapter import Adapter, Features, SourceContext
from hub.records import Checkpoint, RawRecord

__all__ = ["SqlAdapter", "SqlSettings"]

log = structlog.get_logger("peyvand.adapters.sql")

_INACTIVE = frozenset({"0", "false", "f", "no", "n"})
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class SqlSettings:
    """Which database, what to read of it, and how to resume.

    Args:
        url_env: the name of the environment variable holding the database URL, password
            included (``ERP_DATABASE_URL``). Secrets come only from the environment.
        url: the URL itself, when it holds no password (a trusted local socket, SQLite);
            one with a password is refused. Exactly one of url_env and url.
        table: the table (or view) to read.
        schema: the table's schema (PostgreSQL ``public``, a SQL Server ``dbo``); None:
            the connection's default.
        query: a SELECT (or WITH ... SELECT) to read instead of a table, e.g. with joins;
            it is wrapped as ``SELECT * FROM (<query>) AS peyvand_source WHERE ... ORDER
            BY ...``, so it must not end in ORDER BY or LIMIT. Exactly one of table and
            query.
        key: the column(s) whose values identify a row: its source id (several columns
            are joined with ``|``). Stable and unique, such as a primary key.
        watermark: a column every insert and update moves forward (Odoo's
            ``write_date``); reads resume after the last (watermark, key) read.
        mode: ``watermark``, ``key`` (new rows only) or ``snapshot`` (everything every
            run); None: ``watermark`` when a watermark is given, else ``snapshot``.
        active_column: a column whose false value (false, 0) means the row is archived:
            its record is a deletion and closes its link.
        deletions: compare the source's keys with the ids the master holds open at the
            end of each read, and close the links of those gone.
        page_size: rows per statement (memory is one page).
        connect_timeout: seconds to wait for the database to answer a connection.
    """

    url_env: str | None = None
    url: str | None = None
    table: str | None = None
    schema: str | None = None
    query: str | None = None
    key: str | tuple[str, ...]
    watermark: str | None = None
    mode: Literal["watermark", "key", "snapshot"] | None = None
    active_column: str | None = None
    deletions: bool = False
    page_size: int = 1000
    connect_timeout: int = 10

    @property
    def read_mode(self) -> str:
        return self.mode or ("watermark" if self.watermark else "snapshot")

    @property
    def order_columns(self) -> tuple[str, ...]:
        keys = key_columns(self.key)
        return (self.watermark, *keys) if self.read_mode == "watermark" and self.watermark \
            else keys


class SqlAdapter(Adapter):
    """Rows of an ERP's table or SELECT over any SQLAlchemy URL; rows gone as deletions."""

    name: ClassVar[str] = "sql"
    Settings: ClassVar[type] = SqlSettings
    features: ClassVar[Features] = Features(incremental=True, deletions=True, estimate=True)
    # SourceDown is what the driver's passing failures become (adapters._sql_connect);
    # the driver's own classes stay declared for any raised outside that translation.
    transient_errors: ClassVar[tuple[type[BaseException], ...]] = (
        SourceDown, OperationalError, InterfaceError)

    def __init__(self, settings: SqlSettings, *, context: SourceContext) -> None:
        super().__init__(settings, context=context)
        self.settings: SqlSettings = settings

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        return option_problems(options)

    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        start = self._start(checkpoint)
        db = self._open()
        try:
            with db.reading(f"reading {self._label()}", self._hint()) as conn:
                reader = Reader(conn, self._probe(conn), start.mode,
                                self.settings.page_size)
                if start.after is None and (unread := reader.unread()):
                    log.warning("sql rows without a key or watermark are not read",
                                source=self._label(), rows=unread)
                final = start
                for row, last in _marked(self._rows(reader, start)):
                    final = self._position(reader.source, row, done=last)
                    yield self._record(reader.source, row, final)
                if start.mode == "snapshot":
                    final = Position(start.mode, start.by, done=True)
                yield from self._gone(reader, final)
        finally:
            db.engine.dispose()

    def estimate_total(self, checkpoint: Checkpoint | None) -> int | None:
        """The rows a read from ``checkpoint`` selects (deletions not counted)."""
        start = self._start(checkpoint)
        db = self._open()
        try:   # ``Adapter.total`` raises a passing failure here as SourceUnavailable
            with db.reading(f"counting {self._label()}", self._hint()) as conn:
                return Reader(conn, self._probe(conn), start.mode, 1).count(start)
        finally:
            db.engine.dispose()

    # -- steps ---------------------------------------------------------------------------

    def _start(self, checkpoint: Checkpoint | None) -> Position:
        """Where to read from: the checkpoint's position when it belongs to these
        settings; from the top when there is none, when a snapshot read finished, or
        when the mode or its columns changed (a position in another order means
        nothing; rows read again are recognised downstream as unchanged)."""
        fresh = Position(self.settings.read_mode, self.settings.order_columns)
        if checkpoint is None:
            return fresh
        position = parse(checkpoint)
        if (position.mode, position.by) != (fresh.mode, fresh.by):
            log.warning("sql checkpoint from other settings; reading from the start",
                        was=position.mode, by=list(position.by), now=fresh.mode)
            return fresh
        return fresh if position.done else position

    def _open(self) -> Database:
        url, where = source_url(self.settings.url, self.settings.url_env)
        return open_database(url, where, self.context.base_dir, self.settings.connect_timeout)

    def _probe(self, conn: Connection) -> Source:
        s = self.settings
        return probe(conn, table_name=s.table, schema=s.schema,
                     query=clean_query(s.query) if s.query is not None else None,
                     key=key_columns(s.key), watermark=s.watermark, active=s.active_column)

    def _rows(self, reader: Reader, start: Position) -> Iterator[dict[str, Any]]:
        if start.mode != "watermark":
            return reader.rows(start)
        upper = reader.upper()
        return reader.rows(start, upper) if upper is not None else iter(())

    def _position(self, source: Source, row: Mapping[str, Any], *, done: bool) -> Position:
        settings = self.settings
        if done and settings.read_mode == "snapshot":
            return Position(settings.read_mode, settings.order_columns, done=True)
        values = tuple(row[n] for n in source.order(settings.read_mode))
        return Position(settings.read_mode, settings.order_columns, values)

    def _record(self, source: Source, row: Mapping[str, Any], position: Position) -> RawRecord:
        keys = [row[k] for k in source.key]
        try:
            checkpoint = position.checkpoint()
        except UnsupportedValue as exc:
            bad = next(n for n in source.order(position.mode) if not _encodable(row[n]))
            raise unsupported(bad, exc) from exc
        source_id = "|".join(render_id(v) for v in keys)
        where = ", ".join(f"{k}={render_id(v)}" for k, v in zip(source.key, keys, strict=True))
        data = {str(k): json_safe(v) for k, v in row.items()}
        inactive = source.active is not None and _inactive(row[source.active])
        return RawRecord(source_id, data, f"{source.label} {where}", checkpoint,
                         deleted=inactive)

    def _gone(self, reader: Reader, final: Position) -> Iterator[RawRecord]:
        """Deletions: the ids the master holds open that the source no longer has."""
        if not self.settings.deletions or self.context.known_ids is None:
            return
        known = set(self.context.known_ids())
        for keys in reader.all_keys():
            known.discard("|".join(render_id(v) for v in keys))
        checkpoint = final.checkpoint()
        for source_id in sorted(known):
            yield RawRecord(source_id, {}, f"{reader.source.label} {source_id} (gone)",
                            checkpoint, deleted=True)

    def _label(self) -> str:
        s = self.settings
        if s.table is None:
            return "options.query"
        return f"table {s.schema}.{s.table}" if s.schema else f"table {s.table}"

    def _hint(self) -> str:
        if self.settings.query is not None:
            return "check options.query (run it in the database's own client first)"
        return "check options.table, options.schema and the URL's database"


def _inactive(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool | int):
        return not value
    return str(value).strip().lower() in _INACTIVE


def _encodable(value: Any) -> bool:
    try:
        encode(value)
    except UnsupportedValue:
        return False
    return True


def _marked(items: Iterator[T]) -> Iterator[tuple[T, bool]]:
    """Each item with whether it is the last (one item of look-ahead)."""
    previous: list[T] = []
    for item in items:
        if previous:
            yield previous[0], False
        previous[:] = [item]
    if previous:
        yield previous[0], True
