"""Opening the ``sql`` adapter's database, and its driver's errors in our words.

The URL comes from the environment variable ``options.url_env`` names (or from
``options.url``, which holds no password). Engines hide SQL parameters from their error
messages (a key can be a national code), open one connection per read with no pool to
keep between runs, and time out connecting after ``options.connect_timeout`` seconds.
MySQL and MariaDB sessions run in UTC (``time_zone = '+00:00'``) with ``utf8mb4``, so a
``TIMESTAMP`` column reads the same whatever the server's default zone, and Persian text
arrives whole. A SQLite file is opened read-only, and a missing one is an error, never a
new empty database.

Errors: a driver error that a later attempt may not meet (connection refused, reset or
lost, "server has gone away", a timeout, a deadlock, a server shutting down) becomes
``SourceDown``, which the adapter declares transient: ``Adapter.read`` raises it as
``SourceUnavailable``. One that no retry fixes (a table or column that does not exist,
a syntax error, a refused login, a missing permission) becomes ``FatalSourceError`` with
a sentence saying what to check: never a traceback carrying the SQL and its parameters.
Servers say which by the SQLSTATE class of the error (PostgreSQL and MySQL alike); errors
without one (the client's own, SQLite's) by their message.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.pool import NullPool

from hub.errors import FatalSourceError
from hub.log import mask_url, password_problem, without_password


class SourceDown(Exception):
    """The database could not be reached or dropped the connection: try again later."""


# SQLSTATE classes no retry fixes: data exception (22), integrity (23), authorization
# (28), catalog (3D), schema (3F), syntax or access rule (42), feature not supported (0A).
_FATAL_CLASSES = frozenset({"0A", "21", "22", "23", "28", "2B", "3D", "3F", "42", "44"})
# The same, for errors that carry no SQLSTATE: PostgreSQL's refusals at connection time
# and SQLite's messages.
_FATAL_WORDS = ("no such table", "no such column", "syntax error", "unable to open database",
                "file is not a database", "not authorized", "authentication failed",
                "does not exist", "no pg_hba.conf entry", "access denied")
_SQLSTATE = re.compile(r"[0-9A-Z]{5}")
_MYSQL = ("mysql", "mariadb")
_SNAPSHOT: dict[str, dict[str, Any]] = {
    # One consistent snapshot for the whole read (MVCC, no locks taken): rows changed
    # while the pages are read are seen as they were at its start, never twice.
    "postgresql": {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True},
    "mysql": {"isolation_level": "REPEATABLE READ"},
    "mariadb": {"isolation_level": "REPEATABLE READ"},
}


@dataclass(frozen=True)
class Database:
    """An opened source: its engine and its URL as shown (password masked)."""

    engine: Engine
    shown: str
    where: str   # where the URL came from, for messages: "$ERP_DATABASE_URL"

    @contextmanager
    def reading(self, what: str, hint: str) -> Iterator[Connection]:
        """One read transaction (a snapshot where the database has one), driver errors
        translated; ``what`` says what it does, ``hint`` what to check when it fails."""
        with self.translated(what, hint), self.engine.connect() as conn:
            options = _SNAPSHOT.get(self.engine.dialect.name, {})
            with conn.execution_options(**options).begin():
                yield conn

    @contextmanager
    def translated(self, what: str, hint: str) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            reason = self._reason(exc)
            if is_fatal(exc, reason):
                advice = _advice(_state(exc), reason.lower()) or hint
                raise FatalSourceError(f"sql: {what} at {self.shown} failed: {reason}; "
                                       f"{advice}") from exc
            raise SourceDown(f"the database at {self.shown} failed while {what}: "
                             f"{reason}") from exc

    def _reason(self, exc: DBAPIError) -> str:
        state = _state(exc)
        if state[:2] == "22":   # a data exception may quote a value: a key, a person's
            return f"a value could not be read (SQLSTATE {state})"
        return without_password(_message(exc),
                                self.engine.url.render_as_string(hide_password=False))


def _message(exc: DBAPIError) -> str:
    """The driver's own first line: no SQL, no parameters."""
    orig = exc.orig
    if orig is None:
        return str(exc).strip().splitlines()[0]
    args = orig.args
    if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return f"{args[1]} (error {args[0]})"   # PyMySQL: (1054, "Unknown column ...")
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def is_fatal(exc: DBAPIError, reason: str) -> bool:
    """Whether no retry can fix ``exc`` (see the module docstring)."""
    if exc.connection_invalidated:
        return False
    state = _state(exc)
    if state:
        return state[:2] in _FATAL_CLASSES
    if not isinstance(exc, OperationalError | InterfaceError):
        return True   # ProgrammingError, DataError...: the statement itself is wrong
    return any(word in reason.lower() for word in _FATAL_WORDS)


