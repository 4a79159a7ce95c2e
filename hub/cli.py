"""The ``peyvand`` command: presentation only; every action is a method of ``hub.app.Hub``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from hub import __version__
from hub.app import Hub
from hub.config import load_config
from hub.errors import ConfigError, PeyvandError
from hub.log import configure
from hub.pipeline import RunStats

# Off a terminal rich would wrap at 80 columns; logs and CI output read better wider.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 120)


class _Ctx:
    """The Hub, built on first use so ``--help`` needs no configuration."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._hub: Hub | None = None

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            config = load_config(self.config_path)
            configure(config.log.level, config.log.format)
            self._hub = Hub(config)
        return self._hub


class _Bars:
    """Progress bars for ``Hub.run``: one per pipeline, sized when the source knows."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def started(self, pipeline: str, total: int | None) -> None:
        self.tasks[pipeline] = self.progress.add_task(pipeline, total=total)

    def advanced(self, pipeline: str, records: int) -> None:
        self.progress.advance(self.tasks[pipeline], records)

    def finished(self, pipeline: str, stats: RunStats) -> None:
        self.progress.update(self.tasks[pipeline], total=stats.read, completed=stats.read)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="config.yaml to use (default: ./config.yaml, else the shipped demo one).")
@click.version_option(__version__, prog_name="peyvand")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Peyvand: customer records from many systems, one deduplicated master."""
    ctx.obj = _Ctx(config_path)


@cli.command()
@click.argument("pipelines", nargs=-1)
@click.pass_obj
def run(obj: _Ctx, pipelines: tuple[str, ...]) -> None:
    """Run PIPELINES (all configured ones when none is named), then publish the events."""
    hub = obj.hub
    err.print(hub.describe_bus())
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=False) as progress:
        results = hub.run(pipelines, observer=_Bars(progress))
    published = hub.relay()
    _summary(hub, results, published)


def _summary(hub: Hub, results: list[RunStats], published: int) -> None:
    table = Table(title="Run summary", title_justify="left")
    columns = ["pipeline", "read", "quarantined", "values set aside", "unchanged",
               "new masters", "linked", "masters merged"]
    with_interactions = any(r.interactions for r in results)
    if with_interactions:
        columns.append("interactions")
    for col in columns:
        table.add_column(col, justify="left" if col == "pipeline" else "right")
    for r in results:
        row = [r.pipeline, str(r.read), str(r.rejected), str(r.set_aside), str(r.unchanged),
               str(r.created), str(r.linked), str(r.merged)]
        table.add_row(*row, *([f"{r.interactions} ({r.attached} attached)"]
                              if with_interactions else []))
    out.print(table)
    reasons = hub.top_reasons()
    if any(r.rejected or r.set_aside for r in results) and reasons:
        out.print("Top quarantine reasons (open entries, `peyvand quarantine list` shows each):")
        for stage, fld, n in reasons:
            out.print(f"  {n:>4}  {stage:<12} {fld}")
    out.print(f"Customer master: {hub.count_customers()} customers. "
              f"Events published: {published}.")


@cli.group()
def master() -> None:
    """Look at the customer master."""


@master.command("show")
@click.argument("master_id")
@click.pass_obj
def master_show(obj: _Ctx, master_id: str) -> None:
    """Show one customer: golden fields with their source, and the linked records."""
    view = obj.hub.customer(master_id)
    if view is None:
        raise click.ClickException(f"there is no customer {master_id!r} in the master")
    if view.resolved_from:
        out.print(f"{view.resolved_from} was merged into {view.id}; showing {view.id}.")
    merged = f" into {view.merged_into}" if view.merged_into else ""
    out.print(f"[bold]{view.id}[/bold]  {view.display_name}  "
              f"(version {view.version}, {view.status}{merged})")
    table = Table("field", "value", "from")
    for value in view.values:
        table.add_row(value.path, value.value, value.source)
    out.print(table)
    out.print("Linked source records:")
    for rec in view.records:
        out.print(f"  {rec.source_system}/{rec.source_id}  {rec.location}  "
                  f"({_why(rec.decision, rec.evidence)})")
    if view.interactions:
        out.print("Interactions (newest first):")
        for i in view.interactions:
            subject = (i.fields.get("subject") or [""])[0]
            out.print(f"  {i.occurred_at}  {i.channel}  {subject}")


