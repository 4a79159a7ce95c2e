"""Web forms over HTTP under load: the real ``peyvand serve``, concurrent clients, and
every accepted post accounted for.

Usage (from the checkout; ``--profile`` needs ``.venv/bin/pip install py-spy``)::

    .venv/bin/python benchmarks/serve_load.py --posts 10000 --clients 8
    .venv/bin/python benchmarks/serve_load.py --store-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/test      # a schema of its own
    .venv/bin/python benchmarks/serve_load.py --posts 3000 --profile   # py-spy, all threads

A project is written to a temp folder: one public form ``contact`` (name, e-mail,
mobile, city; ``submission_id`` as its id field), rate limit off, the store embedded
SQLite unless ``--store-url`` names PostgreSQL (then a schema ``bench_<hex>`` is made and
dropped). ``python -m hub serve`` starts on a free loopback port, as an operator would
start it (default log level), and ``--clients`` httpx async clients, each on one
keep-alive connection, send ``--posts`` posts (``serve_posts.py``: new people, the same
people again, values set aside, posts that identify nobody, submissions sent twice).

Measured: posts/s over the whole send; latency of each POST, from the client's send to
the answer read (p50/p95/p99); from post to customer event: the outbox event's
``created_at`` (server clock) against the wall-clock time the post was sent (same
machine), each accepted post matched to the first event after it holding its e-mail;
the time from the last answer until the worker had taken every post to the master; the
CPU time of the server and of the clients per post; the server process's peak RSS
(``VmHWM``); how many pipeline runs the worker made of the posts.

Checked, printed, and the exit code non-zero if any fails: no 5xx and no dropped
connection; every 202 receipt is in the inbox and the inbox holds nothing else; every
200 is a submission stored before; every inbox post is a source record in the master or
a record in quarantine (whole), by id: none lost, none doubled; 422 exactly for the
posts that identify nobody, and nothing of them stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from harness import percentiles
from run import _table, machine
from serve_accounting import (
    SYSTEM,
    checks,
    event_latencies,
    event_times,
    pipeline_runs,
    stored_ids,
    wait_drained,
)
from serve_posts import FORM, Answer, Post, make_posts, send
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub.store.engine import open_engine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The shipped contact form's mapping (name, email, mobile, city, sms_ok).
MAPPING = (ROOT / "mappings" / "contact_form.yaml").read_text(encoding="utf-8")


# --- the server --------------------------------------------------------------------------

def write_project(root: Path, store_url: str) -> Path:
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    (root / "mappings").mkdir(exist_ok=True)
    (root / "pipelines" / f"{FORM}.yaml").write_text(
        f"adapter: inbox\noptions: {{channel: {FORM}}}\nsource_system: {SYSTEM}\n"
        f"mapping: {FORM}.yaml\n", encoding="utf-8")
    (root / "mappings" / f"{FORM}.yaml").write_text(MAPPING, encoding="utf-8")
    config = {"store": {"url": store_url}, "bus": {"url": "memory://"}, "pipelines": [FORM],
              "serve": {"rate_limit": 0,
                        "forms": {FORM: {"auth": "none", "id_field": "submission_id"}}}}
    (root / "config.yaml").write_text(json.dumps(config), encoding="utf-8")  # YAML reads JSON
    return root / "config.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``python -m hub serve``, its output to ``log`` (a pipe nobody reads would fill)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "--config", str(config), "serve", "--port", str(port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"peyvand serve did not come up; its output:\n{log.read_text()}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM, Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- the run -----------------------------------------------------------------------------

@dataclass
class Store:
    url: str
    label: str
    drop: Any = field(default=None)   # () -> None: remove the PostgreSQL schema


def make_store(url: str | None, tmp: Path) -> Store:
    if url is None:
        return Store(f"sqlite:///{tmp / 'store.sqlite'}", "SQLite (embedded)")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    backend = make_url(url).get_backend_name()
    return Store(scoped.render_as_string(hide_password=False), f"{backend}, schema {schema}",
                 drop)


def run(args: argparse.Namespace) -> dict[str, Any]:
    posts = make_posts(args.posts, args.seed)
    with tempfile.TemporaryDirectory(prefix="peyvand-serve-", dir=args.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        store = make_store(args.store_url, tmp)
        try:
            return _measure(args, posts, store, tmp)
        finally:
            if store.drop:
                store.drop()


@dataclass
class Measured:
    """One load run, as measured; ``result`` turns it into the printed numbers."""

    store: str
    clients: int
    answers: list[Answer]
    seconds: float
    drain: float | None                 # None: the worker did not finish in time
    rss: tuple[float, float]            # MB: idle, peak
    cpu: tuple[float, float]            # s: the server, the clients
    ids: dict[str, list[str]]
    worker_runs: int
    event_ms: list[float]
    profile: str | None

    def result(self) -> dict[str, Any]:
        answers, n = self.answers, len(self.answers)
        statuses: dict[str, int] = defaultdict(int)
        for a in answers:
            statuses[str(a.status)] += 1
        verdicts = [*checks(answers, self.ids),
                    ("the worker took every post through", self.drain is not None)]
        p, e = percentiles([a.ms for a in answers]), percentiles(self.event_ms)
        return {
            "store": self.store, "posts": n, "clients": self.clients,
            "seconds": self.seconds, "posts_per_s": n / self.seconds,
            "post_p50_ms": p[0], "post_p95_ms": p[1], "post_p99_ms": p[2],
            "event_p50_ms": e[0], "event_p99_ms": e[2], "event_matched": len(self.event_ms),
            "accepted": sum(1 for a in answers if a.status == 202), "drain_s": self.drain,
            "rss_idle_mb": self.rss[0], "rss_peak_mb": self.rss[1],
            "server_cpu_ms_per_post": 1000 * self.cpu[0] / n,
            "client_cpu_ms_per_post": 1000 * self.cpu[1] / n,
            "worker_runs": self.worker_runs, "statuses": dict(sorted(statuses.items())),
            "with_set_aside": sum(1 for a in answers if a.status == 202 and a.set_aside),
            "stored": {k: len(v) for k, v in self.ids.items()},
            "checks": [{"check": c, "ok": ok} for c, ok in verdicts], "profile": self.profile,
        }


def _measure(args: argparse.Namespace, posts: list[Post], store: Store,
             tmp: Path) -> dict[str, Any]:
    port = free_port()
    server = start_server(write_project(tmp, store.url), port, tmp / "serve.log")
    profiler = None
    if args.profile:
        from serve_profile import start as start_profile
        profiler = start_profile(server.pid, HERE / "out" / "serve_profile",
                                 gil=args.profile == "gil")
    engine = open_engine(store.url, migrate=False)
    try:
        rss_idle, server_cpu = peak_rss_mb(server.pid), cpu_seconds(server.pid)
        client_cpu = _own_cpu()
        answers, seconds = asyncio.run(send(f"http://127.0.0.1:{port}", posts, args.clients))
        drain = wait_drained(engine, args.drain_timeout)
        rss = (rss_idle, peak_rss_mb(server.pid))
        cpu = (cpu_seconds(server.pid) - server_cpu, _own_cpu() - client_cpu)
        profile = profiler.stop() if profiler else None
        measured = Measured(store.label, args.clients, answers, seconds, drain, rss, cpu,
                            stored_ids(engine), pipeline_runs(engine),
                            event_latencies(answers, event_times(engine)), profile)
    finally:
        engine.dispose()
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    return measured.result()


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def tables(r: dict[str, Any]) -> str:
    drain = f"{r['drain_s']:.1f}" if r["drain_s"] is not None else "timed out"
    load = _table(
        ["store", "posts", "clients", "seconds", "posts/s", "POST p50/p95/p99 ms",
         "post→event p50/p99 ms", "drained after last answer s", "CPU ms a post: server, "
         "clients", "server RSS MB idle→peak"],
        [[r["store"], f"{r['posts']:,}", str(r["clients"]), f"{r['seconds']:.1f}",
          f"{r['posts_per_s']:,.0f}",
          f"{r['post_p50_ms']:.1f} / {r['post_p95_ms']:.1f} / {r['post_p99_ms']:.1f}",
          f"{r['event_p50_ms']:,.0f} / {r['event_p99_ms']:,.0f}", drain,
          f"{r['server_cpu_ms_per_post']:.1f}, {r['client_cpu_ms_per_post']:.1f}",
          f"{r['rss_idle_mb']:.0f} → {r['rss_peak_mb']:.0f}"]])
    s = r["stored"]
    accounted = _table(
        ["answers by status", "202 with a value set aside", "inbox", "source records",
         "quarantined whole", "value entries in quarantine", "events matched",
         "pipeline runs by the worker"],
        [[", ".join(f"{k}: {v:,}" for k, v in r["statuses"].items()),
          f"{r['with_set_aside']:,}", f"{s['inbox']:,}", f"{s['master']:,}",
          f"{s['quarantined']:,}", f"{s['values_set_aside']:,}",
          f"{r['event_matched']:,} of {r['accepted']:,}", f"{r['worker_runs']:,}"]])
    verdicts = "\n".join(f"  {'ok  ' if c['ok'] else 'FAIL'} {c['check']}" for c in r["checks"])
    return f"\nWeb forms over HTTP\n{load}\n\nEvery post accounted for\n{accounted}\n{verdicts}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000, help="posts to send (10000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--store-url", help="a PostgreSQL URL (default: embedded SQLite)")
    parser.add_argument("--seed", type=int, default=1405, help="of the posts (1405)")
    parser.add_argument("--drain-timeout", type=float, default=600,
                        help="seconds to wait for the worker after the last answer (600)")
    parser.add_argument("--profile", nargs="?", const="threads", choices=["threads", "gil"],
                        help="sample the server with py-spy while it runs: its busy threads "
                             "(lock and I/O waits count), or gil: Python's CPU time only")
    parser.add_argument("--tmp-dir", help="where the project and SQLite store go")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    args = parser.parse_args(argv)
    print(machine())
    result = run(args)
    print(tables(result))
    if result["profile"]:
        print(result["profile"])
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"machine": machine(), **result}, indent=2,
                                              ensure_ascii=False), encoding="utf-8")
    return 0 if all(c["ok"] for c in result["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
