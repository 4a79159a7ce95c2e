"""SMS intake under a burst: messages from new numbers, sent by concurrent clients to a
real ``peyvand serve`` (the shipped ``sms_contacts`` and ``sms_in`` pipelines, a
Kavenegar gateway); how fast they are taken, how long each request waits, and whether
every message ends attached to the customer its sender became.

    python benchmarks/sms_burst.py [--messages 200] [--clients 4] [--store URL]

Without ``--store`` the store is an SQLite file in a temporary folder; a PostgreSQL URL
should name an empty database or schema (``?options=-csearch_path%3Dbench``).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import func, select

from hub.app import Hub
from hub.store.tables import interactions

TOKEN = "bench-url-token-of-the-gateway"


def _project(root: Path, store: str) -> Path:
    (root / "config.yaml").write_text(
        f"store: {{url: '{store}'}}\npipelines: [sms_contacts, sms_in]\n"
        "serve:\n  sms:\n    sms_in: {preset: kavenegar, auth: token, secret_env: BENCH_SMS}\n",
        encoding="utf-8")
    return root / "config.yaml"


def _serve(config: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "hub", "--config", str(config), "serve",
                                "--port", str(port)], env={**os.environ, "BENCH_SMS": TOKEN})
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("peyvand serve did not come up")


def _counts(hub: Hub) -> tuple[int, int]:
    with hub.engine.connect() as conn:
        rows = dict(conn.execute(select(interactions.c.master_id.is_(None), func.count())
                                 .group_by(interactions.c.master_id.is_(None))).all())
    return int(rows.get(False, 0)), int(rows.get(True, 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = _project(Path(tmp), args.store or f"sqlite:///{tmp}/store.sqlite")
        process, url = _serve(config)
        hub = Hub.from_config(config, environ={})
        waits: list[float] = []

        def send(i: int) -> int:
            began = time.monotonic()
            answer = httpx.post(f"{url}/sms/sms_in", params={"token": TOKEN}, timeout=60,
                                data={"from": f"0912{3_000_000 + i:07d}", "to": "10004346",
                                      "message": f"پیام {i}", "messageid": f"burst-{i}"})
            waits.append(time.monotonic() - began)
            return answer.status_code

        try:
            began = time.monotonic()
            with ThreadPoolExecutor(args.clients) as pool:
                codes = sorted(set(pool.map(send, range(args.messages))))
            sent = time.monotonic() - began
            while sum(_counts(hub)) < args.messages and time.monotonic() - began < 300:
                time.sleep(0.05)
            done = time.monotonic() - began
            attached, unattached = _counts(hub)
        finally:
            hub.close()
            process.terminate()
            process.wait(30)
    waits.sort()
    print(f"{args.messages} messages, {args.clients} clients, answers {codes}: "
          f"{args.messages / sent:.0f} messages/s taken, all recorded after {done:.2f} s; "
          f"per request median {waits[len(waits) // 2] * 1000:.0f} ms, "
          f"p95 {waits[int(len(waits) * 0.95)] * 1000:.0f} ms, max {waits[-1] * 1000:.0f} ms; "
          f"attached {attached}, unattached {unattached}")


if __name__ == "__main__":
    main()
