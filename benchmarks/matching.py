"""Matching quality and cost, Peyvand beside Splink, on FEBRL and the seeded Persian set.

Usage (extras first: ``.venv/bin/pip install -e '.[dev,bench]'``)::

    .venv/bin/python benchmarks/matching.py          # febrl1 febrl2 persian-10k persian-100k
    .venv/bin/python benchmarks/matching.py --full   # and persian-1m
    .venv/bin/python benchmarks/matching.py --datasets febrl1 persian-10k --systems peyvand

Per data set, each step in a fresh interpreter, so its peak RSS is its own:

1. prepare: the records as a CSV through the real pipeline's stages (the spreadsheet
   pipeline's ``Preparer``: mapping, standardization, XSD validation), timed as the
   *pipeline* seconds; FEBRL through ``benchmarks/febrl_mapping.yaml``, the Persian set
   (``hub.testing.persian_people``, seed 1402) through ``benchmarks/persian_mapping.yaml``.
   Quarantined records stay in the truth as records linked to no one.
2. Peyvand: every prepared batch committed through the Hub's own sink (matching,
   merging, the SQLite master store, the outbox), one transaction per batch of
   ``--batch-size``; then, when the Hub has them, ``Hub.train()`` (the model estimated
   from the store) and ``Hub.rematch()`` (every record matched again with it), as a
   deployment does after its first load. *seconds* = matching + training + re-matching,
   from standardized records. On the Persian sets, 1,000 more records are then committed
   one at a time, each its own transaction, against the full master: the incremental
   cost, p50/p95/p99 ms.
3. Splink: the same standardized records (``benchmarks/splink_bench.py``): *seconds* =
   loading them into DuckDB, training, prediction and clustering.

Scores over all records of the data set: pairwise precision/recall/F1, B-cubed F1
(``hub.testing.metrics``), clusters found against true people. Results go to
``benchmarks/out/matching.json`` (or ``--json``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATASETS = ("febrl1", "febrl2", "persian-10k", "persian-100k")
FULL = ("persian-1m",)
SYSTEMS = ("peyvand", "splink")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS + FULL,
                        help=f"data sets (default: {' '.join(DATASETS)})")
    parser.add_argument("--full", action="store_true", help="add persian-1m")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--batch-size", type=int, default=500,
                        help="records per committed batch (default: 500, as config.yaml)")
    parser.add_argument("--tmp-dir", default=None, help="where the throw-away stores go")
    parser.add_argument("--json", default=str(HERE / "out" / "matching.json"),
                        help="where the results go (default: benchmarks/out/matching.json)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.batch_size)))
        return 0
    sys.path.insert(0, str(HERE))
    from run import machine
    datasets = list(args.datasets or DATASETS) + (list(FULL) if args.full else [])
    print(machine(), flush=True)
    results: dict[str, Any] = {"machine": machine(), "runs": []}
    for name in datasets:
        with tempfile.TemporaryDirectory(prefix=f"peyvand-{name}-", dir=args.tmp_dir) as tmp:
            prepared = _in_subprocess(["prepare", name, tmp], args)
            for system in args.systems:
                run = _in_subprocess([system, tmp], args)
                results["runs"].append({"dataset": name, "system": system, **prepared, **run})
        _write(args.json, results)
    print(tables(results["runs"]))
    return 0


def _write(path: str, results: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results, indent=2), encoding="utf-8")


def _in_subprocess(argv: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """One step in a fresh interpreter, so its peak RSS is its own."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--batch-size",
           str(args.batch_size), "--child", *argv]
    print(f"… {argv[0]} {argv[1]}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    print(f"  done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _child(argv: list[str], batch_size: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import matching_steps
    kind, *rest = argv
    if kind == "prepare":
        return matching_steps.prepare(rest[0], Path(rest[1]), batch_size=batch_size)
    if kind == "peyvand":
        return matching_steps.peyvand(Path(rest[0]))
    return matching_steps.splink(Path(rest[0]))


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Peyvand twice: with its built-in model (matching only) and trained (matching,
    training, re-matching); both from one run."""
    out = []
    for r in runs:
        if r["system"] == "peyvand" and "builtin" in r:
            out.append({**r, **r["builtin"], "system": "peyvand, built-in model",
                        "seconds": r["match_seconds"]})
            out.append({**r, "system": "peyvand, trained"})
        else:
            out.append(r)
    return out


def tables(runs: list[dict[str, Any]]) -> str:
    runs = _rows(runs)
    quality = _table(
        ["data set", "system", "records", "true pairs", "P", "R", "F1", "B³ F1",
         "clusters / true", "seconds", "ms / record", "pipeline s", "peak RSS MB"],
        [[r["dataset"], r["system"], f"{r['records']:,}", f"{r['true_pairs']:,}",
          f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}",
          f"{r['bcubed_f1']:.4f}", f"{r['clusters']:,} / {r['people']:,}",
          f"{r['seconds']:.1f}", f"{1000 * r['seconds'] / r['records']:.2f}",
          f"{r['pipeline_seconds']:.1f}", f"{r['peak_rss_mb']:.0f}"] for r in runs])
    single = [r for r in runs if r.get("incremental_ms") and "built-in" not in r["system"]]
    incremental = _table(
        ["data set", "master records", "new records", "p50 ms", "p95 ms", "p99 ms"],
        [[r["dataset"], f"{r['records']:,}", str(r["held_out"]),
          *(f"{ms:.1f}" for ms in r["incremental_ms"])] for r in single])
    steps = ("load", "match", "train", "rematch", "predict", "cluster")
    timed = "\n".join(f"{r['dataset']} {r['system']}: " + ", ".join(
        f"{step} {r[step + '_seconds']:.1f} s" for step in steps if step + "_seconds" in r)
        for r in runs)
    return (f"\nMatching quality and cost\n{quality}\n\nSeconds, of which\n{timed}\n\n"
            f"Peyvand, one new record per transaction against the master\n{incremental}\n"
            f"{_scaling(runs)}")


def _scaling(runs: list[dict[str, Any]]) -> str:
    """Time per record at 100k over time per record at 10k, per system."""
    per = {(r["dataset"], r["system"]): r["seconds"] / r["records"] for r in runs}
    systems = sorted({system for _, system in per})
    lines = [f"{system}: time per record at 100k = "
             f"{per[('persian-100k', system)] / per[('persian-10k', system)]:.2f}× at 10k"
             for system in systems
             if ("persian-10k", system) in per and ("persian-100k", system) in per]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
