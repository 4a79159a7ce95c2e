"""The robustness findings on operating Peyvand (../shared/findings/robustness-2026-11.md),
each reproduced through the real command in a subprocess, as a user meets it: markup in
data (M2), passwords in URLs (M1), log masking (M8), exit codes and `run --json`,
a busy or failing store and bus (M6, L6, L7), read-only stores (L8), paths (M7, L3)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAPPING = """target: customer
fields:
  kind: {constant: person}
  name.full: {from: name}
  phones.phone:mobile: {from: mobile}
  emails.email: {from: email}
"""
GOOD = "id,name,mobile,email\nA1,Ali Karimi,09121000001,a1@example.com\n"
HOSTILE_NAME = "[/] Karimi [link=http://evil.example]x[/link] :x:"


def _workspace(root: Path, rows: str = GOOD, config: str = "") -> Path:
    """The finding's setup.sh: a store beside config.yaml, one pipeline over data/in.csv."""
    for folder in ("pipelines", "mappings", "data"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(
        "store: {url: 'sqlite:///store.sqlite'}\npipelines: [p]\n" + config, encoding="utf-8")
    (root / "pipelines" / "p.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: ../data/in.csv, id_column: id}\n"
        "source_system: src\nmapping: m.yaml\n", encoding="utf-8")
    (root / "mappings" / "m.yaml").write_text(MAPPING, encoding="utf-8")
    (root / "data" / "in.csv").write_text(rows, encoding="utf-8")
    return root


def _peyvand(cwd: Path, *args: str, env: dict[str, str] | None = None,
             timeout: float = 180) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith("PEYVAND") and k != "COLUMNS"}
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**environ, **(env or {})})


def _said(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


# --- M2: markup in data ------------------------------------------------------------------

def test_markup_in_data_is_shown_as_written_never_interpreted(tmp_path: Path) -> None:
    _workspace(tmp_path, "id,name,mobile,email\n"
                         f'A1,"{HOSTILE_NAME}",09121000001,a1@example.com\n'
                         "[/x],Bad Id,09121000002,not-an-email\n")
    assert _peyvand(tmp_path, "run").returncode == 3   # [/x]'s e-mail is set aside

    found = _peyvand(tmp_path, "master", "search", "Karimi")
    assert found.returncode == 0, found.stderr
    assert HOSTILE_NAME in found.stdout
    assert "❌" not in found.stdout and "\x1b]8;" not in found.stdout   # no emoji, no link
    master_id = re.search(r"\b(C[0-9A-F]{23})\b", found.stdout)
    assert master_id is not None

    shown = _peyvand(tmp_path, "master", "show", master_id.group(1))
    assert shown.returncode == 0, shown.stderr
    assert HOSTILE_NAME in shown.stdout and "❌" not in shown.stdout

    listed = _peyvand(tmp_path, "quarantine", "list")
    assert listed.returncode == 0, listed.stderr
    assert "record [/x]" in listed.stdout


def test_markup_in_an_error_message_is_printed_as_written(tmp_path: Path) -> None:
    _workspace(tmp_path)
    done = _peyvand(tmp_path, "run", "[/]nope[link=http://evil.example]x[/link]:x:")
    assert done.returncode == 2
    assert "no pipeline '[/]nope[link=http://evil.example]x[/link]:x:'" in done.stderr
    assert "❌" not in done.stderr and "Traceback" not in done.stderr


# --- M1: passwords in URLs ---------------------------------------------------------------

@pytest.mark.parametrize("password", ["S3cr3t#Tail9", "S3cr3t/Tail9", "S3cr3t?Tail9",
                                      "S3cr3t@Tail9"])
def test_a_password_with_reserved_characters_is_refused_never_printed(
        tmp_path: Path, password: str) -> None:
    _workspace(tmp_path)
    for key, url in (("BUS", f"amqp://guest:{password}@127.0.0.1:1//"),
                     ("STORE", f"postgresql+psycopg://peyvand:{password}@127.0.0.1:1/x")):
        done = _peyvand(tmp_path, "run", env={f"PEYVAND__{key}__URL": url})
        assert done.returncode == 2, _said(done)
        assert "percent-encode" in done.stderr
        assert "S3cr3t" not in _said(done) and "Tail9" not in _said(done)


def test_an_encoded_password_is_masked_when_the_server_is_down(tmp_path: Path) -> None:
    _workspace(tmp_path)
    bus = _peyvand(tmp_path, "run", env={
        "PEYVAND__BUS__URL": "amqp://guest:S3cr3t%23Tail9@127.0.0.1:1//"})
    assert bus.returncode == 75, _said(bus)
    store = _peyvand(tmp_path, "master", "search", "x", env={
        "PEYVAND__STORE__URL": "postgresql+psycopg://peyvand:S3cr3t%40Tail9@127.0.0.1:1/x"})
    assert store.returncode == 75, _said(store)
    for done in (bus, store):
        assert "S3cr3t" not in _said(done) and "Tail9" not in _said(done)
        assert ":***@127.0.0.1:1" in done.stderr
        assert "Traceback" not in done.stderr


# --- M8: the log of a real run -----------------------------------------------------------

def test_a_json_log_of_the_demo_shows_no_rejected_value_and_whole_timestamps(
        tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "store: {url: 'sqlite:///store.sqlite'}\n"
        "pipelines: [accounting_customers, sales_leads]\n"
        "log: {level: info, format: json}\n", encoding="utf-8")
    done = _peyvand(tmp_path, "run")
    assert done.returncode == 3, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(line["event"] == "batch committed" for line in lines)
    # A rejection is logged by field and stage, never by the value it rejects.
    rejected = [line for line in lines if line["event"] == "record rejected"]
    assert all(line.get("reason") in (None, "***") for line in rejected)
    for leaked in ("1367/07/31", "mostafa_hosseini85.gmail.com", "8534323985"):
        assert leaked not in done.stderr
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", line["timestamp"])
               for line in lines)