def _state(exc: DBAPIError) -> str:
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    if not state and orig is not None and orig.args and isinstance(orig.args[0], str) \
            and _SQLSTATE.fullmatch(orig.args[0]):
        state = orig.args[0]   # pyodbc puts it first
    return str(state or "")


def _advice(state: str, text: str) -> str | None:
    if state[:2] == "28" or any(w in text for w in ("authentication failed", "access denied "
                                                    "for user", 'role "', "pg_hba.conf")):
        return "check the user and password of the database URL"
    if state == "3D000" or "unknown database" in text or (
            'database "' in text and "does not exist" in text):
        return "check the database name in the URL"
    if state == "42501" or "permission denied" in text or "command denied" in text:
        return "grant the URL's user SELECT on what it reads (a read-only user is best)"
    return None


# --- opening -------------------------------------------------------------------------

def source_url(url: str | None, url_env: str | None) -> tuple[str, str]:
    """(the URL, where it came from): the environment variable's value, or ``url``."""
    if url_env is None:
        assert url is not None   # the options name exactly one
        return url, "options.url"
    value = os.environ.get(url_env, "").strip()
    if not value:
        raise FatalSourceError(
            f"sql: the environment variable {url_env} is not set; it must hold the "
            "database URL (options.url_env names it), e.g. "
            f"{url_env}=postgresql+psycopg://odoo:SECRET@db.example.com:5432/odoo")
    return value, f"${url_env}"


def open_database(url: str, where: str, base_dir: Path, timeout: int) -> Database:
    """An engine on ``url``; FatalSourceError when the URL or its driver is wrong."""
    if problem := password_problem(url):
        raise FatalSourceError(f"sql: {where}: {problem}")
    shown = mask_url(url)
    try:
        parsed = make_url(url)
        engine = _engine(parsed, base_dir, timeout)
    except (ArgumentError, ValueError) as exc:
        raise FatalSourceError(f"sql: {where}: {shown} is not a database URL; expected one "
                               "such as postgresql+psycopg://odoo@db:5432/odoo") from exc
    except (NoSuchModuleError, ImportError) as exc:
        raise FatalSourceError(
            f"sql: {where}: {shown}: its driver is not installed or not known "
            f"({getattr(exc, 'name', None) or exc}); for MySQL or MariaDB write "
            "mysql+pymysql:// or mariadb+pymysql:// and install peyvand[mysql], for "
            "PostgreSQL postgresql+psycopg:// and peyvand[postgres]") from exc
    return Database(engine, shown, where)


def _engine(parsed: URL, base_dir: Path, timeout: int) -> Engine:
    backend = parsed.get_backend_name()
    options: dict[str, Any] = {"hide_parameters": True, "poolclass": NullPool}
    if backend == "sqlite":
        options["creator"] = _sqlite_reader(parsed, base_dir, timeout)
        parsed = make_url("sqlite://")
    else:
        options["connect_args"] = _connect_args(parsed, timeout)
    engine = create_engine(parsed, **options)
    if backend in _MYSQL:
        event.listen(engine, "connect", _utc_session)
    return engine


def _connect_args(parsed: URL, timeout: int) -> dict[str, Any]:
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "postgresql":
        return {"connect_timeout": timeout}
    if backend in _MYSQL:
        extra: dict[str, Any] = {"connect_timeout": timeout}
        if "charset" not in parsed.query:
            extra["charset"] = "utf8mb4"
        return extra
    if driver == "pyodbc":
        return {"timeout": timeout}
    return {}


def _utc_session(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET time_zone = '+00:00'")
    finally:
        cursor.close()


def _sqlite_reader(parsed: URL, base_dir: Path, timeout: int) -> Callable[[], Any]:
    """A connect function opening the URL's file read-only (relative to the pipeline's
    folder, like a spreadsheet's path)."""
    path = Path(parsed.database or "")
    path = (path if path.is_absolute() else base_dir / path).resolve()
    if not parsed.database or not path.is_file():
        raise FatalSourceError(f"sql: no SQLite database at {path}; check the URL")
    uri = f"file:{quote(str(path))}?mode=ro"
    return lambda: sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
