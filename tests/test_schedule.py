"""Schedules: what a pipeline's ``schedule:`` accepts, and the crontab lines and systemd
timers ``peyvand schedule`` writes, checked against cron's meaning (cronsim) and against
systemd's own reading of them (systemd-analyze)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cronsim import CronSim

from hub.cli import cli
from hub.config import load_config
from hub.errors import ConfigError
from hub.schedule import ScheduleError, parse_schedule
from hub.testing import project

MAPPING = "fields:\n  name.full: {from: name}\n"


@pytest.mark.parametrize(("written", "cron"), [
    ("manual", None), ("Manual", None),
    ("*/15 8-18 * * 1-5", "*/15 8-18 * * 1-5"),
    ("@daily", "0 0 * * *"), ("@hourly", "0 * * * *"),
    ("every 15 minutes", "*/15 * * * *"), ("every minute", "* * * * *"),
    ("every 2 hours", "0 */2 * * *"), ("every  6   hours", "0 */6 * * *"),
])
def test_the_forms_a_schedule_takes(written: str, cron: str | None) -> None:
    assert parse_schedule(written).cron == cron


@pytest.mark.parametrize(("written", "said"), [
    ("daily", "is not a schedule"),
    ("61 * * * *", "not a valid cron expression"),
    ("every 7 minutes", "divides 60"),
    ("every 5 hours", "divides 24"),
    ("0 0 * * * *", "five-field"),
])
def test_a_schedule_that_cannot_be_read_says_why(written: str, said: str) -> None:
    with pytest.raises(ScheduleError, match=said):
        parse_schedule(written)


def test_a_bad_schedule_is_a_configuration_error_naming_the_pipeline(tmp_path: Path) -> None:
    project(tmp_path, {"crm": ("spreadsheet", "{path: c.csv}", "m.yaml")}, {"m.yaml": MAPPING})
    file = tmp_path / "pipelines" / "crm.yaml"
    file.write_text(file.read_text("utf-8") + "schedule: every 7 minutes\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.yaml", environ={})
    assert any(p.startswith("crm.yaml: schedule:") and "divides 60" in p
               for p in caught.value.problems)


CALENDARS = ["*/15 8-18 * * 1-5", "0 3 1,15 * 0", "30 2 * * 7", "5 */4 * 2-3 *",
             "0 0 * * 0,7", "0 12 29 2 *", "*/10 * * * 6"]


@pytest.mark.parametrize("cron", CALENDARS)
def test_systemd_fires_exactly_when_cron_would(cron: str) -> None:
    """systemd reads the OnCalendar= lines it is given and names its next starts; they are
    cron's, one for one (day-of-month OR day-of-week included)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: cannot ask systemd")
    base = datetime(2026, 1, 1)
    expected = _cron_times(cron, base, 40)
    starts: set[datetime] = set()
    for calendar in parse_schedule(cron).on_calendar():
        done = subprocess.run(
            [analyze, "calendar", "--iterations=40", f"--base-time={base:%Y-%m-%d %H:%M:%S}",
             calendar], capture_output=True, text=True, check=True,
            env={**os.environ, "TZ": "UTC", "SYSTEMD_COLORS": "0"})
        starts |= {datetime.strptime(m, "%Y-%m-%d %H:%M:%S") for m in
                   re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+)", done.stdout)}
    assert sorted(starts)[:40] == expected


def _cron_times(cron: str, base: datetime, count: int) -> list[datetime]:
    sim = CronSim(cron, base)
    return [next(sim) for _ in range(count)]


def test_systemd_cannot_say_last_day_of_month(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="--crontab"):
        parse_schedule("0 0 L * *").on_calendar()


def _scheduled(tmp_path: Path) -> Path:
    project(tmp_path, {"crm": ("spreadsheet", "{path: c.csv}", "m.yaml"),
                       "erp": ("spreadsheet", "{path: e.csv}", "m.yaml")}, {"m.yaml": MAPPING})
    crm = tmp_path / "pipelines" / "crm.yaml"
    crm.write_text(crm.read_text("utf-8") + "schedule: '*/15 8-18 * * 1-5'\n", "utf-8")
    return tmp_path / "config.yaml"


def test_crontab_lines_start_a_quiet_sync_of_each_scheduled_pipeline(tmp_path: Path) -> None:
    config = _scheduled(tmp_path)
    done = CliRunner().invoke(cli, ["--config", str(config), "schedule", "--crontab"])
    assert done.exit_code == 0, done.output
    jobs = [line for line in done.output.splitlines() if line and not line.startswith("#")]
    assert len(jobs) == 1   # erp is manual
    assert jobs[0].startswith("*/15 8-18 * * 1-5 cd ")
    assert jobs[0].endswith(f"--config {config} sync --quiet crm")


def test_the_systemd_units_written_are_valid_and_start_a_sync(tmp_path: Path) -> None:
    config = _scheduled(tmp_path)
    units = tmp_path / "units"
    done = CliRunner().invoke(cli, ["--config", str(config), "schedule", "--systemd",
                                    str(units)])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in units.iterdir()) == ["peyvand-crm.service",
                                                       "peyvand-crm.timer"]
    service = (units / "peyvand-crm.service").read_text("utf-8")
    assert f"--config {config} sync crm" in service
    assert "OnCalendar=Mon,Tue,Wed,Thu,Fri *-*-* 08..18:00,15,30,45:00" in \
        (units / "peyvand-crm.timer").read_text("utf-8")
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the units were not checked by systemd")
    checked = subprocess.run([analyze, "verify", "--man=no", *map(str, units.iterdir())],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_the_table_shows_each_schedule_in_words_and_its_next_start(tmp_path: Path) -> None:
    config = _scheduled(tmp_path)
    done = CliRunner().invoke(cli, ["--config", str(config), "schedule"])
    assert done.exit_code == 0, done.output
    assert "Monday through Friday" in done.output
    assert re.search(r"crm .* \d{4}-\d\d-\d\d (0[89]|1\d):(00|15|30|45)", done.output)
    assert "last run ?: no store at" in done.output   # nothing has run yet
