"""The ``peyvand`` command: run pipelines, look at the master, export it, read events."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from hub import __version__
from hub.config import Config, load_config
from hub.errors import ConfigError, PeyvandError
from hub.log import configure
from hub.store import quarantine
from hub.store.engine import open_engine
from hub.store.queries import count_masters, get_master, search

# Off a terminal rich would wrap at 80 columns; logs and CI output read better wider.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 120)


class _Ctx:
    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None
        self._engine: Engine | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
            configure(self._config.log_level, self._config.log_format)
        return self._config

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.config.store_url)
        return self._engine


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
    from hub.bus.relay import relay_outbox
    from hub.bus.topology import describe_guarantee
    from hub.pipeline import RunStats, check_all, run_pipeline
    from hub.store.master import MasterIngest

    cfg = obj.config
    err.print(describe_guarantee(cfg.bus_url))
    chosen = [cfg.pipeline(n) for n in pipelines] if pipelines else list(cfg.pipelines)
    check_all(chosen)
    ingest = MasterIngest(cfg.rules, cfg.source_priority)
    results: list[RunStats] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=False) as progress:
        for p in chosen:
            task = progress.add_task(p.name, total=None)
            results.append(run_pipeline(
                p, obj.engine, ingest, batch_size=cfg.batch_size,
                on_progress=lambda n, t=task: progress.advance(t, n),
                on_total=lambda n, t=task: progress.update(t, total=n)))
            done = results[-1].read
            progress.update(task, total=done, completed=done)
    published = relay_outbox(obj.engine, cfg.bus_url)
    _summary(results, published, obj.engine)


def _summary(results: list[Any], published: int, engine: Engine) -> None:
    table = Table(title="Run summary", title_justify="left")
    for col in ("pipeline", "read", "quarantined", "unchanged", "new masters", "linked",
                "masters merged"):
        table.add_column(col, justify="left" if col == "pipeline" else "right")
    for r in results:
        table.add_row(r.pipeline, str(r.read), str(r.rejected), str(r.unchanged),
                      str(r.created), str(r.linked), str(r.merged))
    out.print(table)
    reasons = quarantine.top_reasons(engine)
    if any(r.rejected for r in results) and reasons:
        out.print("Top quarantine reasons (open entries, `peyvand quarantine list` shows each):")
        for stage, fld, n in reasons:
            out.print(f"  {n:>4}  {stage:<12} {fld}")
    out.print(f"Customer master: {count_masters(engine)} customers. "
              f"Events published: {published}.")


@cli.group()
def master() -> None:
    """Look at the customer master."""


@master.command("show")
@click.argument("master_id")
@click.pass_obj
def master_show(obj: _Ctx, master_id: str) -> None:
    """Show one customer: golden fields with their source, and the linked records."""
    found = get_master(obj.engine, master_id)
    if found is None:
        raise click.ClickException(f"there is no customer {master_id!r} in the master")
    row, records = found
    out.print(f"[bold]{row.id}[/bold]  {row.golden.get('display_name', '')}  "
              f"(version {row.version}, {row.status}"
              + (f" into {row.merged_into}" if row.merged_into else "") + ")")
    table = Table("field", "value", "from")
    for path, values in row.golden.get("fields", {}).items():
        for v in values:
            table.add_row(path, v["value"], v["source"])
    out.print(table)
    out.print("Linked source records:")
    for rec in records:
        out.print(f"  {rec.source_system}/{rec.source_id}  {rec.location}")


@master.command("search")
@click.argument("text")
@click.option("--limit", default=20, show_default=True)
@click.pass_obj
def master_search(obj: _Ctx, text: str, limit: int) -> None:
    """Find customers by name, in Persian or Latin script (normalized, cross-script)."""
    rows = search(obj.engine, text, limit=limit)
    if not rows:
        out.print(f"No customer matches {text!r}.")
        return
    table = Table("id", "name", "sources")
    for row in rows:
        table.add_row(row.id, row.golden.get("display_name", ""),
                      ", ".join(row.golden.get("sources", [])))
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
    from hub import export as exporter

    if xref:
        n = exporter.write_xref(obj.engine, xref)
        err.print(f"Wrote {n} rows to {xref}.")
        return
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        n = (exporter.write_xml if fmt == "xml" else exporter.write_csv)(obj.engine, stream)
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
    from hub.store.outbox import read

    for event in read(obj.engine, after=after, limit=limit, types=list(types) or None):
        click.echo(json.dumps(event.envelope(), ensure_ascii=False))


@cli.command()
@click.pass_obj
def relay(obj: _Ctx) -> None:
    """Publish outbox events that are not on the bus yet."""
    from hub.bus.relay import relay_outbox

    n = relay_outbox(obj.engine, obj.config.bus_url)
    out.print(f"Published {n} events.")


@cli.group(name="quarantine")
def quarantine_group() -> None:
    """Records that were rejected, with their reasons."""


@quarantine_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include resolved entries.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with one column per detail.")
@click.pass_obj
def quarantine_list(obj: _Ctx, show_all: bool, as_csv: bool) -> None:
    """List quarantined records: where they are, which field, what is wrong."""
    rows = quarantine.entries(obj.engine, status=None if show_all else "open")
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["id", "pipeline", "source_system", "source_id", "location", "stage",
                         "field", "reason", "status"])
        for r in rows:
            writer.writerow([r.id, r.pipeline, r.source_system, r.source_id, r.location,
                             r.stage, r.field or "", r.reason, r.status])
        return
    for r in rows:
        out.print(f"#{r.id} {quarantine.describe(r)}")
    out.print(f"{len(rows)} record(s) in quarantine.")


@quarantine_group.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.pass_obj
def quarantine_replay(obj: _Ctx, ids: tuple[int, ...]) -> None:
    """Run open entries (all, or IDS) through their pipeline again, after a fix."""
    from hub.bus.relay import relay_outbox
    from hub.pipeline import replay_quarantine
    from hub.store.master import MasterIngest

    cfg = obj.config
    accepted, still = replay_quarantine(obj.engine, cfg.pipelines,
                                        MasterIngest(cfg.rules, cfg.source_priority), ids)
    published = relay_outbox(obj.engine, cfg.bus_url)
    out.print(f"Accepted {accepted} record(s); {still} still in quarantine. "
              f"Events published: {published}.")


@cli.command()
@click.pass_obj
def check(obj: _Ctx) -> None:
    """Check the configuration, pipelines, adapters' settings and mappings."""
    from hub.pipeline import check_all

    cfg = obj.config
    check_all(cfg.pipelines)
    for p in cfg.pipelines:
        out.print(f"ok  {p.name}: {p.adapter} -> {p.mapping.name} ({p.source_system})")
    out.print(f"Configuration {cfg.path} is valid.")


@cli.command()
@click.argument("name", required=False)
def adapters(name: str | None) -> None:
    """List the adapters, or show one's features and settings."""
    import dataclasses

    from adapters import ADAPTERS, get_adapter_class

    for n in [name] if name else sorted(ADAPTERS):
        cls = get_adapter_class(n)
        out.print(f"[bold]{n}[/bold]: {(cls.__doc__ or '').strip().splitlines()[0]}")
        out.print(f"  {cls.features}")
        for f in dataclasses.fields(cls.Settings):
            default = "" if f.default is dataclasses.MISSING else f" = {f.default!r}"
            out.print(f"  options.{f.name}: {f.type}{default}")


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
