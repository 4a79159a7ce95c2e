"""Erasure: a right-to-be-forgotten request removes a person from the store.

``erase`` runs inside the caller's unit of work, under the match lock. It deletes the
source records of the master and of the masters merged into it, with their links,
blocking keys and review pairs; the interactions attached to those masters; the merge
history naming them; and every quarantine entry, inbox request and unattached
interaction that is about the same source records or holds one of the person's
identifying values (national code, e-mail, phone, full name), in whatever form it was
written (Persian or Latin digits, spacing, Arabic letters, case). Each master row stays
as a tombstone (status ``erased``, no golden record, no search text) so its id never
resolves to someone else. Events about the person, or naming one of their source
records, keep their ``seq``, type, subject and version, and their payload becomes
``hub.events.ERASED``. A ``customer.erased`` event and an ``erasures`` row (the
request's reference and the counts, no personal data) are written last.

A record the source sends again afterwards is a new record to the hub: it creates a new
customer (README, "Guarantees"). Erase the person at the source too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from sqlalchemy import Connection, Table, delete, insert, select, update

from hub import events
from hub.errors import MasteringRefused
from hub.standardize.persian_text import text_key, to_ascii_digits
from hub.store.dialect import lock
from hub.store.outbox import append
from hub.store.sql import chunks, select_in, select_refs
from hub.store.tables import (
    blocking_keys,
    erasures,
    inbox,
    interactions,
    links,
    masters,
    merge_history,
    outbox,
    quarantine,
    review_pairs,
    source_records,
)

_sr, _m = source_records.c, masters.c
_IDENTIFYING = ("nationalCode", "name.full", "emails.", "phones.", "contact.email",
                "contact.phone")
_NOT_DIGITS = re.compile(r"\D+")
_NOT_DIGITS_OR_BAR = re.compile(r"[^0-9|]+")
_MIN_TEXT = 6     # shorter names would match strangers ("Ali")
_MIN_DIGITS = 7   # a phone's national number or a national code, never a house number


@dataclass
class _Needles:
    """The person's identifying values, folded as ``found`` folds what it searches."""

    digits: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)

    def add(self, path: str, values: Iterable[str]) -> None:
        if not path.startswith(_IDENTIFYING):
            return
        for value in filter(None, values):
            if "phone" in path or path == "nationalCode":
                self.digits.add(_phone_digits(value) if "phone" in path else
                                _digits(value))
            else:
                self.texts.add(_fold(value))
        self.digits = {d for d in self.digits if len(d) >= _MIN_DIGITS}
        self.texts = {t for t in self.texts if len(t) >= _MIN_TEXT}

    def add_record(self, canonical: dict[str, list[list[str]]]) -> None:
        """Every identifying value of a stored canonical record, standardized and raw."""
        for path, values in canonical.items():
            self.add(path, (v for pair in values for v in pair))
        given, family = canonical.get("name.given", []), canonical.get("name.family", [])
        if given and family:
            self.add("name.full", [f"{given[0][0]} {family[0][0]}"])

    def found(self, value: Any) -> bool:
        """Whether any string in ``value`` (JSON: dicts, lists, strings) holds a needle.

        The strings are joined with ``|`` and folded once per row: no needle holds a
        ``|``, so none is found spanning two strings.
        """
        text = to_ascii_digits("|".join(_leaves(value)))
        digits = _NOT_DIGITS_OR_BAR.sub("", text)
        if any(d in digits for d in self.digits):
            return True
        folded = text_key(text).replace(" ", "")
        return any(t in folded for t in self.texts)


def erase(conn: Connection, master_id: str, *, request: str | None) -> dict[str, int]:
    """Erase the person known as ``master_id``; rows removed or blanked per table.

    Refused (MasteringRefused) for an unknown id, an id merged into another (erase the
    survivor), or one already erased.
    """
    lock(conn, "match")
    row = conn.execute(select(masters).where(_m.id == master_id)).first()
    if row is None or row.status in ("merged", "erased"):
        why = ("is not in the master" if row is None else
               f"was merged into {row.merged_into}: erase that customer" if
               row.status == "merged" else "was already erased")
        raise MasteringRefused(f"cannot erase customer {master_id}: it {why}")
    ids = _merged_into(conn, master_id)
    counts: dict[str, int] = {}
    needles = _Needles()
    records = select_in(conn, select(_sr.id, _sr.source_system, _sr.source_id,
                                     _sr.canonical), _sr.master_id, ids)
    for rec in records:
        needles.add_record(rec.canonical)
    refs = {(r.source_system, r.source_id) for r in records}
    refs |= _erase_interactions(conn, ids, needles, counts)
    _erase_records(conn, [r.id for r in records], counts)
    refs |= _erase_matching(conn, quarantine, quarantine.c.id, ("raw", "reason", "problems"),
                            needles, refs, counts)
    _erase_matching(conn, inbox, inbox.c.seq, ("payload",), needles, set(), counts)
    counts["merge_history"] = _count(conn.execute(delete(merge_history).where(
        merge_history.c.survivor.in_(ids) | merge_history.c.absorbed.in_(ids))))
    counts["outbox"] = _blank_events(conn, set(ids), {"/".join(r) for r in refs}, needles)
    now = datetime.now(UTC)
    conn.execute(update(masters).where(_m.id.in_(ids)).values(
        status="erased", golden={}, search_text="", updated_at=now))
    conn.execute(update(masters).where(_m.id == master_id).values(version=row.version + 1))
    counts["masters"] = len(ids)
    sources = sorted((r.source_system, r.source_id) for r in records)
    append(conn, [events.customer_erased(master_id, row.version + 1,
                                         [i for i in ids if i != master_id], sources)])
    conn.execute(insert(erasures).values(master_id=master_id, request=request,
                                         counts=counts, erased_at=now))
    return counts


