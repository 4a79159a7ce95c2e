"""The store's schema: built by the migrations, upgraded in place from release 0.1.

A fresh store has exactly the schema of ``hub.store.tables``; real stores made by 0.1
(``tests/data/skeleton_store``: its demo run, 147 customers from 197 source records,
191 events, 7 quarantined) upgrade to ``HEAD`` keeping every record, link and event, and
the shipped demo runs on the upgraded store without changing anything.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from hub import events
from hub.errors import StoreUnavailable
from hub.store.engine import open_engine
from hub.store.migrate import HEAD, MIGRATIONS
from hub.store.outbox import read
from hub.store.tables import links, masters, metadata, outbox, quarantine, source_records

DUMPS = Path(__file__).resolve().parent / "data" / "skeleton_store"
RECORDS, CUSTOMERS, EVENTS, QUARANTINED = 197, 147, 191, 7   # the 0.1 demo run
CUSTOMER_EVENTS = {"customer.created", "customer.updated", "customer.merged"}

# The 0.1 tables, read before the upgrade with the columns 0.1 had.
_old_records = sa.table("source_records", sa.column("source_system"), sa.column("source_id"),
                        sa.column("master_id"))
_old_outbox = sa.table("outbox", sa.column("seq"), sa.column("type"), sa.column("subject"),
                       sa.column("published_at"), sa.column("payload", sa.JSON))
_QUARANTINE_COLUMNS = ("id", "pipeline", "source_system", "source_id", "content_hash",
                       "location", "stage", "field", "reason", "status")
_old_quarantine = sa.table("quarantine", *(sa.column(c) for c in _QUARANTINE_COLUMNS))


# --- helpers -------------------------------------------------------------------------

def _schema_url(postgres_url: str, schema: str) -> str:
    """``postgres_url`` with ``schema`` as the search path of every connection."""
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(name="pg_schema")
def _pg_schema(postgres_url: str) -> Iterator[tuple[Engine, str]]:
    """An empty schema (nothing migrated), dropped afterwards; and an engine to fill it."""
    schema = f"t_{uuid.uuid4().hex}"
    admin = create_engine(postgres_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield admin, schema
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def _load_sqlite_dump(path: Path) -> None:
    sql = gzip.decompress((DUMPS / "sqlite.sql.gz").read_bytes()).decode("utf-8")
    with sqlite3.connect(path) as conn:
        conn.executescript(sql)
    conn.close()


def _load_pg_dump(admin: Engine, schema: str) -> None:
    """Restore the 0.1 ``pg_dump`` (schema ``skeleton``) into ``schema``."""
    sql = gzip.decompress((DUMPS / "postgresql.sql.gz").read_bytes()).decode("utf-8")
    assert "CREATE SCHEMA skeleton;\n" in sql
    sql = sql.replace("CREATE SCHEMA skeleton;\n", "").replace("skeleton.", f'"{schema}".')
    raw = admin.raw_connection()   # its own connection: the dump clears the search path
    try:
        with raw.driver_connection.cursor() as cur:
            cur.execute(sql)       # no parameters: psycopg sends every statement at once
        raw.commit()
    finally:
        raw.invalidate()


def _snapshot(url: str) -> dict[str, Any]:
    """What the 0.1 store holds, read without migrating it."""
    engine = open_engine(url, migrate=False)
    try:
        with engine.connect() as conn:
            assert not inspect(conn).has_table("alembic_version")   # really a 0.1 store
            return {
                "records": set(conn.execute(select(_old_records)).all()),
                "outbox": {r.seq: r for r in conn.execute(select(_old_outbox))},
                "quarantine": set(conn.execute(select(_old_quarantine)).all()),
            }
    finally:
        engine.dispose()


def _expected_data(event_type: str, subject: str, old: dict[str, Any]) -> dict[str, Any]:
    """The 0.2 payload of a 0.1 event, as 0.2's own builders (hub.events) make it."""
    if event_type == "record.rejected":
        return events.record_rejected(old["pipeline"], (old["source_system"], old["source_id"]),
                                      old["location"], old["stage"], old["field"],
                                      old["reason"]).data
    data = {"customer": events.public_customer(subject, old["status"], old["golden"])}
    if event_type == "customer.merged":
        data["merged_ids"] = sorted(old["merged"])
    return data


