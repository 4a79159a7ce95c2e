"""``peyvand run``, ``relay`` and ``quarantine``: moving records, and what waits."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from hub.app import Hub
from hub.cli._base import EXIT_OK, EXIT_QUARANTINE, _Ctx, cli, err, exit_code, out
from hub.errors import ConfigError, PeyvandError, StoreRefused, TransientError
from hub.pipeline import RunStats


class _Bars:
    """Progress bars for ``Hub.run``: one per pipeline, sized when the source knows."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def started(self, pipeline: str, total: int | None) -> None:
        if pipeline in self.tasks:   # tried again after its source was unavailable
            self.progress.update(self.tasks[pipeline], total=total)
        else:
            self.tasks[pipeline] = self.progress.add_task(pipeline, total=total)

    def advanced(self, pipeline: str, records: int) -> None:
        self.progress.advance(self.tasks[pipeline], records)

    def finished(self, pipeline: str, stats: RunStats) -> None:
        self.progress.update(self.tasks[pipeline], total=stats.read, completed=stats.read)


@cli.command()
@click.argument("pipelines", nargs=-1)
@click.option("--json", "as_json", is_flag=True,
              help="Print a machine-readable summary on stdout instead of the table.")
@click.option("--full", is_flag=True,
              help="Read each source again from the start (a full refresh); master ids stay.")
@click.pass_context
def run(ctx: click.Context, pipelines: tuple[str, ...], as_json: bool, full: bool) -> None:
    """Run PIPELINES (all configured ones when none is named), then publish the events.

    Exits 3 when records were newly put in quarantine, 75 when a source stayed
    unavailable, another process runs one of the pipelines, or the events could not be
    published (they wait in the outbox for the next run or relay).
    """
    def with_bars(hub: Hub) -> list[RunStats]:
        err.print(Text(hub.describe_bus()), soft_wrap=True)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=False) as progress:
            return hub.run(pipelines, observer=_Bars(progress), full=full)

    _finish(ctx, with_bars, "json" if as_json else "table")