def _why(decision: str, evidence: dict[str, Any] | None) -> str:
    """``joined: same mobile, with accounting/1016``: a link's decision in words."""
    if not evidence:
        return decision
    other = evidence.get("record")
    with_ = f", with {other['system']}/{other['id']}" if other else ""
    return f"{decision}: {evidence.get('rule', '')}{with_}"


@master.command("search")
@click.argument("text")
@click.option("--limit", default=20, show_default=True)
@click.pass_obj
def master_search(obj: _Ctx, text: str, limit: int) -> None:
    """Find customers by name, in Persian or Latin script (normalized, cross-script)."""
    found = obj.hub.search(text, limit=limit)
    if not found:
        out.print(f"No customer matches {text!r}.")
        return
    table = Table("id", "name", "sources")
    for row in found:
        table.add_row(row.id, row.display_name, ", ".join(row.sources))
    out.print(table)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["xml", "csv"]), default="csv",
              show_default=True, help="Golden records as XML or CSV.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write here instead of standard output.")
@click.option("--xref", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the cross-reference source_system,source_id,master_id to this CSV.")
@click.pass_obj
def export(obj: _Ctx, fmt: str, output: Path | None, xref: Path | None) -> None:
    """Export the customer master (golden records), or its cross-reference with --xref."""
    if xref:
        n = obj.hub.export_xref(xref)
        err.print(f"Wrote {n} rows to {xref}.")
        return
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        n = obj.hub.export(fmt, stream)
    finally:
        if output:
            stream.close()
    err.print(f"Exported {n} customers" + (f" to {output}." if output else "."))


@cli.command()
@click.option("--from", "after", default=0, show_default=True,
              help="Print events after this sequence number (offset).")
@click.option("--limit", type=int, default=None, help="At most this many events.")
@click.option("--type", "types", multiple=True, help="Only this event type (repeatable).")
@click.pass_obj
def events(obj: _Ctx, after: int, limit: int | None, types: tuple[str, ...]) -> None:
    """Print the event log as JSON lines, from an offset."""
    for event in obj.hub.events(after=after, limit=limit, types=list(types) or None):
        click.echo(json.dumps(event.envelope(), ensure_ascii=False))


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
        writer = csv.writer(sys.stdout)
        writer.writerow(["id", "pipeline", "source_system", "source_id", "location", "stage",
                         "field", "reason", "status"])
        for r in rows:
            writer.writerow([r.id, r.pipeline, r.source_system, r.source_id, r.location,
                             r.stage, r.field or "", r.reason, r.status])
        return
    for r in rows:
        out.print(f"#{r.id} {r.describe()}")
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


@cli.command()
@click.pass_obj
def check(obj: _Ctx) -> None:
    """Check the configuration, pipelines, adapters' settings and mappings."""
    hub = obj.hub
    for p in hub.check():
        out.print(f"ok  {p.name}: {p.adapter} -> {p.mapping.name} ({p.source_system})")
    out.print(f"Configuration {hub.config.path} is valid.")


@cli.command()
@click.argument("name", required=False)
def adapters(name: str | None) -> None:
    """List the adapters, or show one's features and settings."""
    from adapters import adapter_names, get_adapter_class
    from hub.settings import describe_settings

    for n in [name] if name else adapter_names():
        cls = get_adapter_class(n)
        out.print(f"[bold]{n}[/bold]: {(cls.__doc__ or '').strip().splitlines()[0]}")
        out.print(f"  features: {cls.features.describe()}")
        for setting, kind, default in describe_settings(cls.Settings):
            out.print(f"  options.{setting}: {kind} ({default})", markup=False)


def main() -> None:
    """Console entry point: errors read as sentences, with exit code 2 for configuration."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PeyvandError as exc:
        err.print(f"[red]Error:[/red] {exc}", markup=True, soft_wrap=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)