def _assert_upgraded(engine: Engine, before: dict[str, Any]) -> None:
    """The essentials of an upgraded 0.1 store: revision, records, links, events, quarantine."""
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() \
            == [HEAD]
        records = set(conn.execute(select(source_records.c.source_system,
                                          source_records.c.source_id,
                                          source_records.c.master_id)).all())
        assert len(before["records"]) == RECORDS
        assert records == before["records"]
        legacy = conn.execute(select(links.c.decision, func.count()).group_by(
            links.c.decision)).all()
        assert legacy == [("legacy", RECORDS)]
        # One legacy link per record, to the master the record is linked to.
        linked = set(conn.execute(select(source_records.c.source_system,
                                         source_records.c.source_id, links.c.master_id)
                                  .join(links, links.c.source_record_id == source_records.c.id))
                     .all())
        assert linked == records
        assert conn.execute(select(func.count()).select_from(masters)
                            .where(masters.c.status == "active")).scalar_one() == CUSTOMERS
        entries = set(conn.execute(select(*(quarantine.c[c] for c in _QUARANTINE_COLUMNS)))
                      .all())
        assert len(entries) == QUARANTINED
        assert entries == before["quarantine"]
    log = read(engine)
    assert [e.seq for e in log] == sorted(before["outbox"]) and len(log) == EVENTS
    for event in log:
        old = before["outbox"][event.seq]
        assert (event.type, event.subject) == (old.type, old.subject)
        assert event.published_at is not None and old.published_at is not None
        assert event.data == _expected_data(event.type, event.subject, old.payload["data"])
        if event.type in CUSTOMER_EVENTS:
            assert event.data["customer"]["id"] == event.subject
            assert all(isinstance(s, dict) and set(s) == {"system", "id"}
                       for s in event.data["customer"]["sources"])
        else:
            assert event.data["source"] == dict(zip(("system", "id"),
                                                    event.subject.split("/", 1), strict=True))
    assert {e.type for e in log} == {"customer.created", "customer.updated", "record.rejected"}


