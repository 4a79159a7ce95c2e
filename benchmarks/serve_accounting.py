"""What the store holds after a load run, set against what the clients were answered:
every post accounted for, and the time from each post to its customer event."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC
from typing import Any

from serve_posts import FORM, Answer
from sqlalchemy import Engine, func, select

from hub.store.tables import inbox, outbox, quarantine, runs, source_records

SYSTEM = "website"
CUSTOMER_EVENTS = ("customer.created", "customer.updated", "customer.merged")


# --- what the store holds ----------------------------------------------------------------

def _scalar(engine: Engine, query: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def drained(engine: Engine) -> bool:
    """Every inbox post is a source record or a whole-record quarantine entry."""
    posted = _scalar(engine, select(func.count()).select_from(inbox)
                     .where(inbox.c.channel == FORM))
    landed = _scalar(engine, select(func.count()).select_from(source_records)
                     .where(source_records.c.source_system == SYSTEM))
    held = _scalar(engine, select(func.count()).select_from(quarantine)
                   .where(quarantine.c.pipeline == FORM, quarantine.c.kind == "record"))
    return posted == landed + held


def wait_drained(engine: Engine, timeout: float) -> float | None:
    """Seconds until the worker had taken every stored post through (None: timed out)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if drained(engine):
            return time.perf_counter() - start
        time.sleep(0.2)
    return None


def pipeline_runs(engine: Engine) -> int:
    """How many times the worker ran the form's pipeline."""
    return _scalar(engine, select(func.count()).select_from(runs).where(runs.c.pipeline == FORM))


def stored_ids(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        def ids(query: Any) -> list[str]:
            return [str(v) for v in conn.execute(query).scalars()]
        return {
            "inbox": ids(select(inbox.c.source_id).where(inbox.c.channel == FORM)),
            "master": ids(select(source_records.c.source_id)
                          .where(source_records.c.source_system == SYSTEM)),
            "quarantined": ids(select(quarantine.c.source_id).where(
                quarantine.c.pipeline == FORM, quarantine.c.kind == "record")),
            "values_set_aside": ids(select(quarantine.c.source_id).where(
                quarantine.c.pipeline == FORM, quarantine.c.kind == "values")),
        }


def event_times(engine: Engine) -> dict[str, list[float]]:
    """E-mail -> the times (epoch s) of the customer events holding it, oldest first."""
    found: dict[str, list[float]] = defaultdict(list)
    query = (select(outbox.c.created_at, outbox.c.payload)
             .where(outbox.c.type.in_(CUSTOMER_EVENTS)).order_by(outbox.c.seq))
    with engine.connect() as conn:
        for created, payload in conn.execute(query):
            when = (created if created.tzinfo else created.replace(tzinfo=UTC)).timestamp()
            customer = payload["data"]["customer"]
            for value in customer["fields"].get("emails.email", []):
                found[value["value"].lower()].append(when)
    return found


def event_latencies(answers: list[Answer], events: dict[str, list[float]]) -> list[float]:
    """ms from each accepted post to the first customer event after it with its e-mail.

    The posts of one e-mail take its events in turn; when one batch took two of them
    together (one event for both), the later post shares the last event after it. A
    millisecond of slack covers the two clocks' rounding.
    """
    by_email: dict[str, list[Answer]] = defaultdict(list)
    for a in answers:
        if a.status == 202 and a.post.email:
            by_email[a.post.email.lower()].append(a)
    out: list[float] = []
    for email, group in by_email.items():
        times, j = events.get(email, []), 0
        for a in sorted(group, key=lambda a: a.sent):
            while j < len(times) and times[j] < a.sent - 0.001:
                j += 1
            if j < len(times):
                out.append(max(0.0, times[j] - a.sent) * 1000)
                j += 1
            elif times and times[-1] >= a.sent - 0.001:
                out.append(max(0.0, times[-1] - a.sent) * 1000)
    return out


# --- checks ------------------------------------------------------------------------------

def checks(answers: list[Answer], ids: dict[str, list[str]]) -> list[tuple[str, bool]]:
    """(what was checked, whether it held) for the accounting of every post."""
    by_status: dict[int, list[Answer]] = defaultdict(list)
    for a in answers:
        by_status[a.status].append(a)
    accepted = {a.receipt for a in by_status[202]}
    inbox_ids, master, held = ids["inbox"], ids["master"], ids["quarantined"]
    invalid = [a for a in answers if a.post.kind == "invalid"]
    return [
        ("no 5xx, no dropped connection",
         not any(a.status == 0 or a.status >= 500 for a in answers)),
        ("every 202 receipt once in the inbox, nothing else there",
         len(accepted) == len(by_status[202]) and sorted(inbox_ids) == sorted(accepted)),
        ("every 200 is a submission stored before",
         {a.receipt for a in by_status[200]} <= accepted),
        ("inbox = source records in the master + records in quarantine, by id",
         sorted(inbox_ids) == sorted(master + held)),
        ("422 for exactly the posts that identify nobody",
         {id(a) for a in by_status[422]} == {id(a) for a in invalid}),
        ("every status is 200, 202 or 422", {a.status for a in answers} <= {200, 202, 422}),
    ]
