"""``peyvand schedule``: each pipeline's schedule, and the crontab lines or systemd timers
that carry it out (Peyvand runs no scheduler of its own: ``hub.schedule`` says why)."""

from __future__ import annotations

import shlex
import sys
from datetime import datetime
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from hub.cli._base import _Ctx, cli, err, out
from hub.config import PipelineConfig
from hub.errors import StoreRefused, TransientError
from hub.schedule import Schedule, ScheduleError, parse_schedule


@cli.command()
@click.argument("pipelines", nargs=-1)
@click.option("--crontab", "as_crontab", is_flag=True,
              help="Print crontab lines (add them with `crontab -e`).")
@click.option("--systemd", "systemd_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write a .service and a .timer per pipeline into this folder "
                   "(e.g. /etc/systemd/system or ~/.config/systemd/user).")
@click.pass_obj
def schedule(obj: _Ctx, pipelines: tuple[str, ...], as_crontab: bool,
             systemd_dir: Path | None) -> None:
    """When PIPELINES (default: all) run on their own, from their `schedule:`.

    Without options, a table: each schedule in words, its next start and the last run.
    Peyvand runs no scheduler process: cron or systemd starts `peyvand sync PIPELINE` at
    those times, and --crontab or --systemd writes what they need. Times are this
    machine's local time.
    """
    chosen = obj.hub.pipelines(pipelines)
    timed = [(cfg, parse_schedule(cfg.schedule)) for cfg in chosen]
    timed = [(cfg, s) for cfg, s in timed if not s.manual]
    if as_crontab:
        _crontab(obj, timed)
    elif systemd_dir is not None:
        _systemd(obj, timed, systemd_dir)
    else:
        _table(obj, chosen)


def _table(obj: _Ctx, chosen: list[PipelineConfig]) -> None:
    table = Table("pipeline", "schedule", "in words", "next start (local time)", "last run")
    now, unread = datetime.now().astimezone(), None
    for cfg in chosen:
        when = parse_schedule(cfg.schedule)
        upcoming = when.next_runs(now)
        try:
            last = obj.hub.runs(cfg.name, 1)
            shown = f"{last[0].started_at:%Y-%m-%d %H:%M} UTC, {last[0].status}" if last \
                else "never"
        except (StoreRefused, TransientError) as exc:   # no store yet, or not now
            shown, unread = "?", exc
        table.add_row(*(Text(c) for c in (
            cfg.name, when.text, when.explain(),
            f"{upcoming[0]:%Y-%m-%d %H:%M}" if upcoming else "-", shown)))
    out.print(table)
    if unread is not None:
        out.print(Text(f"last run ?: {unread}"), soft_wrap=True)
    if all(parse_schedule(cfg.schedule).manual for cfg in chosen):
        out.print("No pipeline has a schedule: set `schedule:` in its file in pipelines/ "
                  "(e.g. `schedule: every 15 minutes`).")


def _command(obj: _Ctx, pipeline: str, *, quiet: bool) -> list[str]:
    """The argv a scheduler runs: this peyvand, this configuration, absolute paths."""
    script = Path(sys.argv[0]).resolve()
    start = [str(script)] if script.name == "peyvand" and script.is_file() else \
        [sys.executable, "-m", "hub"]
    return [*start, "--config", str(obj.config.path.resolve()), "sync",
            *(["--quiet"] if quiet else []), pipeline]


def _crontab(obj: _Ctx, timed: list[tuple[PipelineConfig, Schedule]]) -> None:
    # Plain text for a file: rich would neither wrap nor style it, but click is plainer.
    here = shlex.quote(str(Path.cwd()))
    click.echo("# Peyvand: one line per scheduled pipeline. A start while the previous run "
               "still goes exits 75 and\n# does nothing. Put secrets "
               "(PEYVAND__STORE__URL=...) above these lines, not in config.yaml.")
    for cfg, when in timed:
        line = " ".join(shlex.quote(a) for a in _command(obj, cfg.name, quiet=True))
        # cron reads % in a command as a newline
        click.echo(f"# {cfg.name}: {when.explain()}\n{when.cron} cd {here} && {line}"
                   .replace("%", "\\%"))
    if not timed:
        err.print("No pipeline has a schedule: nothing to add.")


def _systemd(obj: _Ctx, timed: list[tuple[PipelineConfig, Schedule]], folder: Path) -> None:
    calendars = {}
    for cfg, when in timed:   # every schedule is checked before any file is written
        try:
            calendars[cfg.name] = when.on_calendar()
        except ScheduleError as exc:
            raise click.UsageError(f"pipeline {cfg.name!r}: {exc}") from None
    folder.mkdir(parents=True, exist_ok=True)
    for cfg, when in timed:
        unit = f"peyvand-{cfg.name}"
        (folder / f"{unit}.service").write_text(_service(obj, cfg.name), encoding="utf-8")
        timer = "\n".join(f"OnCalendar={c}" for c in calendars[cfg.name])
        (folder / f"{unit}.timer").write_text(
            f"[Unit]\nDescription=Start the Peyvand sync of {cfg.name}: {when.explain()}\n\n"
            f"[Timer]\n{timer}\n# a start missed while the machine was off runs at boot\n"
            "Persistent=true\n\n[Install]\nWantedBy=timers.target\n", encoding="utf-8")
        out.print(Text(f"wrote {folder / unit}.service and .timer"))
    if timed:
        names = " ".join(f"peyvand-{cfg.name}.timer" for cfg, _ in timed)
        out.print(Text(f"Then: systemctl daemon-reload && systemctl enable --now {names}"
                       "\n(add --user to both for units in ~/.config/systemd/user)."),
                  soft_wrap=True)
    else:
        err.print("No pipeline has a schedule: nothing written.")


def _service(obj: _Ctx, pipeline: str) -> str:
    here = Path.cwd()
    argv = " ".join(_systemd_quote(a) for a in _command(obj, pipeline, quiet=False))
    return (f"[Unit]\nDescription=Peyvand sync of {pipeline}\n"
            "Wants=network-online.target\nAfter=network-online.target\n\n"
            f"[Service]\nType=oneshot\nWorkingDirectory={_systemd_quote(str(here))}\n"
            "# secrets as PEYVAND__STORE__URL=... lines; the file may be absent\n"
            f"EnvironmentFile=-{here / 'peyvand.env'}\n"
            f"ExecStart={argv}\n")


def _systemd_quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "/._-:=+@," for c in arg):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{escaped}"'