def _run_demo(url: str, cwd: Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    """``peyvand run`` in an empty folder with the shipped configuration, on ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEYVAND__")}
    env["PEYVAND__STORE__URL"] = url
    done = subprocess.run([sys.executable, "-m", "hub", "run"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == code, done.stderr
    return done


def _summary_rows(stdout: str) -> dict[str, list[int]]:
    """The run summary's table: pipeline -> read, quarantined, values set aside,
    unchanged, new masters, linked, masters merged."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) > 1 and all(c.isdigit() for c in cells[1:]):
            rows[cells[0]] = [int(c) for c in cells[1:]]
    return rows


def _state(engine: Engine) -> dict[str, Any]:
    """What a rerun must leave as it is."""
    with engine.connect() as conn:
        return {
            "masters": conn.execute(select(masters.c.id, masters.c.status, masters.c.version)
                                    .order_by(masters.c.id)).all(),
            "records": conn.execute(select(source_records.c.id, source_records.c.master_id,
                                           source_records.c.content_hash)
                                    .order_by(source_records.c.id)).all(),
            "links": conn.execute(select(func.count()).select_from(links)).scalar_one(),
            "outbox": conn.execute(select(outbox.c.seq, outbox.c.type)
                                   .order_by(outbox.c.seq)).all(),
            "quarantine": conn.execute(select(quarantine.c.id, quarantine.c.status)
                                       .order_by(quarantine.c.id)).all(),
            "profiles": conn.execute(select(func.count()).select_from(source_records)
                                     .where(source_records.c.profile.is_not(None)))
                            .scalar_one(),
        }


def _rerun_changes_nothing(url: str, engine: Engine, cwd: Path) -> None:
    """The demo, run again on the upgraded store, changes nothing, twice over."""
    before = _state(engine)
    assert before["profiles"] == 0   # 0.1 had no profiles; the migration computes none

    # 1. Exactly as a user would: the 0.1 checkpoints (file hash + last row) are still
    # valid for the unchanged demo files, so the pipelines resume at their end and read
    # nothing. "Events published: 0": the upgrade rewrote the 0.1 events in place but kept
    # their published_at (0.1 had published them all), so the relay has nothing to send.
    done = _run_demo(url, cwd)
    assert _summary_rows(done.stdout) == {"accounting_customers": [0] * 7,
                                          "sales_leads": [0] * 7, "contact_form": [0] * 7}
    assert f"Customer master: {CUSTOMERS} customers. Events published: 0." in done.stdout
    after = _state(engine)
    assert after == before   # no new event (customer.created or any), no link, no profile

    # 2. As if the files had been exported again: without the checkpoints every row is
    # read and goes through 0.2's stages. Each stored record is recognised as unchanged
    # by its canonical content hash, which 0.2 computes as 0.1 did (its raw hash
    # differs: 0.2 hashes the mapping too, and rewrites it). The rows 0.1 held back
    # whole for one bad value are now accepted with that value set aside (0.2's
    # field-level quarantine): each becomes a customer, its old entry closes and a
    # "values" entry opens.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM checkpoints"))
    done = _run_demo(url, cwd, code=3)   # 3: the seven values set aside are new entries
    rows = _summary_rows(done.stdout)
    totals = [sum(r[i] for r in rows.values()) for i in range(7)]
    assert totals == [RECORDS + QUARANTINED, 0, QUARANTINED, RECORDS, QUARANTINED, 0, 0]
    assert f"Customer master: {CUSTOMERS + QUARANTINED} customers. " \
           f"Events published: {QUARANTINED}." in done.stdout
    after = _state(engine)
    assert after["records"][:len(before["records"])] == before["records"]
    assert len(after["records"]) == len(before["records"]) + QUARANTINED
    assert [t for _, t in after["outbox"][len(before["outbox"]):]] == \
        ["customer.created"] * QUARANTINED
    with engine.connect() as conn:
        kinds = conn.execute(select(quarantine.c.kind, quarantine.c.status, func.count())
                             .group_by(quarantine.c.kind, quarantine.c.status)).all()
    assert sorted(kinds) == [("record", "resolved", QUARANTINED),
                             ("values", "open", QUARANTINED)]


def _migration(name: str) -> ModuleType:
    path = MIGRATIONS / "versions" / name
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- a new store ---------------------------------------------------------------------

def test_new_store_has_exactly_the_schema_of_tables(engine: Engine) -> None:
    """The migrations build what hub.store.tables describes, on SQLite and PostgreSQL."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":   # compared in the test's own schema
            assert inspect(conn).default_schema_name.startswith("t_")
        assert set(inspect(conn).get_table_names()) == {*metadata.tables, "alembic_version"}
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_head_is_the_newest_migration() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_heads() == [HEAD]


def test_store_of_a_newer_release_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.sqlite"
    open_engine(url).dispose()
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    with pytest.raises(StoreUnavailable, match=r"'9999'.*a newer release made it"):
        open_engine(url)


def test_two_processes_create_a_new_store_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.sqlite"
    start = time.time() + 2   # both import first, then open the store at the same moment
    code = ("import time; from hub.store.engine import open_engine; "
            f"time.sleep(max(0.0, {start} - time.time())); open_engine({url!r})")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    engine = open_engine(url, migrate=False)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() \
                == [(HEAD,)]
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


# --- upgrading a 0.1 store -----------------------------------------------------------

def test_skeleton_sqlite_store_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "master.sqlite"
    _load_sqlite_dump(path)
    url = f"sqlite:///{path}"
    before = _snapshot(url)
    engine = open_engine(url)
    try:
        _assert_upgraded(engine, before)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        cwd = tmp_path / "cwd"
        cwd.mkdir()
        _rerun_changes_nothing(url, engine, cwd)
    finally:
        engine.dispose()


def test_skeleton_postgresql_store_upgrades_in_place(pg_schema: tuple[Engine, str],
                                                     postgres_url: str,
                                                     tmp_path: Path) -> None:
    admin, schema = pg_schema
    _load_pg_dump(admin, schema)
    url = _schema_url(postgres_url, schema)
    before = _snapshot(url)
    engine = open_engine(url)
    try:
        _assert_upgraded(engine, before)
        with engine.connect() as conn:
            assert inspect(conn).default_schema_name == schema
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        _rerun_changes_nothing(url, engine, tmp_path)
    finally:
        engine.dispose()


# --- the conversion of 0.1 events ----------------------------------------------------

def test_event_conversion_matches_the_builders_and_skips_new_payloads() -> None:
    """Cases the 0.1 demo store lacks: a merge, and a payload already in 0.2's format."""
    convert = _migration("0002_hub.py")._public_data
    golden = {"display_name": "Sara Mohammadi",
              "fields": {"name.full": [{"value": "Sara Mohammadi", "source": "sales/L-1"}],
                         "ids.x": [{"value": "a/b", "source": "accounting/7/8"}]},
              "sources": ["accounting/7/8", "sales/L-1"]}
    old = {"event_id": "e", "type": "customer.merged", "subject": "M1", "version": 3,
           "data": {"master_id": "M1", "status": "active", "golden": golden,
                    "merged": ["M9", "M2"]}}
    new = events.customer_merged("M1", 3, golden, ["M9", "M2"]).data
    assert convert("customer.merged", old) == new
    assert new["customer"]["sources"][0] == {"system": "accounting", "id": "7/8"}
    assert convert("customer.merged", {"data": new}) is None
    rejected = events.record_rejected("p", ("sales", "L-2"), "row 3", "validate", None,
                                      "why").data
    assert convert("record.rejected", {"data": rejected}) is None
    assert convert("interaction.recorded", {"data": {"interaction": {}}}) is None