def _merged_into(conn: Connection, master_id: str) -> list[str]:
    """``master_id`` and every id that resolves to it through merges."""
    ids, todo = [master_id], [master_id]
    while todo:
        found = select_in(conn, select(_m.id), _m.merged_into, todo)
        todo = [r.id for r in found if r.id not in ids]
        ids += todo
    return ids


def _erase_records(conn: Connection, record_ids: list[int], counts: dict[str, int]) -> None:
    for name, table, where in (
            ("review_pairs", review_pairs, lambda c: review_pairs.c.record_a.in_(c)
             | review_pairs.c.record_b.in_(c)),
            ("blocking_keys", blocking_keys, lambda c: blocking_keys.c.source_record_id
             .in_(c)),
            ("links", links, lambda c: links.c.source_record_id.in_(c)),
            ("source_records", source_records, lambda c: _sr.id.in_(c))):
        counts[name] = sum(_count(conn.execute(delete(table).where(where(chunk))))
                           for chunk in chunks(record_ids))


def _erase_interactions(conn: Connection, ids: list[str], needles: _Needles,
                        counts: dict[str, int]) -> set[tuple[str, str]]:
    """Interactions attached to the person, and unattached ones holding their values."""
    it = interactions.c
    mine = select_in(conn, select(it.id, it.source_system, it.source_id, it.canonical),
                     it.master_id, ids)
    for row in mine:   # their contact values are the person's, too
        needles.add_record(row.canonical)
    loose = [r for r in conn.execute(select(it.id, it.source_system, it.source_id, it.raw,
                                            it.canonical).where(it.master_id.is_(None)))
             if needles.found([r.raw, r.canonical])]
    gone = [*mine, *loose]
    for chunk in chunks([r.id for r in gone]):
        conn.execute(delete(interactions).where(it.id.in_(chunk)))
    counts["interactions"] = len(gone)
    return {(r.source_system, r.source_id) for r in gone}


def _erase_matching(conn: Connection, table: Table, key: Any, columns: tuple[str, ...],
                    needles: _Needles, refs: set[tuple[str, str]],
                    counts: dict[str, int]) -> set[tuple[str, str]]:
    """Rows of ``table`` about ``refs`` or holding a needle in ``columns``; their refs."""
    by_ref = select_refs(conn, select(key), table.c.source_system, table.c.source_id,
                         refs) if "source_system" in table.c else []
    doomed = {r[0] for r in by_ref}
    system = table.c["source_system" if "source_system" in table.c else "channel"]
    found: set[tuple[str, str]] = set()
    query = select(key, system, table.c.source_id, *(table.c[c] for c in columns))
    for row in conn.execute(query):
        if row[0] in doomed or needles.found(list(row[3:])):
            doomed.add(row[0])
            found.add((row[1], row[2]))
    for chunk in chunks(sorted(doomed)):
        conn.execute(delete(table).where(key.in_(chunk)))
    counts[table.name] = len(doomed)
    return found if "source_system" in table.c else set()


def _blank_events(conn: Connection, ids: set[str], refs: set[str],
                  needles: _Needles) -> int:
    """Events about the person, or naming one of their source records (another
    customer's, from before an unmerge or a move), get the ERASED payload: later events
    of that customer carry its golden record without them. How many events changed."""
    blank = []
    for seq, type_, subject, payload in conn.execute(select(
            outbox.c.seq, outbox.c.type, outbox.c.subject, outbox.c.payload)):
        data = payload.get("data", {})
        if data != events.ERASED and (
                subject in ids or subject in refs or _names(data, refs)
                or (not type_.startswith("customer.") and needles.found(data))):
            blank.append(seq)
    for chunk in chunks(blank):
        conn.execute(update(outbox).where(outbox.c.seq.in_(chunk))
                     .values(payload={"data": events.ERASED}))
    return len(blank)


def _names(data: dict[str, Any], refs: set[str]) -> bool:
    """Whether a customer event names one of ``refs`` among its sources (every golden
    value's source is one of them) or its closed sources."""
    named = [*data.get("customer", {}).get("sources", ()), *data.get("closed_sources", ())]
    return any(f"{s['system']}/{s['id']}" in refs for s in named)


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    elif value is not None:
        yield str(value)


def _fold(text: str) -> str:
    """Letters, digits and case folded, spaces and ZWNJ dropped: علي‌كريمي == علی کریمی."""
    return text_key(to_ascii_digits(text)).replace(" ", "")


def _digits(text: str) -> str:
    return _NOT_DIGITS.sub("", to_ascii_digits(text))


def _phone_digits(value: str) -> str:
    """A phone's national number (9121234567), the digits every written form shares."""
    try:
        return str(phonenumbers.parse(to_ascii_digits(value), "IR").national_number)
    except phonenumbers.NumberParseException:
        return _digits(value)


def _count(result: Any) -> int:
    return int(result.rowcount or 0)
