"""The golden record: built from every linked source record; each value knows its source.

Rules v1: for a single-valued field the value from the most trusted source wins
(config ``survivorship.source_priority``), the most recently received one among equals;
e-mails and phones keep every distinct value, ordered the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.records import CanonicalRecord
from hub.standardize.persian_text import text_key
from hub.standardize.person_names import compact_key, skeleton

MULTI_VALUED = ("emails.email", "phones.phone")


@dataclass(frozen=True, slots=True)
class Linked:
    """A source record as survivorship sees it."""

    record: CanonicalRecord
    received: tuple[Any, ...]   # sorts later for a record received later


def build_golden(linked: Sequence[Linked], priority: Sequence[str]) -> dict[str, Any]:
    """The golden record as JSON: fields with provenance, display name, sources."""
    rank = {system: i for i, system in enumerate(priority)}
    newest_first = sorted(linked, key=lambda i: i.received, reverse=True)
    ordered = sorted(newest_first, key=lambda i: rank.get(i.record.source_system, len(rank)))
    fields: dict[str, list[dict[str, str]]] = {}
    for item in ordered:
        rec = item.record
        source = f"{rec.source_system}/{rec.source_id}"
        for target, values in rec.fields.items():
            multi = target.partition(":")[0] in MULTI_VALUED
            kept = fields.setdefault(target, [])
            if kept and not multi:
                continue
            for value in values:
                if all(k["value"] != value.value for k in kept):
                    kept.append({"value": value.value, "source": source})
    given_family = " ".join(v[0]["value"] for k in ("name.given", "name.family")
                            if (v := fields.get(k)))
    full = fields.get("name.full") or fields.get("organization.name")
    return {
        "display_name": full[0]["value"] if full else given_family,
        "fields": dict(sorted(fields.items())),
        "sources": sorted(f"{i.record.source_system}/{i.record.source_id}" for i in linked),
    }


def search_text(linked: Sequence[Linked]) -> str:
    """Every name the customer is known by, as ``| term | term |``: folded text, compact
    form, and ``~skeleton`` terms (whole name and each word) for cross-script search."""
    terms: list[str] = []
    for item in linked:
        rec = item.record
        names = [n for t in ("name.full", "name.given", "name.family", "organization.name")
                 for n in rec.values(t)]
        names.append(" ".join(rec.values("name.given") + rec.values("name.family")))
        for name in filter(None, names):
            terms += _search_terms(name)
    unique = dict.fromkeys(t for t in terms if t.strip("~"))
    return "| " + " | ".join(unique) + " |" if unique else ""


@functools.lru_cache(maxsize=65536)
def _search_terms(name: str) -> tuple[str, ...]:
    # A master's golden record is rebuilt often; its names rarely change.
    skel = skeleton(name)
    return (text_key(name), compact_key(name), "~" + skel.replace(" ", ""),
            *("~" + word for word in skel.split()))
