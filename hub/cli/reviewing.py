"""``peyvand review`` and ``explain``: the pairs matching left to a person, and why.

Values are shown unmasked (a steward deciding needs them) and never logged; they reach
rich only as ``Text``.
"""

from __future__ import annotations

import getpass
import json
import math
from collections.abc import Sequence
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from hub.cli._base import _Ctx, cli, err, exit_code, out
from hub.errors import PeyvandError
from hub.store.review import ReviewPair, Side


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):   # no login name, no passwd entry (some containers)
        return "unknown"


@cli.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="At most this many pairs.")
@click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0),
              help="Skip this many pairs first.")
@click.option("--by-score", is_flag=True, help="Highest score first (default: newest first).")
@click.option("--json", "as_json", is_flag=True, help="Print the pairs as JSON.")
@click.pass_context
def review(ctx: click.Context, limit: int, offset: int, by_score: bool, as_json: bool) -> None:
    """List the open review pairs: both records side by side with the evidence, field by
    field. Decide with `peyvand review accept ID...` or `reject ID...`."""
    if ctx.invoked_subcommand is not None:
        return
    obj: _Ctx = ctx.obj   # set by `peyvand` itself
    hub = obj.hub
    pairs = hub.review_list(limit, offset, order="score" if by_score else "newest")
    if as_json:
        click.echo(json.dumps([p.to_json() for p in pairs], ensure_ascii=False, indent=2))
        return
    total = hub.review_count()
    if not pairs:
        out.print(f"No open review pairs{' here' if offset else ''} ({total} open).")
        return
    for pair in pairs:
        _show_pair(pair)
    out.print(f"Pairs {offset + 1}-{offset + len(pairs)} of {total} open. Decide with "
              "`peyvand review accept ID...` or `peyvand review reject ID...`.", markup=False)


def _show_pair(pair: ReviewPair) -> None:
    evidence = pair.explanation or {}
    out.print(Text.assemble((f"Review pair {pair.id}", "bold"), "  ",
                            _score(pair.score, evidence.get("probability")),
                            f"  queued {pair.created_at:%Y-%m-%d %H:%M}"))
    for label, side in (("A", pair.a), ("B", pair.b)):
        out.print(_side(label, side))
    if pair.same_master:
        out.print(Text(f"  Both are on customer {pair.a.master_id} now: accepting only "
                       "records the decision."))
    out.print(_fields(evidence.get("fields", [])))
    for rule in evidence.get("rules", []):
        out.print(Text(f"  rule: {rule}"))
    out.print()


def _side(label: str, side: Side) -> Text:
    return Text.assemble(f"  {label}  ", (side.ref, "bold"), f"  {side.name}   customer "
                         f"{side.master_id}  {side.master_name}")


def _score(score: float | None, probability: Any) -> str:
    if score is None:
        return "no score"
    p = probability if isinstance(probability, float | int) else 1 / (1 + 2 ** -score)
    return f"score {score:+.2f} bits (probability {p:.3f})"


def _fields(fields: Sequence[dict[str, Any]]) -> Table:
    """Field, level, weight in bits, the two values: one row per comparison (those with
    no value on either side are named in the caption)."""
    table = Table("field", "level", "weight", "value A", "value B", "note",
                  caption_justify="left")
    empty = []
    for f in fields:
        if not f.get("a") and not f.get("b") and not f.get("weight"):
            empty.append(str(f.get("field", "")))
            continue
        table.add_row(Text(str(f.get("field", ""))), Text(str(f.get("level", ""))),
                      Text(f"{float(f.get('weight', 0)):+.2f}", justify="right"),
                      Text(str(f.get("a", ""))), Text(str(f.get("b", ""))),
                      Text(str(f.get("note", ""))))
    if empty:
        table.caption = Text(f"no value on either side: {', '.join(empty)}")
    return table


@review.command("accept")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--by", default=_os_user, show_default="the OS user",
              help="Who decides (kept with the decision).")
@click.pass_obj
def review_accept(obj: _Ctx, ids: tuple[int, ...], by: str) -> None:
    """Accept pairs IDS: their two customers are merged into the older one."""
    _decide(obj, ids, True, by)


@review.command("reject")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--by", default=_os_user, show_default="the OS user",
              help="Who decides (kept with the decision).")
@click.pass_obj
def review_reject(obj: _Ctx, ids: tuple[int, ...], by: str) -> None:
    """Reject pairs IDS: the two records are never linked automatically again."""
    _decide(obj, ids, False, by)


def _decide(obj: _Ctx, ids: tuple[int, ...], accept: bool, by: str) -> None:
    """Each pair in its own transaction: one that cannot be decided stops none of the
    others; the exit code is the first failure's."""
    failed = 0
    for pair_id in ids:
        try:
            done = obj.hub.review_decide(pair_id, accept, by)
        except PeyvandError as exc:
            err.print(Text.assemble(("Error: ", "red"), str(exc)), soft_wrap=True)
            failed = failed or exit_code(exc)
            continue
        if done.unchanged:
            out.print(f"Pair {pair_id} was already {done.status}: no change.")
        elif done.merged:
            survivor, absorbed = done.merged
            out.print(f"Pair {pair_id} accepted: customer {absorbed} merged into {survivor}.")
        elif accept:
            out.print(f"Pair {pair_id} accepted: both records were on one customer already.")
        else:
            out.print(f"Pair {pair_id} rejected: never linked automatically again.")
    if failed:
        raise click.exceptions.Exit(failed)


@cli.command()
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.pass_obj
def explain(obj: _Ctx, a: str, b: str, as_json: bool) -> None:
    """Why A and B match or not, field by field with weights. A and B are SYSTEM/ID of a
    source record or a customer id (its record closest to the other side stands for it)."""
    found = obj.hub.explain(a, b)
    data = found.to_json()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(Text.assemble((f"{found.a[0]}/{found.a[1]}", "bold"), "  vs  ",
                            (f"{found.b[0]}/{found.b[1]}", "bold"),
                            f"   model {found.model}" if found.model else ""))
    out.print(_fields(data["fields"]))
    out.print(f"prior      {found.prior:+.2f} bits", markup=False)
    for rule in found.rules:
        out.print(Text(f"rule       {rule}"))
    match, review_at = found.thresholds
    out.print(f"total      {found.score:+.2f} bits, probability {found.probability:.3f}",
              markup=False)
    out.print(Text.assemble("decision   ", (found.decision, "bold"),
                            f"   (match from {_threshold(match)}, review from "
                            f"{_threshold(review_at)})"))


def _threshold(probability: float) -> str:
    """A threshold as configured (a probability), and in bits as the scores are."""
    if not 0 < probability < 1:
        return f"probability {probability:g}"
    return f"probability {probability:g} = {math.log2(probability / (1 - probability)):+.2f} bits"
