"""The ``peyvand`` command: presentation only; every action is a method of ``hub.app.Hub``.

Data never reaches rich as markup: values are wrapped in ``rich.text.Text`` (not parsed
for ``[tags]`` or ``:emoji:``), so a name like ``[/] Karimi`` is printed as written.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

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
from rich.text import Text

from hub import __version__
from hub.app import Hub
from hub.config import Config, find_config, load_config
from hub.errors import (
    ConfigError,
    FatalSourceError,
    PeyvandError,
    StoreRefused,
    TransientError,
)
from hub.log import configure, mask
from hub.pipeline import RunStats
from hub.store.engine import open_engine

# Off a terminal rich would wrap at 80 columns; logs and CI output read better wider.
out = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False, emoji=False,
              width=None if sys.stderr.isatty() else 120)


EXIT_OK, EXIT_BUG, EXIT_CONFIG, EXIT_QUARANTINE, EXIT_TEMPFAIL = 0, 1, 2, 3, 75
EXIT_CODES = """\b
Exit codes:
  0  success
  1  an unexpected error: a bug (the traceback is kept in a file; please report it),
     or `master show` of an id the master does not know
  2  configuration error (config.yaml, a pipeline, a mapping, a source it names,
     the command line): fix what the message lists, then run again
  3  finished, with records newly put in quarantine (the run summary says how many;
     `peyvand quarantine list` shows them)
  75 a source, the store or the bus is unavailable (EX_TEMPFAIL): try again later;
     for a full or read-only store, first do what the message says"""

# Commands that only read the store: they open it read-only (nothing created, migrated
# or written), so they work on a snapshot, a replica or a read-only folder.
READ_ONLY = {("events",), ("export",), ("master", "show"), ("master", "search"),
             ("quarantine", "list"), ("runs",)}


def _command_path() -> tuple[str, ...]:
    """The running (sub)command's names below ``peyvand``: ("master", "search")."""
    names: list[str] = []
    ctx = click.get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return tuple(names)


class _Ctx:
    """The Hub, built on first use so ``--help`` needs no configuration."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._hub: Hub | None = None
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            path, demo = find_config(self.config_path)
            if demo:
                err.print(Text(f"no ./config.yaml here: using the shipped demo configuration "
                               f"at {path} (its store goes in ./.peyvand); `peyvand init DIR` "
                               "starts a project"), soft_wrap=True)
            self._config = load_config(self.config_path)   # finds the same file again
            configure(self._config.log.level, self._config.log.format)
        return self._config

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            config = self.config
            reads_only = _command_path() in READ_ONLY
            engine = open_engine(config.store.url, read_only=True) if reads_only else None
            self._hub = Hub(config, engine=engine)
        return self._hub

    def close(self) -> None:
        # Closing the last connection lets SQLite fold its -wal into the store file, so
        # a copy taken afterwards is one self-contained file.
        if self._hub is not None:
            self._hub.close()


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="config.yaml to use (default: $PEYVAND_CONFIG, else ./config.yaml, else "
                   "the shipped demo one). A named file that is missing is an error.")
@click.version_option(__version__, prog_name="peyvand")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Peyvand: customer records from many systems, one deduplicated master."""
    ctx.obj = _Ctx(config_path)
    ctx.call_on_close(ctx.obj.close)


@cli.command()
@click.argument("pipelines", nargs=-1)
@click.option("--json", "as_json", is_flag=True,
              help="Print a machine-readable summary on stdout instead of the table.")