# --- exit codes and run --json ------------------------------------------------------------

def test_exit_codes_are_documented_in_help() -> None:
    done = _peyvand(ROOT, "--help")
    assert done.returncode == 0
    for code, meaning in (("0", "success"), ("1", "a bug"), ("2", "configuration error"),
                          ("3", "newly put in quarantine"), ("75", "unavailable")):
        assert re.search(rf"^ +{code} +[^\n]*{meaning}", done.stdout, re.M), done.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Exit codes" in readme and "| 75 |" in readme


def test_exit_codes_success_quarantine_config(tmp_path: Path) -> None:
    _workspace(tmp_path)
    first = _peyvand(tmp_path, "run")
    assert first.returncode == 0, first.stderr
    assert _peyvand(tmp_path, "run").returncode == 0
    (tmp_path / "data" / "in.csv").write_text(
        GOOD + "A2,Sara Rad,0912abc,a2@example.com\nA3,,,\n", encoding="utf-8")
    quarantined = _peyvand(tmp_path, "run")
    assert quarantined.returncode == 3, quarantined.stderr
    assert "2 record(s) newly in quarantine" in quarantined.stdout
    assert _peyvand(tmp_path, "run").returncode == 0   # nothing new since
    (tmp_path / "config.yaml").write_text("run: {batch_size: lots}\n", encoding="utf-8")
    broken = _peyvand(tmp_path, "run")
    assert broken.returncode == 2 and "run.batch_size" in broken.stderr
    as_json = _peyvand(tmp_path, "run", "--json")
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["exit_code"] == 2


def test_run_json_prints_a_machine_readable_summary(tmp_path: Path) -> None:
    _workspace(tmp_path, GOOD + "A2,Sara Rad,0912abc,a2@example.com\n")
    done = _peyvand(tmp_path, "run", "--json")
    assert done.returncode == 3, done.stderr
    summary = json.loads(done.stdout)
    assert summary["exit_code"] == 3
    assert summary["events_published"] >= 2 and summary["customers"] == 2
    [p] = summary["pipelines"]
    assert (p["pipeline"], p["read"], p["set_aside"]) == ("p", 2, 1)
    assert summary["newly_in_quarantine"] == 1 and summary["relay_error"] is None


def test_an_unexpected_error_is_a_bug_report_with_its_traceback_kept(tmp_path: Path) -> None:
    _workspace(tmp_path)
    assert _peyvand(tmp_path, "run").returncode == 0
    code = ("import sys, hub.app, hub.cli\n"
            "def boom(self, *a, **k): raise KeyError('09121000001 not found')\n"
            "hub.app.Hub.search = boom\n"
            "sys.argv = ['peyvand', 'master', 'search', 'Ali']\nhub.cli.main()\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert "This is a bug in Peyvand" in done.stderr
    assert "09121000001" not in done.stderr and "Traceback" not in done.stderr
    kept = re.search(r"traceback is in (\S+?)[;,]", done.stderr)
    assert kept is not None, done.stderr
    trace = Path(kept.group(1))
    assert "KeyError" in trace.read_text(encoding="utf-8")
    assert trace.stat().st_mode & 0o077 == 0   # personal data may be in it: owner only
    trace.unlink()


# --- L7, M6, L6: a failing bus or store ---------------------------------------------------

def test_a_run_whose_relay_fails_keeps_its_summary_and_says_what_happens_next(
        tmp_path: Path) -> None:
    _workspace(tmp_path)
    down = {"PEYVAND__BUS__URL": "amqp://guest:guest@127.0.0.1:1//"}
    done = _peyvand(tmp_path, "run", env=down)
    assert done.returncode == 75, done.stderr
    assert "Run summary" in done.stdout and "Events published: 0" in done.stdout
    assert "next `peyvand run` or `peyvand relay`" in done.stderr
    as_json = _peyvand(tmp_path, "run", "--json", env=down)
    assert as_json.returncode == 75
    assert "cannot reach the bus" in json.loads(as_json.stdout)["relay_error"]
    later = _peyvand(tmp_path, "relay")
    assert later.returncode == 0 and "Published 1 events." in later.stdout


def test_a_locked_store_says_it_is_busy_and_then_goes_on(tmp_path: Path) -> None:
    _workspace(tmp_path)
    assert _peyvand(tmp_path, "run").returncode == 0
    (tmp_path / "data" / "in.csv").write_text(
        GOOD + "A2,Sara Rad,09121000002,a2@example.com\n", encoding="utf-8")
    holder = sqlite3.connect(tmp_path / "store.sqlite", isolation_level=None,
                             check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")   # another writer holds the store's write lock
    release = threading.Timer(4.0, holder.execute, ["COMMIT"])
    release.start()
    started = time.monotonic()
    try:
        done = _peyvand(tmp_path, "run")
    finally:
        release.join()
        holder.close()
    assert done.returncode == 0, done.stderr
    assert "store busy" in done.stderr
    assert time.monotonic() - started < 30


# --- L8: read-only stores ------------------------------------------------------------------

def _fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir()) if p.is_file()}


