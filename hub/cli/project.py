"""``peyvand init``, ``check``, ``preview``, ``runs``, ``checkpoint`` and ``adapters``:
setting a project up and seeing how its pipelines stand."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from hub.cli._base import _Ctx, cli, out


@cli.command()
@click.pass_obj
def check(obj: _Ctx) -> None:
    """Check the configuration, pipelines, adapters' settings and mappings, and open each
    source to check the columns its mapping names."""
    hub = obj.hub
    for p in hub.check(sources=True):
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




@cli.command()
@click.argument("pipeline")
@click.option("--limit", default=10, show_default=True, help="How many records to show.")
@click.pass_obj
def preview(obj: _Ctx, pipeline: str, limit: int) -> None:
    """Show PIPELINE's first records mapped and standardized, what would be set aside and
    what held back. Nothing is written."""
    for n, row in enumerate(obj.hub.preview(pipeline, limit), start=1):
        raw = row.raw
        out.print(Text.assemble((f"#{n} {raw.location or raw.source_id}", "bold"),
                                f"  (record {raw.source_id})"))
        if row.rejected is not None:
            out.print(Text(f"  held back ({row.rejected.stage}): {row.rejected.reason}"))
            continue
        record = row.record
        assert record is not None   # a row is accepted or rejected, never neither
        if record.source_system != obj.hub.config.pipeline(pipeline).source_system:
            out.print(Text(f"  source system: {record.source_system}"))
        for path, values in record.fields.items():
            for value in values:
                raw_text = f"   (from {value.raw!r})" if value.raw != value.value else ""
                out.print(Text(f"  {path}: {value.value}{raw_text}"))
        for problem in record.set_aside:
            out.print(Text(f"  set aside: {problem.describe()}"))


@cli.command()
@click.argument("pipeline", required=False)
@click.option("--limit", default=20, show_default=True)
@click.pass_obj
def runs(obj: _Ctx, pipeline: str | None, limit: int) -> None:
    """The run history, newest first (all pipelines, or PIPELINE's)."""
    table = Table("run", "pipeline", "started (UTC)", "took", "status", "read", "quarantined",
                  "set aside", "new masters")
    for column in table.columns[1:3]:
        column.no_wrap = True
    for r in obj.hub.runs(pipeline, limit):
        took = (f"{(r.finished_at - r.started_at).total_seconds():.1f} s" if r.finished_at
                else "running, or interrupted")
        table.add_row(*(Text(str(c)) for c in (
            r.id, r.pipeline, f"{r.started_at:%Y-%m-%d %H:%M}", took, r.status,
            r.stats.get("read", ""), r.stats.get("rejected", ""),
            r.stats.get("set_aside", ""), r.stats.get("created", ""))))
        if r.error:
            table.add_row("", "", "", "", Text(r.error), "", "", "", "")
    out.print(table)


@cli.group()
def checkpoint() -> None:
    """Where each pipeline stopped reading its source."""


@checkpoint.command("show")
@click.argument("pipelines", nargs=-1)
@click.pass_obj
def checkpoint_show(obj: _Ctx, pipelines: tuple[str, ...]) -> None:
    """Show PIPELINES' positions (all configured ones when none is named)."""
    for cfg in obj.hub.pipelines(pipelines):
        position = obj.hub.checkpoint(cfg.name)
        shown = (f"{position[0]}  (saved {position[1]:%Y-%m-%d %H:%M:%S} UTC)" if position
                 else "none: the next run reads the source from the start")
        out.print(Text(f"{cfg.name}: {shown}"))


@checkpoint.command("reset")
@click.argument("pipeline")
@click.pass_obj
def checkpoint_reset(obj: _Ctx, pipeline: str) -> None:
    """Make PIPELINE read its source from the start next time (a full refresh). Records
    already stored are recognised by id and content: master ids stay."""
    done = obj.hub.reset_checkpoint(pipeline)
    out.print(Text(f"{pipeline}: " + ("checkpoint removed; the next run reads the source "
                                      "from the start." if done else "had no checkpoint.")))
