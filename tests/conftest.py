"""Shared fixtures: stores (SQLite, PostgreSQL), a MariaDB database and the RabbitMQ broker.

Tests that need a real server request ``postgres_url``/``pg_engine``,
``mariadb_url``/``mariadb_database`` or ``amqp_url`` and are marked
``postgres``/``mariadb``/``rabbitmq`` automatically. An unreachable server skips
them with the reason, except under ``CI=true``, where the servers must run.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from kombu.connection import Connection
from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hub.bus.topology import mask_url
from hub.store.engine import open_engine

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_MARIADB_URL = "mariadb+pymysql://root@127.0.0.1:3306/test"
_CONNECT_TIMEOUT = 3  # seconds


# --- markers -------------------------------------------------------------------------

_MARK_BY_FIXTURE = {"postgres_url": "postgres", "pg_engine": "postgres",
                    "amqp_url": "rabbitmq",
                    "mariadb_url": "mariadb", "mariadb_database": "mariadb"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by the servers their fixtures need (``-m "not postgres"`` ...).

    Only fixtures named in the signature (or their dependencies) are seen; a test that
    reaches a server through ``request.getfixturevalue`` must mark itself.
    """
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for mark in sorted({m for f, m in _MARK_BY_FIXTURE.items() if f in names}):
            item.add_marker(getattr(pytest.mark, mark))


def _unreachable(what: str, url: str, exc: BaseException) -> NoReturn:
    message = f"{what} not reachable at {url}: {exc}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: the test servers must run)", pytrace=False)
    pytest.skip(message)


# --- stores --------------------------------------------------------------------------

@pytest.fixture(name="sqlite_engine")
def _sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path}/store.sqlite")
    yield engine
    engine.dispose()


@pytest.fixture(name="engine", params=["sqlite_engine",
                                       pytest.param("pg_engine", marks=pytest.mark.postgres)])
def _engine(request: pytest.FixtureRequest) -> Engine:
    """The test runs twice: on a SQLite store and on a PostgreSQL one."""
    engine: Engine = request.getfixturevalue(request.param)
    return engine


@pytest.fixture(name="postgres_url", scope="session")
def _postgres_url() -> str:
    url = os.environ.get("PEYVAND_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    shown = make_url(url).render_as_string(hide_password=True)
    probe = create_engine(url, connect_args={"connect_timeout": _CONNECT_TIMEOUT})
    try:
        with probe.connect():
            return url
    except OperationalError as exc:
        error: BaseException = exc.orig or exc
    finally:
        probe.dispose()
    _unreachable("PostgreSQL", shown, error)


@pytest.fixture(name="pg_engine")
def _pg_engine(postgres_url: str) -> Iterator[Engine]:
    """A store in a schema of its own, dropped afterwards: tests never share rows."""
    schema = f"t_{uuid.uuid4().hex}"
    admin = create_engine(postgres_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        # libpq options make the schema the search path of every connection of the engine.
        url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
        engine = open_engine(url.render_as_string(hide_password=False))
        try:
            yield engine
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(name="mariadb_url", scope="session")
def _mariadb_url() -> str:
    url = os.environ.get("PEYVAND_TEST_MARIADB_URL", DEFAULT_MARIADB_URL)
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        probe = create_engine(url, connect_args={"connect_timeout": _CONNECT_TIMEOUT})
    except ImportError as exc:   # the driver: PyMySQL comes with .[dev]
        _unreachable("MariaDB", shown, exc)
    try:
        with probe.connect():
            return url
    except OperationalError as exc:
        error: BaseException = exc.orig or exc
    finally:
        probe.dispose()
    _unreachable("MariaDB", shown, error)


@pytest.fixture(name="mariadb_database")
def _mariadb_database(mariadb_url: str) -> Iterator[str]:
    """The URL of a database of its own (``t_<uuid>``), dropped afterwards: a MariaDB
    schema is a database, so this is pg_engine's schema per test."""
    name = f"t_{uuid.uuid4().hex}"
    admin = create_engine(mariadb_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        try:
            yield make_url(mariadb_url).set(database=name).render_as_string(
                hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        admin.dispose()


# --- bus -----------------------------------------------------------------------------

@pytest.fixture(name="amqp_url", scope="session")
def _amqp_url() -> str:
    url = os.environ.get("PEYVAND_TEST_AMQP_URL", DEFAULT_AMQP_URL)
    with Connection(url, connect_timeout=_CONNECT_TIMEOUT) as conn:
        try:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=_CONNECT_TIMEOUT)
            return url
        except (*conn.connection_errors, OSError, KombuOperationalError) as exc:
            error = exc
    _unreachable("RabbitMQ", mask_url(url), error)


@pytest.fixture(name="store_url", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.postgres)])
def _store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL of each kind: an SQLite file in tmp_path, a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.sqlite"
    engine: Engine = request.getfixturevalue("pg_engine")
    return engine.url.render_as_string(hide_password=False)


SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


@pytest.fixture(name="shared_samples", scope="session")
def _shared_samples() -> Path:
    """The real-world samples (../shared/samples beside the checkout): a test that reads
    them skips where they are absent, and fails under CI=true, where they must be."""
    if not SHARED_SAMPLES.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"real-world samples missing at {SHARED_SAMPLES} (required under "
                        "CI=true)")
        pytest.skip(f"real-world samples not found at {SHARED_SAMPLES} (../shared/samples "
                    "beside the checkout)")
    return SHARED_SAMPLES


@pytest.fixture(name="listener")
def _listener() -> Iterator[tuple[str, list[bytes]]]:
    """A local TCP server counting the connections made to it: (its URL, connections)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    hits: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            hits.append(conn.recv(200))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", hits
    stop.set()
    thread.join()
    server.close()
