"""The sql adapter on SQLite tables the tests make: the contract, ties on one watermark,
the checkpoint's exact text, the modes, deletions, the query's wrapping, bad settings.

The same adapter against the real PostgreSQL and MariaDB: tests/integration/test_erp_sql.py.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.exc import DBAPIError

from adapters import get_adapter_class
from adapters._sql_checkpoint import Position, parse
from adapters._sql_source import page, probe
from adapters._sql_values import UnsupportedValue, decode, encode, json_safe
from adapters.sql import SqlAdapter
from hub.adapter import SourceContext
from hub.errors import ConfigError, FatalSourceError, SourceUnavailable
from hub.records import Checkpoint, RawRecord
from hub.settings import describe_settings
from hub.testing.conformance import AdapterConformance

# Odoo writes write_date as UTC text in SQLite-backed tests; three rows share one value,
# with and without a fraction of a second (SQLite compares the stored text).
ROWS = [(1, "علی کریمی", "2026-11-24 10:00:00", 1),
        (2, "Sara Ahmadi", "2026-11-24 10:00:00", 1),
        (3, "رضا یزدانی", "2026-11-24 10:00:00", 1),
        (4, "Maryam Hosseini", "2026-11-23 08:00:00.250000", 1),
        (5, "شرکت پارس", "2026-11-24 10:00:00.5", 1)]
BASE = {"url": "sqlite:///erp.sqlite", "table": "res_partner", "key": "id",
        "watermark": "write_date"}


def erp(root: Path, rows: Iterable[Sequence[Any]] = ROWS) -> Path:
    """A res_partner table in root/erp.sqlite (made, or added to)."""
    path = root / "erp.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS res_partner (id INTEGER PRIMARY KEY, "
                   "name TEXT, write_date DATETIME, active BOOLEAN)")
        db.executemany("INSERT OR REPLACE INTO res_partner VALUES (?, ?, ?, ?)", rows)
    db.close()
    return path


def adapter(root: Path, known: Sequence[str] | None = None, **options: Any) -> SqlAdapter:
    context = SourceContext(root, known_ids=(lambda: iter(known)) if known is not None
                            else None)
    return SqlAdapter.from_options({**BASE, **options}, where="pipelines/erp.yaml",
                                   context=context)


def ids(records: Iterable[RawRecord]) -> list[str]:
    return [r.source_id for r in records]


class TestSqlConformance(AdapterConformance):
    """The adapter contract on a SQLite res_partner whose rows share watermarks, read a
    page of two rows at a time."""

    adapter_class = SqlAdapter
    bad_options: ClassVar = {"table": 3, "page_size": "big", "key": ""}

    def make_source(self, tmp_path: Path) -> dict[str, Any]:
        erp(tmp_path)
        return {**BASE, "page_size": 2}

    def make_transient(self, exc_type: type[BaseException]) -> BaseException:
        if issubclass(exc_type, DBAPIError):   # as SQLAlchemy wraps a driver's error
            return exc_type("SELECT 1", None, ConnectionResetError("simulated outage"))
        return exc_type("simulated outage")


# --- the checkpoint's text -------------------------------------------------------------

TEHRAN = ZoneInfo("Asia/Tehran")


@pytest.mark.parametrize("value", [
    datetime(2026, 11, 24, 10, 0, 0, 123456),          # PostgreSQL timestamp, DATETIME(6)
    datetime(2026, 11, 24, 10, 0, 0),                  # DATETIME: no fraction is added
    datetime(2026, 11, 24, 10, 0, 0, 1),               # one microsecond is kept
    datetime(2026, 11, 24, 13, 30, 0, 500000, tzinfo=TEHRAN),   # timestamptz
    date(2026, 11, 24), time(10, 30, 0, 7), 42, 2**62, -7, 0.1, Decimal("12.50"),
    Decimal("1E+2"), "C-1001", "a:b|c", "کد ۱۲", "", b"\x00\xff", True,
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
])
def test_a_value_comes_back_from_its_text_exactly(value: Any) -> None:
    text = encode(value)
    back = decode(text)
    assert back == value and type(back) is type(value)
    if isinstance(value, datetime):
        assert (back.tzinfo is None) == (value.tzinfo is None)
        assert back.microsecond == value.microsecond


def test_time_zones_and_fractions_are_written_as_they_compare() -> None:
    # An aware value is the same instant in UTC, whatever zone the session read it in...
    tehran = datetime(2026, 11, 24, 13, 30, 0, 500000, tzinfo=TEHRAN)
    utc = datetime(2026, 11, 24, 10, 0, 0, 500000, tzinfo=UTC)
    assert encode(tehran) == encode(utc) == "tz:2026-11-24T10:00:00.500000+00:00"
    assert decode(encode(tehran)) == tehran
    # ...and a naive one (timestamp, DATETIME) stays naive: binding it with a zone would
    # shift the comparison by the session's offset.
    assert encode(datetime(2026, 11, 24, 10, 0)) == "dt:2026-11-24T10:00:00"
    assert encode(datetime(2026, 11, 24, 10, 0, 0, 10)) == "dt:2026-11-24T10:00:00.000010"
    # A fixed offset, as psycopg gives with a numeric TimeZone setting.
    plus = datetime(2026, 11, 24, 13, 30, tzinfo=timezone(timedelta(hours=3, minutes=30)))
    assert encode(plus) == "tz:2026-11-24T10:00:00+00:00"


def test_a_position_round_trips_and_a_foreign_checkpoint_says_what_to_do() -> None:
    position = Position("watermark", ("write_date", "id"),
                        (datetime(2026, 11, 24, 10, 0, 0, 123456), 42))
    text = position.checkpoint().value
    assert json.loads(text) == {"v": 1, "mode": "watermark", "by": ["write_date", "id"],
                                "after": ["dt:2026-11-24T10:00:00.123456", "i:42"]}
    assert parse(Checkpoint(text)) == position
    assert parse(Position("snapshot", ("id",), done=True).checkpoint()).done
    for foreign in ("abc123:12", '{"v": 1, "mode": "key", "by": ["id"], "after": ["x:1"]}'):
        with pytest.raises(FatalSourceError, match="checkpoint reset"):
            parse(Checkpoint(foreign))
    with pytest.raises(UnsupportedValue):
        encode(timedelta(hours=1))


def test_values_are_json_safe_and_say_what_they_were() -> None:
    row = {"d": date(2026, 11, 24), "t": datetime(2026, 11, 24, 10, 0, 0, 5),
           "tz": datetime(2026, 11, 24, 13, 30, tzinfo=TEHRAN), "n": Decimal("1E+2"),
           "amount": Decimal("12.50"), "pic": b"\x89PNG", "view": memoryview(b"\x01"),
           "u": uuid.UUID(int=1), "inf": float("inf"), "tags": ["a", Decimal("1.5")],
           "json": {"k": date(2026, 1, 1)}, "ok": True, "none": None}
    safe = {k: json_safe(v) for k, v in row.items()}
    assert safe == {"d": "2026-11-24", "t": "2026-11-24T10:00:00.000005",
                    "tz": "2026-11-24T10:00:00+00:00", "n": "100", "amount": "12.50",
                    "pic": "89504e47", "view": "01",
                    "u": "00000000-0000-0000-0000-000000000001", "inf": "inf",
                    "tags": ["a", "1.5"], "json": {"k": "2026-01-01"}, "ok": True,
                    "none": None}
    json.dumps(safe, allow_nan=False)


# --- reading by watermark --------------------------------------------------------------

@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 100])
def test_rows_sharing_a_watermark_are_read_once_wherever_a_page_or_batch_ends(
        tmp_path: Path, page_size: int) -> None:
    erp(tmp_path)
    first = list(adapter(tmp_path, page_size=page_size).read(None))
    assert ids(first) == ["4", "1", "2", "3", "5"]   # by (write_date, id)
    # Resume after every record, as a commit of any batch size would.
    for i, record in enumerate(first):
        rest = list(adapter(tmp_path, page_size=page_size).read(record.checkpoint))
        assert ids(rest) == ids(first[i + 1:])
    # Rows written later with the same watermark and a higher key are read; nothing twice.
    erp(tmp_path, [(6, "Late Tie", "2026-11-24 10:00:00.5", 1)])
    after_last = list(adapter(tmp_path, page_size=page_size).read(first[-1].checkpoint))
    assert ids(after_last) == ["6"]


def test_rows_updated_between_syncs_come_again(tmp_path: Path) -> None:
    erp(tmp_path)
    last = list(adapter(tmp_path).read(None))[-1].checkpoint
    erp(tmp_path, [(2, "Sara Ahmadi-Rad", "2026-11-25 09:00:00", 1)])
    [again] = adapter(tmp_path).read(last)
    assert (again.source_id, again.data["name"]) == ("2", "Sara Ahmadi-Rad")
    assert again.location == "res_partner id=2"
    assert list(adapter(tmp_path).read(again.checkpoint)) == []


def test_a_read_stops_at_the_highest_watermark_when_it_started(tmp_path: Path) -> None:
    erp(tmp_path)
    reading = adapter(tmp_path, page_size=1).read(None)
    assert next(reading).source_id == "4"
    # Row 4 is updated while the read runs: it is for the next sync, not read twice now.
    erp(tmp_path, [(4, "Maryam Hosseini", "2026-11-26 00:00:00", 1)])
    assert ids(reading) == ["1", "2", "3", "5"]


def test_estimate_counts_what_a_read_selects(tmp_path: Path) -> None:
    erp(tmp_path, [*ROWS, (9, "no watermark", None, 1)])
    records = list(adapter(tmp_path).read(None))
    assert adapter(tmp_path).estimate_total(None) == len(records) == 5
    assert adapter(tmp_path).estimate_total(records[2].checkpoint) == 2


# --- key and snapshot modes ------------------------------------------------------------

def test_key_mode_reads_new_rows_only_and_misses_updates(tmp_path: Path) -> None:
    erp(tmp_path)
    last = list(adapter(tmp_path, mode="key", watermark=None).read(None))[-1]
    assert last.source_id == "5"
    erp(tmp_path, [(2, "Sara edited", "2026-11-25 09:00:00", 1),
                   (7, "New Row", "2026-11-20 00:00:00", 1)])
    assert ids(adapter(tmp_path, mode="key", watermark=None).read(last.checkpoint)) == ["7"]


def test_snapshot_mode_reads_everything_each_run_and_resumes_within_one(
        tmp_path: Path) -> None:
    erp(tmp_path)
    snap = {"watermark": None, "page_size": 2}
    first = list(adapter(tmp_path, **snap).read(None))
    assert ids(first) == ["1", "2", "3", "4", "5"]
    assert json.loads(first[-1].checkpoint.value)["done"] is True
    # A run cut short after record 2 resumes there...
    assert ids(adapter(tmp_path, **snap).read(first[1].checkpoint)) == ["3", "4", "5"]
    # ...and one that reached the end starts again from the top.
    assert ids(adapter(tmp_path, **snap).read(first[-1].checkpoint)) == ids(first)


def test_a_checkpoint_of_other_settings_reads_from_the_start(tmp_path: Path) -> None:
    erp(tmp_path)
    by_key = list(adapter(tmp_path, mode="key", watermark=None).read(None))
    assert ids(adapter(tmp_path).read(by_key[-1].checkpoint)) == ["4", "1", "2", "3", "5"]


# --- deletions -------------------------------------------------------------------------

def test_inactive_rows_and_rows_gone_are_deletions_with_the_final_checkpoint(
        tmp_path: Path) -> None:
    erp(tmp_path, [*ROWS[:4], (5, "شرکت پارس", "2026-11-24 10:00:00.5", 0)])
    records = list(adapter(tmp_path, ["1", "2", "3", "4", "5", "77", "8"],
                           active_column="active", deletions=True).read(None))
    assert [(r.source_id, r.deleted) for r in records] == [
        ("4", False), ("1", False), ("2", False), ("3", False), ("5", True),
        ("77", True), ("8", True)]
    assert records[-1].checkpoint == records[-3].checkpoint == records[4].checkpoint
    # An incremental read with nothing new still finds what is gone since.
    gone = list(adapter(tmp_path, ["1", "2", "3", "4"], deletions=True,
                        page_size=1).read(records[4].checkpoint))
    assert gone == []
    with sqlite3.connect(tmp_path / "erp.sqlite") as db:
        db.execute("DELETE FROM res_partner WHERE id = 2")
    db.close()
    [deleted] = adapter(tmp_path, ["1", "2", "3", "4"], deletions=True).read(
        records[4].checkpoint)
    assert (deleted.source_id, deleted.deleted, deleted.checkpoint) == (
        "2", True, records[4].checkpoint)


def test_deletions_in_snapshot_mode_end_with_the_done_checkpoint(tmp_path: Path) -> None:
    erp(tmp_path, ROWS[:2])
    records = list(adapter(tmp_path, ["1", "2", "3"], watermark=None,
                           deletions=True).read(None))
    assert [(r.source_id, r.deleted) for r in records] == [("1", False), ("2", False),
                                                           ("3", True)]
    assert json.loads(records[-1].checkpoint.value)["done"] is True


# --- the query ---------------------------------------------------------------------------

def test_a_query_is_wrapped_as_a_derived_table(tmp_path: Path) -> None:
    erp(tmp_path)
    with sqlite3.connect(tmp_path / "erp.sqlite") as db:
        db.execute("CREATE TABLE res_country (id INTEGER PRIMARY KEY, code TEXT)")
        db.execute("INSERT INTO res_country VALUES (1, 'IR')")
        db.execute("ALTER TABLE res_partner ADD COLUMN country_id INTEGER")
        db.execute("UPDATE res_partner SET country_id = 1")
    db.close()
    query = ("\n  -- partners with their country\n"
             "SELECT p.id, p.name, p.write_date, c.code AS country_code, '50%' AS pct,\n"
             "       'a:b' AS colon\n"
             "FROM res_partner p JOIN res_country c ON c.id = p.country_id\n"
             "WHERE p.name LIKE '%a%' -- Latin names ;\n")
    records = list(adapter(tmp_path, table=None, query=query, page_size=1).read(None))
    assert ids(records) == ["4", "2"]   # the Latin names with an "a"
    assert records[0].data == {"id": 4, "name": "Maryam Hosseini",
                               "write_date": "2026-11-23 08:00:00.250000",
                               "country_code": "IR", "pct": "50%", "colon": "a:b"}
    assert records[0].location == "query id=4"

    made = adapter(tmp_path, table=None, query=query)
    with made._open().engine.connect() as conn:
        source = probe(conn, table_name=None, schema=None, query=query.strip()[:-1],
                       key=("id",), watermark="write_date", active=None)
    position = Position("watermark", ("write_date", "id"), ("2026-11-24 10:00:00", 2))
    sql = " ".join(str(page(source, "watermark", position, 500).compile(
        dialect=postgresql.dialect())).split())
    assert sql.startswith("SELECT peyvand_source.id, peyvand_source.name, "
                          "peyvand_source.write_date, peyvand_source.country_code, "
                          "peyvand_source.pct, peyvand_source.colon FROM ( -- partners with "
                          "their country SELECT p.id,")
    assert sql.endswith(
        "-- Latin names ) AS peyvand_source WHERE peyvand_source.write_date IS NOT NULL AND "
        "peyvand_source.id IS NOT NULL AND peyvand_source.write_date >= %(param_1)s AND "
        "(peyvand_source.write_date > %(param_2)s OR peyvand_source.write_date = "
        "%(param_3)s AND peyvand_source.id > %(param_4)s) ORDER BY "
        "peyvand_source.write_date, peyvand_source.id LIMIT %(param_5)s::INTEGER")
    assert "LIKE '%%a%%'" in sql   # pyformat drivers get the % doubled
    on_mysql = str(page(source, "watermark", position, 500).compile(dialect=mysql.dialect()))
    assert "LIMIT %s" in on_mysql and "`" not in on_mysql


# --- settings --------------------------------------------------------------------------

def test_bad_settings_are_listed_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        SqlAdapter.from_options(
            {"url": "sqlite:///erp.sqlite", "url_env": "ERP_DATABASE_URL", "table": "t",
             "query": "DELETE FROM t", "schema": "public", "key": ["id", "id"],
             "mode": "watermark", "page_size": 0, "connect_timeout": 0,
             "active_column": "id", "colour": "red"},
            where="pipelines/erp.yaml", context=SourceContext(tmp_path))
    problems = caught.value.problems
    for expected in ("options.colour: unknown setting", "options.url_env: give the name",
                     "options.table: give a table to read", "options.schema: goes with",
                     "options.query: must be one SELECT", "this one starts with 'delete'",
                     "options.key: names a column twice", "options.mode: watermark mode "
                     "needs options.watermark", "options.page_size: must be 1 to",
                     "options.connect_timeout: must be 1", "options.active_column: 'id' is "
                     "the key"):
        assert any(expected in p for p in problems), f"{expected!r} not in {problems}"
    assert caught.value.source == "pipelines/erp.yaml"


@pytest.mark.parametrize("options", [
    {"url_env": "postgresql://odoo@db/odoo"},
    {"watermark": "write_date", "mode": "snapshot"},
    {"query": "SELECT 1; DROP TABLE res_partner"},
    {"key": []},
])
def test_each_wrong_option_gets_its_sentence(tmp_path: Path, options: dict[str, Any]) -> None:
    base = {"url_env": "ERP_DATABASE_URL", "table": "res_partner", "key": "id"}
    if "query" in options:
        base.pop("table")
    with pytest.raises(ConfigError) as caught:
        SqlAdapter.from_options({**base, **options}, where="p.yaml",
                                context=SourceContext(tmp_path))
    [problem] = caught.value.problems
    assert problem.startswith(f"options.{next(iter(options))}")


@pytest.mark.parametrize("url", ["postgresql+psycopg://odoo:s3cret-pw@db.example.com/odoo",
                                 "mysql+pymysql://odoo@db/odoo?password=s3cret-pw",
                                 "mssql+pyodbc://odoo:s3cret-pw@dsn"])
def test_a_password_in_the_pipeline_file_is_refused_and_never_repeated(
        tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SqlAdapter.from_options({"url": url, "table": "res_partner", "key": "id"},
                                where="pipelines/erp.yaml", context=SourceContext(tmp_path))
    [problem] = caught.value.problems
    assert "secrets come only from the environment" in problem
    assert "options.url_env" in problem
    assert "s3cret-pw" not in str(caught.value)


def test_the_url_comes_from_the_environment_variable_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    erp(tmp_path)
    options = {**BASE, "url": None, "url_env": "PEYVAND_TEST_ERP_URL"}
    options.pop("url")
    monkeypatch.delenv("PEYVAND_TEST_ERP_URL", raising=False)
    made = SqlAdapter.from_options(options, where="p.yaml", context=SourceContext(tmp_path))
    with pytest.raises(FatalSourceError, match="environment variable PEYVAND_TEST_ERP_URL is "
                                               "not set"):
        list(made.read(None))
    monkeypatch.setenv("PEYVAND_TEST_ERP_URL", f"sqlite:///{tmp_path}/erp.sqlite")
    assert len(list(made.read(None))) == 5


# --- failures --------------------------------------------------------------------------

def test_a_missing_table_or_column_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    erp(tmp_path)
    with pytest.raises(FatalSourceError) as caught:
        list(adapter(tmp_path, table="res_partnr").read(None))
    assert "no table or view 'res_partnr'" in str(caught.value)
    assert "Did you mean 'res_partner'?" in str(caught.value)
    with pytest.raises(FatalSourceError) as caught:
        list(adapter(tmp_path, watermark="write_dat").read(None))
    assert str(caught.value) == (
        "sql: options.watermark 'write_dat' is not a column of the source. Did you mean "
        "'write_date'? Its columns are: id, name, write_date, active")
    with pytest.raises(FatalSourceError) as caught:
        list(adapter(tmp_path, table=None, query="SELECT id, nme FROM res_partner").read(None))
    message = str(caught.value)
    assert message == ("sql: reading options.query at sqlite:///erp.sqlite failed: no such "
                       "column: nme; check options.query (run it in the database's own "
                       "client first)")
    assert isinstance(caught.value.__cause__, DBAPIError)


def test_a_missing_sqlite_file_is_an_error_not_a_new_database(tmp_path: Path) -> None:
    with pytest.raises(FatalSourceError, match="no SQLite database at"):
        list(adapter(tmp_path).read(None))
    assert not (tmp_path / "erp.sqlite").exists()


def test_a_locked_database_is_a_passing_failure_named_after_the_adapter(
        tmp_path: Path) -> None:
    erp(tmp_path)
    holder = sqlite3.connect(tmp_path / "erp.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")   # a writer holds the file (rollback journal)
    try:
        made = adapter(tmp_path, connect_timeout=1)
        with pytest.raises(SourceUnavailable) as caught:
            list(made.read(None))
        with pytest.raises(SourceUnavailable, match=r"^sql: the source is unavailable .* while "
                                                    "counting table res_partner"):
            made.total(None)   # counting is where a run reaches its source first
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(caught.value).startswith("sql: the source is unavailable "
                                        "(SourceDown: the database at sqlite:///erp.sqlite "
                                        "failed while reading table res_partner: database is "
                                        "locked)")
    assert isinstance(caught.value.__cause__, made.transient_errors)
    assert "[SQL" not in str(caught.value)


def test_the_adapter_is_registered_and_describes_itself() -> None:
    assert get_adapter_class("sql") is SqlAdapter
    assert SqlAdapter.features.describe() == (
        "incremental: yes, deletions: yes, push: no, estimate: yes, payload: dict")
    settings = {name: (kind, default) for name, kind, default in
                describe_settings(SqlAdapter.Settings)}
    assert settings["key"] == ("text or a list of text", "required")
    assert settings["mode"] == ("one of 'watermark', 'key', 'snapshot' or nothing", "None")