@cli.command()
@click.argument("pipelines", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("-q", "--quiet", is_flag=True,
              help="Print nothing when all went well: under cron, mail only comes when "
                   "there is something to do.")
@click.pass_context
def sync(ctx: click.Context, pipelines: tuple[str, ...], as_json: bool, quiet: bool) -> None:
    """Bring PIPELINES (default: all) up to date with their sources, unattended.

    For cron and systemd timers (`peyvand schedule` writes them): incremental and
    idempotent, like `run` without progress bars, one line per pipeline. A start that
    overlaps a run of the same pipeline does nothing and exits 75; a source that is
    unavailable is tried again (run.attempts, run.retry_wait), then exits 75 with its
    checkpoint where the last committed batch left it.
    """
    _finish(ctx, lambda hub: hub.run(pipelines),
            "json" if as_json else "quiet" if quiet else "lines")


def _finish(ctx: click.Context, runs: Callable[[Hub], list[RunStats]], style: str) -> None:
    """Run, publish the events, print the summary in ``style``, exit with the run's code."""
    try:
        hub: Hub = ctx.obj.hub
        results = runs(hub)
    except PeyvandError as exc:
        if style == "json":   # a machine still gets its object; the sentence goes to stderr
            click.echo(json.dumps({"pipelines": [], "error": str(exc),
                                   "exit_code": exit_code(exc)}, ensure_ascii=False))
        raise
    published, relay_error = 0, None
    try:
        published = hub.relay()
    except (TransientError, StoreRefused, ConfigError) as exc:
        # Every batch is committed: the summary stands, and the events wait in the outbox.
        relay_error = exc
    newly = sum(r.quarantined + r.set_aside for r in results)
    code = (exit_code(relay_error) if relay_error else
            EXIT_QUARANTINE if newly else EXIT_OK)
    if style == "json":
        _json_summary(hub, results, published, code, relay_error)
    elif style == "table":
        _summary(hub, results, published)
    elif style == "lines":
        for r in results:
            out.print(Text(_line(r)))
        out.print(f"Events published: {published}.")
    if newly and style != "json":
        (err if style == "quiet" else out).print(
            f"{newly} record(s) newly in quarantine: `peyvand quarantine list` shows them.")
    if relay_error:
        err.print(Text.assemble(("Error: ", "red"), str(relay_error), "\nThe events of this "
                                "run wait in the store's outbox; they will be published by "
                                "the next `peyvand run` or `peyvand relay`."), soft_wrap=True)
    ctx.exit(code)


def _line(r: RunStats) -> str:
    """One pipeline's result on one line, for logs and cron mail."""
    parts = [f"read {r.read}", f"unchanged {r.unchanged}", f"new masters {r.created}",
             f"linked {r.linked}", f"merged {r.merged}", f"quarantined {r.rejected}",
             f"values set aside {r.set_aside}"]
    parts += [f"interactions {r.interactions}"] if r.interactions else []
    parts += [f"links closed {r.closed}"] if r.closed else []
    return f"{r.pipeline}: " + ", ".join(parts)


def _json_summary(hub: Hub, results: list[RunStats], published: int, code: int,
                  relay_error: Exception | None) -> None:
    summary = {"pipelines": [asdict(r) for r in results], "events_published": published,
               "customers": _if_readable(hub.count_customers),
               "newly_in_quarantine": sum(r.quarantined + r.set_aside for r in results),
               "relay_error": str(relay_error) if relay_error else None, "exit_code": code}
    click.echo(json.dumps(summary, ensure_ascii=False, default=str))


def _if_readable(read: Any) -> Any:
    """``read()``, or None when the store cannot answer now: a summary still prints."""
    try:
        return read()
    except (TransientError, StoreRefused):
        return None


def _summary(hub: Hub, results: list[RunStats], published: int) -> None:
    table = Table(title="Run summary", title_justify="left")
    columns = ["pipeline", "read", "quarantined", "values set aside", "unchanged",
               "new masters", "linked", "masters merged"]
    with_interactions = any(r.interactions for r in results)
    if with_interactions:
        columns.append("interactions")
    with_closed = any(r.closed for r in results)
    if with_closed:
        columns.append("links closed")
    for col in columns:
        table.add_column(col, justify="left" if col == "pipeline" else "right")
    for r in results:
        row = [r.pipeline, str(r.read), str(r.rejected), str(r.set_aside), str(r.unchanged),
               str(r.created), str(r.linked), str(r.merged)]
        extra = ([f"{r.interactions} ({r.attached} attached)"] if with_interactions else [])
        extra += [str(r.closed)] if with_closed else []
        table.add_row(*map(Text, [*row, *extra]))
    out.print(table)
    reasons = _if_readable(hub.top_reasons) or []
    if any(r.rejected or r.set_aside for r in results) and reasons:
        out.print("Top quarantine reasons (open entries, `peyvand quarantine list` shows each):")
        for stage, fld, n in reasons:
            out.print(Text(f"  {n:>4}  {stage:<12} {fld}"))
    customers = _if_readable(hub.count_customers)
    out.print(f"Customer master: {'?' if customers is None else customers} customers. "
              f"Events published: {published}.")


@cli.command()
@click.pass_obj
def relay(obj: _Ctx) -> None:
    """Publish outbox events that are not on the bus yet."""
    out.print(f"Published {obj.hub.relay()} events.")


@cli.group(name="quarantine")
def quarantine_group() -> None:
    """Records that were rejected, with their reasons."""


@quarantine_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include resolved entries.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with one column per detail.")
@click.pass_obj
def quarantine_list(obj: _Ctx, show_all: bool, as_csv: bool) -> None:
    """List quarantined records: where they are, which field, what is wrong."""
    rows = obj.hub.quarantine(status=None if show_all else "open")
    if as_csv:
        from hub.export import safe_cell

        writer = csv.writer(sys.stdout)
        writer.writerow(["id", "kind", "pipeline", "source_system", "source_id", "location",
                         "stage", "field", "reason", "status"])
        for r in rows:
            # Operators open this in a spreadsheet: no cell may run as a formula (M3).
            writer.writerow([safe_cell(str(c)) for c in (
                r.id, r.kind, r.pipeline, r.source_system, r.source_id, r.location, r.stage,
                r.field or "", r.reason, r.status)])
        return
    for r in rows:
        out.print(Text(f"#{r.id} {r.describe()}"))   # data, never markup (M2)
    out.print(f"{len(rows)} record(s) in quarantine.")


@quarantine_group.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.pass_obj
def quarantine_replay(obj: _Ctx, ids: tuple[int, ...]) -> None:
    """Run open entries (all, or IDS) through their pipeline again, after a fix."""
    accepted, still = obj.hub.replay(ids)
    published = obj.hub.relay()
    out.print(f"Accepted {accepted} record(s); {still} still in quarantine. "
              f"Events published: {published}.")


