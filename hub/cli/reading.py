"""``peyvand master``, ``export`` and ``events``: looking at the master."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from hub.cli._base import _Ctx, cli, err, out
from hub.store.queries import InteractionView


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
        gone = (f", closed {rec.closed_at:%Y-%m-%d %H:%M} UTC: gone from its source"
                if rec.closed_at else "")
        out.print(Text(f"  {rec.source_system}/{rec.source_id}  {rec.location}  "
                       f"({_why(rec.decision, rec.evidence)}{gone})"))
    if view.interactions:
        out.print(_timeline(view.interactions))


def _timeline(interactions: list[InteractionView]) -> Table:
    """The customer's interactions, newest first: when, how, which way, about what."""
    table = Table("when", "channel", "direction", "subject", "from",
                  title="Interactions (newest first)", title_justify="left")
    for i in interactions:
        first = {k: (i.fields.get(k) or [""])[0] for k in ("direction", "subject", "summary")}
        about = first["subject"] or first["summary"][:80]
        table.add_row(*(Text(c) for c in (i.occurred_at.replace("T", " "), i.channel,
                                          first["direction"], about,
                                          f"{i.source_system}/{i.source_id}")))
    return table


def _why(decision: str, evidence: dict[str, Any] | None) -> str:
    """``joined: same mobile, with accounting/1016``: a link's decision in words."""
    if not evidence:
        return decision
    other = evidence.get("record")
    with_ = f", with {other['system']}/{other['id']}" if other else ""
    rule = evidence.get("rule", "")
    if rule == "probabilistic":   # say what agreed: "same mobile, given_name exact"
        levels = evidence.get("levels") or {}
        agreed = [f"same {f.replace('_', ' ')}" for f, lvl in levels.items()
                  if lvl in ("exact", "same")]
        rule = ", ".join(agreed) or "probabilistic"
        if evidence.get("score") is not None:
            rule += f" ({evidence['score']:+.1f} bits)"
    return f"{decision}: {rule}{with_}"


@master.command("search")
@click.argument("text")
@click.option("--limit", default=20, show_default=True)
@click.pass_obj
def master_search(obj: _Ctx, text: str, limit: int) -> None:
    """Find customers by an e-mail, a phone in any form, a national code, a source record
    (SYSTEM/ID), or a name in Persian or Latin script (normalized, cross-script)."""
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