@click.pass_context
def run(ctx: click.Context, pipelines: tuple[str, ...], as_json: bool) -> None:
    """Run PIPELINES (all configured ones when none is named), then publish the events.

    Exits 3 when records were newly put in quarantine, 75 when the events could not be
    published (they wait in the outbox for the next run or relay).
    """
    try:
        hub: Hub = ctx.obj.hub
        err.print(Text(hub.describe_bus()), soft_wrap=True)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=False) as progress:
            results = hub.run(pipelines, observer=_Bars(progress))
    except PeyvandError as exc:
        if as_json:   # a machine still gets its object; the sentence goes to stderr
            click.echo(json.dumps({"pipelines": [], "error": str(exc),
                                   "exit_code": _exit_code(exc)}, ensure_ascii=False))
        raise
    published, relay_error = 0, None
    try:
        published = hub.relay()
    except (TransientError, StoreRefused, ConfigError) as exc:
        # Every batch is committed: the summary stands, and the events wait in the outbox.
        relay_error = exc
    newly = sum(r.quarantined + r.set_aside for r in results)
    code = (_exit_code(relay_error) if relay_error else
            EXIT_QUARANTINE if newly else EXIT_OK)
    if as_json:
        _json_summary(hub, results, published, code, relay_error)
    else:
        _summary(hub, results, published)
        if newly:
            out.print(f"{newly} record(s) newly in quarantine: `peyvand quarantine list` "
                      "shows them.")
    if relay_error:
        err.print(Text.assemble(("Error: ", "red"), str(relay_error), "\nThe events of this "
                                "run wait in the store's outbox; they will be published by "
                                "the next `peyvand run` or `peyvand relay`."), soft_wrap=True)
    ctx.exit(code)


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
    for col in columns:
        table.add_column(col, justify="left" if col == "pipeline" else "right")
    for r in results:
        row = [r.pipeline, str(r.read), str(r.rejected), str(r.set_aside), str(r.unchanged),
               str(r.created), str(r.linked), str(r.merged)]
        table.add_row(*map(Text, row), *([Text(f"{r.interactions} ({r.attached} attached)")]
                                         if with_interactions else []))
    out.print(table)
    reasons = _if_readable(hub.top_reasons) or []
    if any(r.rejected or r.set_aside for r in results) and reasons:
        out.print("Top quarantine reasons (open entries, `peyvand quarantine list` shows each):")
        for stage, fld, n in reasons:
            out.print(Text(f"  {n:>4}  {stage:<12} {fld}"))
    customers = _if_readable(hub.count_customers)
    out.print(f"Customer master: {'?' if customers is None else customers} customers. "
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
        out.print(Text(f"{view.resolved_from} was merged into {view.id}; showing {view.id}."))
    merged = f" into {view.merged_into}" if view.merged_into else ""
    out.print(Text.assemble((view.id, "bold"), f"  {view.display_name}  "
                            f"(version {view.version}, {view.status}{merged})"))
    table = Table("field", "value", "from")
    for value in view.values:
        table.add_row(Text(value.path), Text(value.value), Text(value.source))
    out.print(table)
    out.print("Linked source records:")
    for rec in view.records:
        out.print(Text(f"  {rec.source_system}/{rec.source_id}  {rec.location}  "
                       f"({_why(rec.decision, rec.evidence)})"))
    if view.interactions:
        out.print("Interactions (newest first):")
        for i in view.interactions:
            subject = (i.fields.get("subject") or [""])[0]
            out.print(Text(f"  {i.occurred_at}  {i.channel}  {subject}"))


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
        out.print(Text(f"No customer matches {text!r}."))
        return
    table = Table("id", "name", "sources")
    for row in found:
        table.add_row(Text(row.id), Text(row.display_name), Text(", ".join(row.sources)))
    out.print(table)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "xml"]), default="csv",
              show_default=True,
              help="csv: one row per customer. jsonl: one JSON object per customer, the "
                   "events' customer shape. xml: valid against schemas/master.xsd, every "
                   "value with its source record.")
@click.option("--spreadsheet-safe", is_flag=True,
              help="CSV for people opening it in Excel or LibreOffice: a leading ' on cells "
                   "that would run as formulas or become numbers (+98912..., 0012...), "
                   "control characters as U+FFFD, and a BOM. No longer exact: leave it off "
                   "for files another program reads.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write here (replaced only once complete) instead of standard output.")
@click.option("--xref", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the cross-reference source_system,source_id,master_id to this "
                   "CSV, keys exactly as stored.")
