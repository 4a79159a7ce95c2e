"""Store URL -> SQLAlchemy engine, with the tables created and SQLite made durable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hub.errors import StoreUnavailable
from hub.store.tables import metadata


def open_engine(url: str) -> Engine:
    """Connect to the store at ``url`` and create missing tables.

    SQLite runs in WAL mode with ``synchronous=FULL`` so a committed batch survives a
    crash of the process or the machine. Every transaction starts with an explicit
    BEGIN (the driver would otherwise run a transaction's first reads outside it), and
    ``writing`` transactions with BEGIN IMMEDIATE, so two processes never match against
    what the other is changing.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    try:
        metadata.create_all(engine)
    except OperationalError as exc:
        raise StoreUnavailable(f"cannot open the store at {parsed!r}: {exc.orig}") from exc
    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that reads and then writes what it read: the store's write lock is
    taken at its start on SQLite (PostgreSQL callers take advisory locks as needed)."""
    with engine.connect().execution_options(peyvand_writing=True) as conn, conn.begin():
        yield conn


def _sqlite_begin(conn: Connection) -> None:
    writer = conn.get_execution_options().get("peyvand_writing")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see open_engine)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
