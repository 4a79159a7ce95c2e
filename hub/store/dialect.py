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
  processes must not migrate the schema at once; two relays must not publish the same
  outbox rows (``relay``). On SQLite ``lock`` is a no-op: BEGIN IMMEDIATE already holds
  the only write lock.
* A writer kept waiting for SQLite's write lock says so after a second ("store busy"),
  then waits out the 30 s busy timeout as before.
* A read-only engine (``read_only=True``) writes nothing: no pragmas that write, and
  ``query_only`` on SQLite; read-only transactions on PostgreSQL.

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
import structlog
from sqlalchemy import URL, Connection, Engine, event, text
from sqlalchemy.exc import OperationalError

LockName = Literal["match", "outbox", "inbox", "migrate", "relay"]
WRITING = "peyvand_writing"   # execution option of connections that will write
_BUSY_TIMEOUT_MS = 30_000     # how long a writer waits for SQLite's write lock
_BUSY_NOTICE_MS = 1_000       # ... and after how long it says it is waiting

log = structlog.get_logger("peyvand.store")


def lock(conn: Connection, name: LockName) -> None:
    """Hold the named lock until ``conn``'s transaction ends (PostgreSQL; see above)."""
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(f"peyvand.{name}".encode())
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def engine_options(url: URL, *, read_only: bool = False) -> dict[str, Any]:
    """Extra ``create_engine`` arguments for the store at ``url``.

    JSON columns (raw and canonical records, golden records, events) are encoded and
    decoded by orjson: the standard library's json was 12 % of a first load's time.
    """
    common: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if url.get_backend_name() == "sqlite":
        return {**common, "connect_args": {"timeout": _BUSY_TIMEOUT_MS / 1000}}
    # A server restart drops pooled connections (pre-ping); an unreachable host must not
    # hang for the system's TCP timeout. What the URL says itself wins.
    args: dict[str, Any] = {} if "connect_timeout" in url.query else {"connect_timeout": 10}
    if read_only and url.get_backend_name() == "postgresql":
        given = url.query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        args["options"] = f"{given} -c default_transaction_read_only=on".strip()
    return {**common, "pool_pre_ping": True, "connect_args": args}


def _json_dumps(value: Any) -> str:
    # Non-string keys become strings, as the standard library's json does.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def prepare_engine(engine: Engine, *, read_only: bool = False) -> None:
    """Install the SQLite pragmas and BEGIN handling (nothing to do for PostgreSQL)."""
    if is_sqlite(engine):
        event.listen(engine, "connect", _sqlite_read_only if read_only else _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)


def _sqlite_begin(conn: Connection) -> None:
    if not conn.get_execution_options().get(WRITING):
        conn.exec_driver_sql("BEGIN")
        return
    raw: Any = conn.connection.dbapi_connection
    raw.execute(f"PRAGMA busy_timeout = {_BUSY_NOTICE_MS}")
    try:
        raw.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            # Wrapped as SQLAlchemy wraps a statement's error, so it is translated alike.
            raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
    finally:
        raw.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    # Said at once, not after the whole timeout: the user sees why nothing moves.
    log.warning("store busy: another process is writing to it; waiting for its lock",
                waited_ms=_BUSY_NOTICE_MS, waiting_up_to_s=_BUSY_TIMEOUT_MS // 1000)
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    _wal(cur)
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    # 64 MB of page cache (the default is 2 MB): matching reads blocking keys and records
    # by index all over a store of hundreds of MB; at 100k customers the default cache
    # made each record's lookups go to the file.
    cur.execute("PRAGMA cache_size = -65536")
    cur.close()


def _sqlite_read_only(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    dbapi_conn.execute("PRAGMA query_only = ON")   # whatever a caller tries, no write


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