@click.pass_obj
def export(obj: _Ctx, fmt: str, spreadsheet_safe: bool, output: Path | None,
           xref: Path | None) -> None:
    """Export the active customers, or the cross-reference with --xref (docs/exports.md).

    Values are written exactly as stored, except with --spreadsheet-safe.
    """
    from hub.export import opened

    if spreadsheet_safe and (xref or fmt != "csv"):
        # The xref's keys are for joining, and XML/JSON are read by programs: both exact.
        raise click.UsageError("--spreadsheet-safe applies to --format csv only")
    if xref:
        n = obj.hub.export_xref(xref)
        err.print(f"Wrote {n} rows to {xref}.", markup=False)
        return
    with opened(output) as stream:
        n = obj.hub.export(fmt, stream, spreadsheet_safe=spreadsheet_safe)
    err.print(f"Exported {n} customers" + (f" to {output}." if output else "."), markup=False)


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
        from hub.export import safe_cell

        writer = csv.writer(sys.stdout)
        writer.writerow(["id", "pipeline", "source_system", "source_id", "location", "stage",
                         "field", "reason", "status"])
        for r in rows:
            # Operators open this in a spreadsheet: no cell may run as a formula (M3).
            writer.writerow([safe_cell(str(c)) for c in (
                r.id, r.pipeline, r.source_system, r.source_id, r.location, r.stage,
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


@cli.command()
@click.pass_obj
def check(obj: _Ctx) -> None:
    """Check the configuration, pipelines, adapters' settings and mappings."""
    hub = obj.hub
    for p in hub.check():
        out.print(Text(f"ok  {p.name}: {p.adapter} -> {p.mapping.name} ({p.source_system})"))
    out.print(Text(f"Configuration {hub.config.path} is valid."))


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
def init(folder: Path) -> None:
    """Start a project in FOLDER: config, a pipeline, a commented mapping, a sample file.

    It runs as written (`peyvand --config FOLDER/config.yaml run`), and never overwrites
    a file.
    """
    from hub.scaffold import scaffold

    for path in scaffold(folder):
        out.print(Text(f"wrote {path}"))
    config = folder / "config.yaml"
    out.print(Text(f"Next: peyvand --config {config} run, then peyvand --config {config} "
                   "quarantine list (one sample row waits there on purpose)."), soft_wrap=True)


@cli.command()
@click.argument("name", required=False)
def adapters(name: str | None) -> None:
    """List the adapters, or show one's features and settings."""
    from adapters import adapter_names, get_adapter_class
    from hub.settings import describe_settings

    for n in [name] if name else adapter_names():
        cls = get_adapter_class(n)
        summary = ((cls.__doc__ or "").strip().splitlines() or [""])[0]
        out.print(Text.assemble((n, "bold"), f": {summary}"))
        out.print(Text(f"  features: {cls.features.describe()}"))
        for setting, kind, default in describe_settings(cls.Settings):
            out.print(Text(f"  options.{setting}: {kind} ({default})"))


def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, ConfigError | FatalSourceError):
        return EXIT_CONFIG
    if isinstance(exc, TransientError | StoreRefused):
        return EXIT_TEMPFAIL
    return EXIT_BUG


def _report_bug(exc: BaseException) -> NoReturn:
    """An exception nothing translated is a bug: keep its traceback in a file only this user
    can read (it may quote personal data), and print where it is and where to report it."""
    fd, name = tempfile.mkstemp(prefix="peyvand-traceback-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"peyvand {__version__}, {' '.join(sys.argv)}\n")
        f.write("".join(traceback.format_exception(exc)))
    err.print(Text.assemble(
        ("Unexpected error: ", "red"), f"{type(exc).__name__}: {mask(str(exc))}\n",
        f"This is a bug in Peyvand {__version__}. The traceback is in {name}; please "
        f"report it {_where_to_report()}, with that file (check it for personal data first)."),
        soft_wrap=True)
    sys.exit(EXIT_BUG)


def _where_to_report() -> str:
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("peyvand").get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("issues", "bug tracker", "bugs"):
            return f"at {url.strip()}"
    return "to the Peyvand maintainers (the project's issue tracker)"


def main() -> None:
    """Console entry point: errors read as sentences, exit codes as in ``EXIT_CODES``."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PeyvandError as exc:
        # A Text, not markup: a message quoting data ("[/]", ":x:") is printed as written.
        err.print(Text.assemble(("Error: ", "red"), str(exc)), soft_wrap=True)
        sys.exit(_exit_code(exc))
    except Exception as exc:   # nothing translated it: a bug, reported as one
        _report_bug(exc)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
