"""Store URL -> SQLAlchemy engine with its schema up to date; the unit of work.

Every transaction goes through ``unit_of_work`` (writing) or ``reading``: the store's
driver errors become ``StoreUnavailable`` there, and only there, so callers retry one
kind of error (``hub.retry``) and messages never carry a driver's traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from hub.errors import StoreUnavailable
from hub.store.dialect import WRITING, engine_options, prepare_engine


def open_engine(url: str, *, migrate: bool = True) -> Engine:
    """Connect to the store at ``url`` and bring its schema up to date.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://…``).
        migrate: create or upgrade the schema (``hub.store.migrate``); off only for
            tools that must see a store as it is.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **engine_options(backend))
    prepare_engine(engine)
    if migrate:
        from hub.store.migrate import upgrade  # alembic loads only when needed

        upgrade(engine)
    return engine


@contextmanager
def unit_of_work(engine: Engine, what: str) -> Iterator[Connection]:
    """One writing transaction: committed when the block ends, rolled back on an error.

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
    """One read-only transaction, with store failures translated like writes."""
    with _translated(engine, what), engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def _translated(engine: Engine, what: str) -> Iterator[None]:
    try:
        yield
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            shown = engine.url.render_as_string(hide_password=True)
            raise StoreUnavailable(f"the store at {shown} failed while {what}: "
                                   f"{_reason(exc)}") from exc
        raise


def _reason(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
