"""``peyvand master merge|unmerge|history`` and ``peyvand erase``: correcting the master.

A refusal (an inactive id, two national codes, nothing left to restore) changes nothing
and exits 2, like any other request the command line cannot carry out as given.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from hub.cli._base import EXIT_CONFIG, _Ctx, cli, out
from hub.cli.reading import master
from hub.errors import MasteringRefused
from hub.store.history import MergeRecord

_JSON = click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")


class _Refused(click.ClickException):
    exit_code = EXIT_CONFIG


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except MasteringRefused as exc:
        raise _Refused(str(exc)) from exc


def _who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):   # no login name (some containers)
        return "unknown"


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@master.command("merge")
@click.argument("first")
@click.argument("second")
@click.option("--force", is_flag=True,
              help="Merge even when the two have different national codes.")
@_JSON
@click.pass_obj
def master_merge(obj: _Ctx, first: str, second: str, force: bool, as_json: bool) -> None:
    """Merge two customers by hand: the older id survives, the other resolves to it.
    Undo with `peyvand master unmerge`."""
    with _refusals():
        merge = obj.hub.merge(first, second, force=force, by=_who())
    if as_json:
        _echo_json(_merge_json(merge))
        return
    out.print(Text(f"Merged {merge.absorbed} into {merge.survivor} ({len(merge.record_ids)} "
                   f"record(s) moved). {merge.absorbed} now resolves to {merge.survivor}; "
                   f"undo with `peyvand master unmerge {merge.absorbed}`."))


@master.command("unmerge")
@click.argument("target")
@_JSON
@click.pass_obj
def master_unmerge(obj: _Ctx, target: str, as_json: bool) -> None:
    """Undo a merge. TARGET is a merged-away customer id (its merge), a surviving
    customer id (the newest merge into it) or a merge number from `master history`."""
    with _refusals():
        done = obj.hub.unmerge(target)
    if as_json:
        _echo_json(vars(done))
        return
    out.print(Text(f"Undid merge {done.merge_id}: {done.restored} is active again with "
                   f"{done.records} record(s) and {done.interactions} interaction(s) back "
                   f"from {done.survivor}."))
    if done.not_restored:
        out.print(Text("Not restored (they stay where they are now):"))
        for line in done.not_restored:
            out.print(Text(f"  {line}"))


@master.command("history")
@click.argument("master_id")
@_JSON
@click.pass_obj
def master_history(obj: _Ctx, master_id: str, as_json: bool) -> None:
    """The merges a customer took part in, newest first."""
    merges = obj.hub.merge_history(master_id)
    if as_json:
        _echo_json([_merge_json(m) for m in merges])
        return
    if not merges:
        out.print(Text(f"Customer {master_id} took part in no merge."))
        return
    table = Table("merge", "when", "kind", "survivor", "absorbed", "records", "why", "undone")
    for m in merges:
        why = (m.evidence or {}).get("rule", "")
        undone = f"{m.undone_at:%Y-%m-%d %H:%M}" if m.undone_at else ""
        table.add_row(*(Text(str(c)) for c in (m.id, f"{m.merged_at:%Y-%m-%d %H:%M}", m.kind,
                                               m.survivor, m.absorbed, len(m.record_ids),
                                               why, undone)))
    out.print(table)


def _merge_json(m: MergeRecord) -> dict[str, Any]:
    return {"id": m.id, "survivor": m.survivor, "absorbed": m.absorbed, "kind": m.kind,
            "record_ids": m.record_ids, "evidence": m.evidence,
            "merged_at": m.merged_at.isoformat(),
            "undone_at": m.undone_at.isoformat() if m.undone_at else None}


@cli.command()
@click.argument("master_id")
@click.option("--request", required=True,
              help="Your reference for the request (a ticket number); kept with the "
                   "erasure, never personal data.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_JSON
@click.pass_obj
def erase(obj: _Ctx, master_id: str, request: str, yes: bool, as_json: bool) -> None:
    """Erase a person (a right-to-be-forgotten request): their records, interactions,
    quarantined and inbox rows and their data in past events are deleted; the id stays
    as a tombstone and `customer.erased` is published. This cannot be undone."""
    if not yes:
        click.confirm(f"Erase customer {master_id} and everything the hub holds about them? "
                "This cannot be undone", abort=True, err=True)
    with _refusals():
        counts = obj.hub.erase(master_id, request=request)
    if as_json:
        _echo_json({"customer_id": master_id, "request": request, "counts": counts})
        return
    removed = ", ".join(f"{counts[table]} {label}" for table, label in _REMOVED.items()
                        if counts.get(table))
    out.print(Text(f"Erased customer {master_id} (request {request}): removed "
                   f"{removed or 'nothing else'}; {counts.get('outbox', 0)} earlier event(s) "
                   "blanked. Erase the person at the sources too: a record sent again "
                   "becomes a new customer."))


_REMOVED = {"source_records": "source record(s)", "links": "link(s)",
            "blocking_keys": "blocking key(s)", "review_pairs": "review pair(s)",
            "interactions": "interaction(s)", "quarantine": "quarantine entry(ies)",
            "inbox": "inbox request(s)", "merge_history": "merge(s) from the history"}
