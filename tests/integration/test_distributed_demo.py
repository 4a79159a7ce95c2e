"""The same demo with PostgreSQL as the store and RabbitMQ as the bus: only URLs change."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import Engine

from hub.bus.consume import drain
from hub.bus.topology import connect, consumer_queue
from hub.store.outbox import read
from hub.store.queries import count_masters

TRUTH = Path(__file__).resolve().parents[2] / "pipelines" / "demo" / "truth.csv"


def test_demo_on_postgres_and_rabbitmq(pg_engine: Engine, amqp_url: str, tmp_path: Path) -> None:
    queue = consumer_queue(f"test.demo.{uuid.uuid4().hex}", ["customer.*", "record.#"])
    with connect(amqp_url) as conn:
        with conn.channel() as channel:
            queue(channel).declare()
        try:
            env = {**os.environ,
                   "PEYVAND__STORE__URL": pg_engine.url.render_as_string(hide_password=False),
                   "PEYVAND__BUS__URL": amqp_url}
            done = subprocess.run([sys.executable, "-m", "hub", "run"], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 3, done.stderr   # new entries in quarantine
            assert "publisher confirms" in done.stderr
            events = read(pg_engine)
            received = drain(conn, queue, timeout=2.0)
        finally:
            with conn.channel() as channel:
                queue(channel).delete()
    with TRUTH.open(encoding="utf-8") as f:
        people = {row["person"] for row in csv.DictReader(f) if row["person"]}
    assert count_masters(pg_engine) == len(people)
    assert all(e.published_at is not None for e in events)
    assert sorted(m["event_id"] for m in received) == sorted(e.event_id for e in events)
    assert [m["seq"] for m in received] == sorted(m["seq"] for m in received)
    assert {m["type"] for m in received} == {"customer.created", "customer.updated"}
