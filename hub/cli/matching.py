"""``peyvand train`` and ``peyvand rematch``: the matching model and what it changes."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from hub.cli._base import _Ctx, cli, out
from hub.matching import Model
from hub.matching.compare import COMPARISONS, MISSING


@cli.command("train")
@click.option("--sample", type=click.IntRange(min=100), default=200_000, show_default=True,
              help="Train on at most this many records, chosen at random (seeded).")
@click.option("--dry-run", is_flag=True, help="Estimate and show the model; do not save it.")
@click.option("--json", "as_json", is_flag=True, help="Print the model as JSON.")
@click.pass_obj
def train(obj: _Ctx, sample: int, dry_run: bool, as_json: bool) -> None:
    """Estimate the matching model from the store's records (EM) and save it.

    The model is written beside the config (``matching.model``) as the next version; the
    review queue's decisions are kept in the store and hold whatever the model says.
    After training, ``peyvand rematch --dry-run`` shows what the new model would change.
    """
    hub = obj.hub
    with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                  TextColumn("{task.completed:,} pairs compared"), console=out,
                  transient=True, disable=as_json) as bar:
        task = bar.add_task("Training", total=None)
        model, report = hub.train(sample=sample, save=not dry_run,
                                  progress=lambda n: bar.advance(task, n))
    if as_json:
        out.print_json(json.dumps(model.to_json(), ensure_ascii=False))
        return
    out.print(_weights(model))
    state = "converged" if report.converged else "stopped before converging"
    out.print(f"Trained on {report.records:,} records: {report.pairs:,} candidate pairs, "
              f"{report.patterns:,} distinct comparison patterns, EM {state} after "
              f"{report.iterations} iterations. Prior: {model.prior:.4%} of candidate "
              "pairs are one customer.")
    if dry_run:
        out.print("Dry run: the model was not saved.")
    else:
        out.print(Text(f"Saved version {model.version} to {model.source}. "
                       "`peyvand rematch --dry-run` shows what it would change."))


def _weights(model: Model) -> Table:
    table = Table("comparison", "level", "m", "u", "weight (bits)",
                  title="Match weights", title_justify="left")
    for i, comp in enumerate(COMPARISONS):
        for level, label in enumerate(comp.levels):
            if level != MISSING:
                table.add_row(comp.name if level == 1 else "", label,
                              f"{model.m[i][level]:.4f}", f"{model.u[i][level]:.6f}",
                              f"{model.weights[i][level]:+.2f}")
    return table


@cli.command("rematch")
@click.option("--dry-run", is_flag=True, help="Show which customers would split or merge.")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="Records moved to list (the counts are always complete).")
@click.pass_obj
def rematch(obj: _Ctx, dry_run: bool, as_json: bool, limit: int) -> None:
    """Match every record again with the current model and rules.

    Customers whose records stay together keep their ids; the rest merge or split, with
    merge history and events. With --dry-run nothing changes.
    """
    diff, events = obj.hub.rematch(dry_run=dry_run)
    if as_json:
        data: dict[str, Any] = {**diff.to_json(), "dry_run": dry_run, "events": events}
        out.print_json(json.dumps(data, ensure_ascii=False))
        return
    if diff.stale:
        verb = "Would write" if dry_run else "Wrote"
        out.print(f"{verb} the profiles and blocking keys of {len(diff.stale):,} records "
                  "stored by an older version.")
    if diff.unchanged:
        out.print(f"All {diff.records:,} records stay where they are: nothing to change.")
        return
    verb = "would" if dry_run else "did"
    out.print(f"{diff.records:,} records matched again: {len(diff.moves):,} {verb} move, "
              f"{sum(len(v) for v in diff.merges.values()):,} customers {verb} merge "
              f"into others, {len(diff.splits):,} {verb} split.")
    for survivor, gone in sorted(diff.merges.items()):
        out.print(Text(f"  merge {', '.join(gone)} into {survivor}"))
    for master, parts in sorted(diff.splits.items()):
        out.print(Text(f"  split {master}: {len(parts)} new customer(s)"))
    for rid, (a, b) in sorted(diff.moves.items())[:limit]:
        out.print(Text(f"  {'/'.join(diff.refs[rid])}: {a} -> {b}"))
    if len(diff.moves) > limit:
        out.print(f"  … and {len(diff.moves) - limit:,} more (--limit)")
    if dry_run:
        out.print("Dry run: nothing changed. Run without --dry-run to apply.")
    else:
        out.print(f"Applied; {events:,} events written to the outbox.")