READ_COMMANDS = [("master", "search", "Karimi"), ("events",), ("export",),
                 ("quarantine", "list")]


def test_read_commands_write_nothing_to_a_store(tmp_path: Path) -> None:
    _workspace(tmp_path / "live")
    assert _peyvand(tmp_path / "live", "run").returncode == 0
    snapshot = tmp_path / "snapshot"
    shutil.copytree(tmp_path / "live", snapshot)
    assert not (snapshot / "store.sqlite-wal").exists()
    before = _fingerprint(snapshot)
    for command in READ_COMMANDS:
        done = _peyvand(snapshot, *command)
        assert done.returncode == 0, (command, done.stderr)
    assert "Ali Karimi" in _peyvand(snapshot, "master", "search", "Karimi").stdout
    assert _fingerprint(snapshot) == before   # no -wal, no -shm, not a byte written


def test_read_commands_work_on_a_read_only_folder(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a read-only folder")
    _workspace(tmp_path / "live")
    assert _peyvand(tmp_path / "live", "run").returncode == 0
    (tmp_path / "ro").mkdir()
    script = (f"mount --bind {tmp_path / 'live'} {tmp_path / 'ro'} && "
              f"mount -o remount,ro,bind {tmp_path / 'ro'} && cd {tmp_path / 'ro'} && "
              f"{sys.executable} -m hub master search Karimi && {sys.executable} -m hub events")
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=120)
    if "mount" in done.stderr and done.returncode != 0 and "Karimi" not in done.stdout:
        pytest.skip(f"cannot mount a read-only folder here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert "Ali Karimi" in done.stdout and "customer.created" in done.stdout


def test_a_read_command_on_an_older_store_says_to_upgrade_it_first(tmp_path: Path) -> None:
    import gzip

    _workspace(tmp_path)
    dump = gzip.decompress((ROOT / "tests/data/skeleton_store/sqlite.sql.gz").read_bytes())
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        conn.executescript(dump.decode("utf-8"))
    done = _peyvand(tmp_path, "master", "search", "x")
    assert done.returncode == 75
    assert "older than this release's" in done.stderr
    assert "`peyvand relay`" in done.stderr
    assert _peyvand(tmp_path, "relay").returncode == 0     # upgrades it
    assert _peyvand(tmp_path, "master", "search", "x").returncode == 0


# --- M7: paths --------------------------------------------------------------------------------

def test_the_store_is_found_beside_config_yaml_from_any_folder(tmp_path: Path) -> None:
    project = _workspace(tmp_path / "project")
    assert _peyvand(project, "run").returncode == 0
    elsewhere = tmp_path / "cron"
    elsewhere.mkdir()
    found = _peyvand(elsewhere, "--config", str(project / "config.yaml"), "master", "search",
                     "Karimi")
    assert found.returncode == 0 and "Ali Karimi" in found.stdout
    assert _peyvand(elsewhere, "master", "search", "Karimi",
                    env={"PEYVAND_CONFIG": str(project / "config.yaml")}).returncode == 0
    assert list(elsewhere.iterdir()) == []


def test_a_read_command_without_a_store_says_so_and_creates_none(tmp_path: Path) -> None:
    _workspace(tmp_path)
    done = _peyvand(tmp_path, "master", "search", "Karimi")
    assert done.returncode == 75
    assert f"no store at {tmp_path / 'store.sqlite'}: run `peyvand run` first" in done.stderr
    assert not (tmp_path / "store.sqlite").exists()


def test_a_missing_named_config_is_an_error_and_no_config_is_the_demo_said_aloud(
        tmp_path: Path) -> None:
    for args, env in ((("--config", "nope.yaml"), {}), ((), {"PEYVAND_CONFIG": "nope.yaml"})):
        done = _peyvand(tmp_path, *args, "check", env=env)
        assert done.returncode == 2 and "no configuration file there" in done.stderr
    demo = _peyvand(tmp_path, "check")
    assert demo.returncode == 0
    assert "no ./config.yaml here: using the shipped demo configuration at" in demo.stderr
    assert "`peyvand init DIR` starts a project" in demo.stderr
    search = _peyvand(tmp_path, "master", "search", "x")   # the demo's store goes here
    assert f"no store at {tmp_path / '.peyvand' / 'master.sqlite'}" in search.stderr
