"""One run of a pipeline at a time: locks held for the whole run, released by a crash.

A scheduled sync that starts while the previous one still runs must not read the same
source twice at once. The lock outlives every transaction of the run, so it is not a
transaction's lock:

* SQLite: an exclusive ``flock`` on a file beside the store (``<store>.locks/<name>``);
  the operating system drops it when the process ends, however it ends.
* PostgreSQL: session advisory locks (keyed by the store's schema and the pipeline) on a
  connection of their own, kept open for the run; the server drops them when that
  connection closes.

Taking the locks never waits, and a run takes every lock it needs before it reads
anything: a run of several pipelines either runs them all or, when one is running
elsewhere, none, and says which one.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text

from hub.errors import TransientError


class PipelineBusy(TransientError):
    """Another process is running this pipeline now; try again when it has finished."""


@contextmanager
def run_locks(engine: Engine, names: Sequence[str]) -> Iterator[None]:
    """Hold the run lock of every pipeline in ``names`` for the block; PipelineBusy if one
    is taken (then none is held)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn, _advisory(conn, names):
            yield
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        store = Path(str(engine.url.database))
        folder = store.with_name(store.name + ".locks")
        folder.mkdir(exist_ok=True)
        with ExitStack() as held:
            for name in names:
                held.enter_context(_file_lock(folder / name, name))
            yield
    else:   # an in-memory store lives in one process: nothing else can run it
        yield


def _busy(name: str, holder: str = "") -> PipelineBusy:
    return PipelineBusy(f"pipeline {name!r} is being run by another process{holder}; "
                        "this run did nothing: try again when that one has finished")


@contextmanager
def _file_lock(path: Path, name: str) -> Iterator[None]:
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(name, _holder(handle)) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))   # for the message another run prints
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    pid = handle.read().strip()
    return f" (pid {pid})" if pid.isdigit() else ""


@contextmanager
def _advisory(conn: Connection, names: Sequence[str]) -> Iterator[None]:
    taken: list[int] = []
    # Advisory locks are the database's: the schema tells apart stores that share one.
    schema = conn.execute(text("SELECT current_schema()")).scalar()
    try:
        for name in names:
            key = zlib.crc32(f"peyvand.run.{schema}.{name}".encode())
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                raise _busy(name)
            taken.append(key)
        conn.commit()   # session locks outlive the statement's transaction
        yield
    finally:
        for key in taken:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        conn.commit()
