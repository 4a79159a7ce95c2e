"""Store URL -> SQLAlchemy engine with its schema up to date; the unit of work.

Every transaction goes through ``unit_of_work`` (writing) or ``reading``/``read``: the
store's driver errors become ``StoreUnavailable`` (passing: locked, unreachable) or
``StoreRefused`` (someone must act: disk full, read-only, missing) there, and only
there, so callers retry one kind of error (``hub.retry``) and messages never carry a
driver's traceback, a password or SQL parameters (engines hide them: source ids can be
personal data).

Where reads are retried: a context manager cannot run its block again, so ``reading``
retries what it does itself (checking out a connection and beginning the transaction,
where a restarting server or a dropped pooled connection shows up) and ``read`` runs a
whole read transaction as a function, retried like a write's unit of work. Repository
functions that read in one go should use ``read``; ``reading`` stays for callers that
must hold the transaction across their own code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from sqlalchemy import URL, Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from hub.errors import ConfigError, StoreRefused, StoreUnavailable
from hub.log import mask_url, password_problem
from hub.retry import retry_store
from hub.store.dialect import WRITING, engine_options, prepare_engine

R = TypeVar("R")


# Driver messages and SQLSTATEs that no retry can fix, with what the operator should do.
_SQLITE_REFUSALS = {
    "database or disk is full": "its disk is full: free space there (SQLite needs about "
                                "as much again as the largest batch), then run the command "
                                "again; nothing of this transaction was kept",
    "attempt to write a readonly database": "it is read-only: give this user write access "
                                            "to the file and its folder (SQLite writes "
                                            "-wal and -shm files beside it)",
}
# Not "unable to open database file": a network folder coming back, a volume being
# mounted; it stays StoreUnavailable and is retried.
_PG_REFUSALS = {
    "53100": "its disk is full: free space on the database server, then run again",
    "25006": "it is read-only (a standby or a read-only transaction): point store.url at "
             "the primary server",
}


def open_engine(url: str, *, migrate: bool = True, read_only: bool = False) -> Engine:
    """Connect to the store at ``url`` and bring its schema up to date.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://…``).
        migrate: create or upgrade the schema (``hub.store.migrate``); off only for
            tools that must see a store as it is.
        read_only: open for reading only: nothing is created, migrated or written (a
            snapshot, a replica, a read-only folder). The store must exist and its schema
            be this release's, else StoreRefused says what to do.

    Raises:
        ConfigError: ``url`` cannot be a store URL (unparsable, unknown driver, a
            password with characters that must be percent-encoded).
        StoreRefused: read-only, and there is no store or an older one.
    """
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if read_only:
        engine = _engine(parsed, backend, read_only=True)
        _check_schema(engine)
        return engine
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(parsed, backend)
    if migrate:
        from hub.store.migrate import upgrade  # alembic loads only when needed

        upgrade(engine)
    return engine


def _parse(url: str) -> URL:
    if problem := password_problem(url):
        raise ConfigError("store.url", [problem])
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        # The driver's own message quotes the URL whole: say it again, masked.
        raise ConfigError("store.url", [
            f"{mask_url(url)} is not a store URL this release can open: expected "
            "sqlite:///path/to/store.sqlite or postgresql+psycopg://user@host:5432/db"
        ]) from exc
    except ImportError as exc:
        raise ConfigError("store.url", [
            f"{mask_url(url)}: its driver is not installed ({exc.name}); for PostgreSQL "
            "install peyvand[postgres]"]) from exc
    return parsed


def _engine(parsed: URL, backend: str, *, read_only: bool = False) -> Engine:
    options = engine_options(parsed, read_only=read_only)
    if read_only and backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StoreRefused("no store to read: an in-memory store (sqlite://) lives only "
                               "in the process that made it")
        path = Path(parsed.database or "").absolute()
        if not path.is_file():
            raise StoreRefused(f"no store at {path}: run `peyvand run` first")
        options["creator"] = _read_only_connect(path)
    engine = create_engine(parsed, hide_parameters=True, **options)
    prepare_engine(engine, read_only=read_only)
    return engine


def _read_only_connect(path: Path) -> Callable[[], sqlite3.Connection]:
    """A connect function for reading ``path`` and writing nothing, not even beside it.

    A store with a ``-wal`` file may hold commits not yet in the main file (a writer is
    at work, or one stopped): it is opened ``mode=ro``, which reads them (SQLite needs
    its ``-shm`` then). Without one, every commit is in the main file and it is opened
    ``immutable``: no lock, no ``-wal``/``-shm`` created, so it works in a read-only
    folder. The price: a writer that starts during such a read and checkpoints (after
    about 4 MB of changes) could change the file under it; reads are short, and the next
    read sees the ``-wal`` and takes the safe road.
    """
    def connect() -> sqlite3.Connection:
        wal = path.with_name(path.name + "-wal")
        mode = "mode=ro" if wal.exists() else "immutable=1"
        uri = f"file:{quote(str(path.resolve()))}?{mode}"
        return sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
    return connect


def _check_schema(engine: Engine) -> None:
    """A read-only open migrates nothing: say so when the store is older than the code."""
    from hub.store.migrate import HEAD, current_revision

    shown = _shown(engine)
    with reading(engine, "opening the store") as conn:
        revision = current_revision(conn)
    if revision is None:
        raise StoreRefused(f"no store at {shown} (it holds no Peyvand tables): run "
                           "`peyvand run` first")
    if revision < HEAD:   # revisions are zero-padded numbers: "0002" < "0003"
        raise StoreRefused(
            f"the store at {shown} has schema {revision}, older than this release's {HEAD}, "
            "and reading commands do not upgrade it: run `peyvand relay` or `peyvand run` "
            "once (they upgrade it in place), then read again")
    if revision > HEAD:
        raise StoreRefused(
            f"the store at {shown} has schema {revision}, which this release of Peyvand does "
            f"not know (it knows up to {HEAD}): a newer release made it; upgrade Peyvand")


@contextmanager
def unit_of_work(engine: Engine, what: str) -> Iterator[Connection]:
    """One writing transaction: committed when the block ends, rolled back on an error.

    The caller retries the whole unit (``hub.retry.retry_store``).

    Args:
        engine: the store.
        what: what the transaction does, for the error message ("committing a batch
            of accounting").
    """
    with _translated(engine, what), \
            engine.connect().execution_options(**{WRITING: True}) as conn, conn.begin():
        yield conn


@contextmanager
def reading(engine: Engine, what: str) -> Iterator[Connection]:
    """One read-only transaction, with store failures translated like writes.

    Opening it (a connection, BEGIN) is retried; the block is not (see the module's
    docstring): prefer ``read`` where the read is one function.
    """
    conn = _begun(engine, what)
    with _translated(engine, what), conn:
        tx = conn.get_transaction()
        assert tx is not None   # _begun began it
        with tx:
            yield conn


def read(engine: Engine, what: str, fn: Callable[[Connection], R]) -> R:
    """``fn(conn)`` in one read transaction, tried again whole when the store is locked or
    unreachable, like a writing unit of work."""
    @retry_store
    def attempt() -> R:
        with _translated(engine, what), engine.connect() as conn, conn.begin():
            return fn(conn)
    return attempt()


@retry_store
def _begun(engine: Engine, what: str) -> Connection:
    with _translated(engine, what):
        conn = engine.connect()
        try:
            conn.begin()
        except BaseException:
            conn.close()
            raise
        return conn


@contextmanager
def _translated(engine: Engine, what: str) -> Iterator[None]:
    try:
        yield
    except (OperationalError, DBAPIError) as exc:
        refusal = _refusal(exc)
        if refusal:
            raise StoreRefused(f"the store at {_shown(engine)} failed while {what}: "
                               f"{_reason(exc)}: {refusal}") from exc
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            busy = " (another process is writing to it)" if "locked" in _reason(exc) else ""
            raise StoreUnavailable(f"the store at {_shown(engine)} failed while {what}: "
                                   f"{_reason(exc)}{busy}") from exc
        raise


def _refusal(exc: DBAPIError) -> str | None:
    reason = _reason(exc)
    for message, advice in _SQLITE_REFUSALS.items():
        if message in reason:
            return advice
    return _PG_REFUSALS.get(str(getattr(exc.orig, "sqlstate", "") or ""))


def _shown(engine: Engine) -> str:
    # SQLAlchemy reads an unencoded "@" in a password as part of the host, and its own
    # hide_password would then show the rest: mask the rendered URL by the last "@".
    return mask_url(engine.url.render_as_string(hide_password=False))


def _reason(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
