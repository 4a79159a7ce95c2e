"""Where SQLite and PostgreSQL differ, and the locks: in one place.

* SQLite runs in WAL mode with ``synchronous=FULL`` (a committed batch survives a crash
  of the process or the machine). The driver would run a transaction's first reads
  outside it, so every transaction starts with our own BEGIN, and a writing one with
  BEGIN IMMEDIATE: it holds the store's write lock from its first statement, which
  serializes writers across processes.
* PostgreSQL writers take transaction-scoped advisory locks by name (``lock``): matching
  reads candidates and then writes links that depend on them, so two matchers at once
  could each create a master for the same person; outbox appends must commit in ``seq``
  order, and so must inbox writes (a reader resumes after the last ``seq`` it saw); two
  processes must not migrate the schema at once. On SQLite ``lock`` is a
  no-op: BEGIN IMMEDIATE already holds the only write lock.

Why not finer locks on PostgreSQL: a batch of 500 records has a few thousand blocking
keys, and an advisory lock per key would exhaust the server's lock table
(``max_locks_per_transaction``) with two workers. The stateless stages before the commit
run in parallel; the commit of each batch is serialized per store.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from typing import Any, Literal

import orjson
from sqlalchemy import Connection, Engine, event, text

LockName = Literal["match", "outbox", "inbox", "migrate"]
WRITING = "peyvand_writing"   # execution option of connections that will write


def lock(conn: Connection, name: LockName) -> None:
    """Hold the named lock until ``conn``'s transaction ends (PostgreSQL; see above)."""
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(f"peyvand.{name}".encode())
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def engine_options(backend: str) -> dict[str, Any]:
    """Extra ``create_engine`` arguments for a backend.

    JSON columns (raw and canonical records, golden records, events) are encoded and
    decoded by orjson: the standard library's json was 12 % of a first load's time.
    """
    common: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if backend == "sqlite":
        return {**common, "connect_args": {"timeout": 30}}   # wait up to 30 s for the lock
    return {**common, "pool_pre_ping": True}                # a server restart drops connections


def _json_dumps(value: Any) -> str:
    # Non-string keys become strings, as the standard library's json does.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def prepare_engine(engine: Engine) -> None:
    """Install the SQLite pragmas and BEGIN handling (nothing to do for PostgreSQL)."""
    if is_sqlite(engine):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITING)
                         else "BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    _wal(cur)
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _wal(cur: Any) -> None:
    """Switch to WAL. Two processes opening a new store at once race for the switch, and
    SQLite answers the loser "database is locked" at once, without its busy timeout: try
    again for as long as that timeout would have waited."""
    deadline = time.monotonic() + 30
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
