"""The store's engine: errors translated and classified, parameters hidden, reads retried,
read-only opens that write nothing (findings M1, M6, L7, L8)."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from hub.errors import ConfigError, StoreRefused, StoreUnavailable
from hub.retry import retry_store
from hub.store.engine import open_engine, read, reading, unit_of_work
from hub.store.tables import checkpoints


def _attempts(engine: Engine, what: str, sql: str) -> int:
    """How often a retried unit of work ran ``sql`` before giving up."""
    tries = 0

    @retry_store
    def write() -> None:
        nonlocal tries
        tries += 1
        with unit_of_work(engine, what) as conn:
            conn.exec_driver_sql(sql)

    with pytest.raises(StoreRefused):
        write()
    return tries


def test_sql_parameters_never_reach_an_error_message(sqlite_engine: Engine) -> None:
    row = {"pipeline": "p", "value": "national code 0076229645", "updated_at": datetime.now()}
    with sqlite_engine.begin() as conn:
        conn.execute(insert(checkpoints), row)
    with pytest.raises(IntegrityError) as info, sqlite_engine.begin() as conn:
        conn.execute(insert(checkpoints), row)   # the same pipeline twice
    assert "0076229645" not in str(info.value)
    assert "hidden" in str(info.value)


def test_a_full_disk_is_not_retried_and_says_what_to_do(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/store.sqlite")

    @event.listens_for(engine, "connect")
    def tiny(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA max_page_count = 40")   # the disk is "full" at 40 pages

    engine.dispose()
    sql = "CREATE TABLE filler AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 " \
          "FROM n WHERE i < 100000) SELECT i, printf('%0500d', i) AS pad FROM n"
    assert _attempts(engine, "filling the disk", sql) == 1
    with pytest.raises(StoreRefused, match="database or disk is full: its disk is full: free "
                                           "space"), \
            unit_of_work(engine, "filling the disk") as conn:
        conn.exec_driver_sql(sql)


def test_a_read_only_store_is_not_retried(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/store.sqlite")

    @event.listens_for(engine, "connect")
    def read_only(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only = ON")

    engine.dispose()
    assert _attempts(engine, "writing", "CREATE TABLE t (x)") == 1


def test_a_locked_store_is_retried(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/store.sqlite")
    tries = 0

    @retry_store
    def write() -> None:
        nonlocal tries
        tries += 1
        with unit_of_work(engine, "writing") as conn:
            if tries < 3:
                raise_locked(conn)

    write()
    assert tries == 3


def raise_locked(conn: Connection) -> None:
    from sqlalchemy.exc import OperationalError

    raise OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked"))


def test_opening_a_read_is_retried_and_read_retries_the_whole_read(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/store.sqlite")
    engine.dispose()
    failures = {"connect": 2}

    @event.listens_for(engine, "do_connect")
    def flaky(*_args: Any) -> None:
        if failures["connect"]:
            failures["connect"] -= 1
            raise sqlite3.OperationalError("database is locked")

    with reading(engine, "reading once") as conn:     # two failed connects, then fine
        assert conn.execute(select(1)).scalar() == 1
    assert failures["connect"] == 0

    calls = []

    def count(conn: Connection) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise_locked(conn)
        return int(conn.execute(select(func.count()).select_from(checkpoints)).scalar_one())

    assert read(engine, "counting checkpoints", count) == 0
    assert len(calls) == 2


def test_an_error_never_shows_a_password_even_one_sqlalchemy_misreads(
        tmp_path: Path) -> None:
    # "a@b" unencoded is refused; encoded, SQLAlchemy decodes it and must still hide it.
    with pytest.raises(ConfigError, match="percent-encode") as refused:
        open_engine("postgresql+psycopg://peyvand:S3cr3t@Tail9@127.0.0.1:1/x")
    assert "S3cr3t" not in str(refused.value) and "Tail9" not in str(refused.value)
    with pytest.raises(StoreUnavailable) as down:
        open_engine("postgresql+psycopg://peyvand:S3cr3t%40Tail9@127.0.0.1:1/x")
    assert "S3cr3t" not in str(down.value) and "Tail9" not in str(down.value)
    assert "peyvand:***@127.0.0.1:1" in str(down.value)


@pytest.mark.parametrize("url", ["nonsense", "foo://x/y", "sqlite+nodriver:///x"])
def test_an_unusable_store_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match=r"store\.url"):
        open_engine(url)


def test_a_read_only_open_writes_nothing_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    open_engine(f"sqlite:///{path}").dispose()
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    engine = open_engine(f"sqlite:///{path}", read_only=True)
    with reading(engine, "reading") as conn:
        assert conn.execute(select(checkpoints)).all() == []
    with pytest.raises(StoreRefused, match="read-only"), unit_of_work(engine, "writing") as conn:
        conn.execute(text("DELETE FROM checkpoints"))
    engine.dispose()
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]


def test_a_read_only_open_of_a_store_being_written_sees_its_commits(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    writer = open_engine(f"sqlite:///{path}")
    with writer.connect() as held:         # keeps the -wal: commits may not be in the file
        with unit_of_work(writer, "writing") as conn:
            conn.execute(insert(checkpoints).values(
                pipeline="p", value="x", updated_at=datetime.now()))
        assert (tmp_path / "store.sqlite-wal").exists()
        reader = open_engine(f"sqlite:///{path}", read_only=True)
        with reading(reader, "reading") as conn:
            assert conn.execute(select(checkpoints.c.value)).scalar() == "x"
        reader.dispose()
        held.close()
    writer.dispose()


def test_a_read_only_open_without_a_store_creates_none(tmp_path: Path) -> None:
    with pytest.raises(StoreRefused, match=r"no store at .*: run `peyvand run` first"):
        open_engine(f"sqlite:///{tmp_path}/missing/store.sqlite", read_only=True)
    assert list(tmp_path.iterdir()) == []


# --- PostgreSQL ------------------------------------------------------------------------------

def test_a_read_only_open_on_postgresql_refuses_writes(pg_engine: Engine) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)   # keeps its search_path
    reader = open_engine(url, read_only=True)
    try:
        with reading(reader, "reading") as conn:
            assert conn.execute(select(func.count()).select_from(checkpoints)).scalar() == 0
        with pytest.raises(StoreRefused, match="read-only"), \
                unit_of_work(reader, "writing") as conn:
            conn.execute(insert(checkpoints).values(pipeline="p", value="x",
                                                    updated_at=datetime.now()))
    finally:
        reader.dispose()


class _FlakyProxy:
    """The finding's proxy: forwards to PostgreSQL and resets every connection each period."""

    def __init__(self, target: tuple[str, int], period: float) -> None:
        import asyncio

        self.target, self.period = target, period
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),),
                                       daemon=True)
        self.thread.start()
        self.ready.wait(10)

    async def _main(self) -> None:
        import asyncio

        conns: set[tuple[Any, Any]] = set()

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except Exception:   # a reset connection ends its pipe
                pass

        async def handle(cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
            sr, sw = await asyncio.open_connection(*self.target)
            conns.add((cw, sw))
            await asyncio.gather(pipe(cr, sw), pipe(sr, cw))

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.stopping = asyncio.Event()
        while not self.stopping.is_set():
            await asyncio.sleep(self.period)
            for pair in list(conns):
                for w in pair:
                    w.transport.abort()
                conns.discard(pair)
        server.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(10)
        self.loop.close()


def test_reads_through_a_connection_resetting_proxy_are_retried(pg_engine: Engine) -> None:
    """M6: a proxy resetting PostgreSQL connections every 0.3 s; reads go on (retried), and
    an error that does get out names no SQL parameter (source ids can be personal)."""
    url = pg_engine.url
    proxy = _FlakyProxy((url.host or "127.0.0.1", url.port or 5432), 0.3)
    flaky = open_engine(url.set(host="127.0.0.1", port=proxy.port)
                        .render_as_string(hide_password=False), migrate=False)
    ids = [f"0076229{i:03d}" for i in range(300)]
    try:
        deadline = time.monotonic() + 3
        reads = 0
        while time.monotonic() < deadline:
            got = read(flaky, "looking up checkpoints", lambda conn: conn.execute(
                select(checkpoints.c.pipeline).where(checkpoints.c.pipeline.in_(ids))).all())
            assert got == []
            reads += 1
            time.sleep(0.01)
        assert reads > 20
    finally:
        flaky.dispose()
        proxy.close()
