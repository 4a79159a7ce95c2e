"""When pipelines run: each pipeline's ``schedule:``, checked, explained, and written as
crontab lines or systemd timers.

Peyvand has no scheduler process of its own, by decision. cron and systemd already start
jobs on time, survive reboots, keep the output (mail, the journal), catch up on a run
missed while the machine was off (``Persistent=true``) and are watched by the monitoring
integrators already have; a daemon of ours would have to do all of that and be watched
itself. Each start is a ``peyvand sync``, and its run lock makes a start that overlaps
the previous run harmless. ``peyvand schedule`` writes what cron or systemd needs.

A schedule is ``manual`` (the default: never started on its own), a five-field cron
expression (``*/15 8-18 * * 1-5``), ``@hourly``, ``@daily``, ``@weekly``, ``@monthly``, or
``every N minutes`` / ``every N hours`` for N that divides an hour / a day. Times are the
machine's local time, as cron and systemd read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from cronsim import CronSim, CronSimError

MANUAL = "manual"
_ALIASES = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0",
            "@monthly": "0 0 1 * *"}
_EVERY = re.compile(r"every\s+(?:(\d+)\s+)?(minute|hour)s?", re.IGNORECASE)
_WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


class ScheduleError(ValueError):
    """A schedule that cannot be read, or said in the form asked for; a sentence."""


@dataclass(frozen=True)
class Schedule:
    """One pipeline's schedule: ``cron`` is None when it is manual."""

    text: str
    cron: str | None

    @property
    def manual(self) -> bool:
        return self.cron is None

    def _sim(self, after: datetime) -> CronSim:
        assert self.cron is not None, "a manual schedule has no times"
        return CronSim(self.cron, after)

    def explain(self) -> str:
        """In words: "Every 15th minute from 08:00 through 18:59 on Monday through Friday"."""
        return "manual (never started on its own)" if self.cron is None else \
            self._sim(datetime.now()).explain()

    def next_runs(self, after: datetime, count: int = 1) -> list[datetime]:
        return [] if self.cron is None else list(islice(self._sim(after), count))

    def on_calendar(self) -> list[str]:
        """systemd ``OnCalendar=`` values that fire exactly when cron would."""
        if self.cron is None:
            return []
        sim = self._sim(datetime(2000, 1, 1))
        days = {d % 7 for d in sim.weekdays if isinstance(d, int)}   # 7 is Sunday too
        if not all(isinstance(d, int) for d in sim.weekdays) or min(sim.days) < 1:
            raise ScheduleError(f"{self.cron!r} uses L or #, which systemd's OnCalendar= "
                                "cannot say; use the crontab form (--crontab) instead")
        time = f"{_span(sim.hours, 24)}:{_span(sim.minutes, 60)}:00"
        months, monthdays = _span(sim.months, 12), _span(sim.days, 31)
        week = ",".join(_WEEKDAYS[d] for d in sorted(days)) + " " if len(days) < 7 else ""
        if sim.day_and:   # at most one of day-of-month and day-of-week is restricted
            return [f"{week}*-{months}-{monthdays} {time}"]
        # cron runs when either day field matches; systemd needs both: one line for each
        return [f"*-{months}-{monthdays} {time}", f"{week}*-{months}-* {time}"]


def _span(values: set[int], size: int) -> str:
    """``values`` of a field as systemd writes them: "*", "5", or "0..4,8"."""
    if len(values) == size:
        return "*"
    runs: list[list[int]] = []
    for v in sorted(values):
        if runs and v == runs[-1][-1] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return ",".join(f"{r[0]:02d}" if len(r) == 1 else f"{r[0]:02d}..{r[-1]:02d}" for r in runs)


def parse_schedule(text: str) -> Schedule:
    """Read a pipeline's ``schedule:``; ScheduleError says what is wrong and what is accepted."""
    written = " ".join(text.split())
    if written.lower() == MANUAL:
        return Schedule(written, None)
    cron = _ALIASES.get(written.lower()) or _every(written) or written
    if len(cron.split()) != 5:
        raise ScheduleError(
            f"{written!r} is not a schedule: write manual, a five-field cron expression "
            "(minute hour day-of-month month day-of-week, e.g. '*/15 8-18 * * 1-5'), "
            "@hourly, @daily, @weekly, @monthly, or 'every N minutes' / 'every N hours'")
    try:
        CronSim(cron, datetime(2000, 1, 1))
    except CronSimError as exc:
        raise ScheduleError(f"{written!r} is not a valid cron expression: {exc}") from None
    return Schedule(written, cron)


def _every(written: str) -> str | None:
    """``every 15 minutes`` -> ``*/15 * * * *``; None when it is not that form."""
    match = _EVERY.fullmatch(written)
    if match is None:
        return None
    n, unit = int(match.group(1) or 1), match.group(2).lower()
    whole = 60 if unit == "minute" else 24
    if not 1 <= n <= whole or whole % n:
        raise ScheduleError(f"{written!r}: every N {unit}s needs an N that divides "
                            f"{whole} (so every run is the same time apart); write a cron "
                            "expression for anything else")
    step = "*" if n == 1 else f"*/{n}"
    return f"{step} * * * *" if unit == "minute" else f"0 {step} * * *"
