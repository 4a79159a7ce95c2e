"""Where ``peyvand serve`` spends its time under load: py-spy over the server process.

py-spy samples a running process from outside, every thread (the event loop, the
request threads, the inbox worker), with no change to the code and no profiler inside
the measured process; pyinstrument sees only the thread that started it. Install it
with ``.venv/bin/pip install py-spy`` (a binary wheel; not a project dependency).

The raw samples (collapsed stacks, one line a distinct stack) are kept under
``benchmarks/out/`` (git-ignored); the summary names kinds of work by inclusive share,
and the functions with the most own time.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Kinds of work: (label, parts), a stack counted when each part is in one of its frames'
# "name (file)"; indented kinds are parts of the one above them.
_REQUEST, _WORKER = "_accept (hub/serve/app.py)", "_loop (hub/serve/worker.py)"
KINDS: list[tuple[str, tuple[str, ...]]] = [
    ("the event loop: HTTP, routing, body parsing, answers (uvicorn, starlette, fastapi)",
     ("run_until_complete",)),
    ("a request in its thread: check and store (_accept)", (_REQUEST,)),
    ("  the post checked with the form's pipeline (map, standardize, validate)",
     (_REQUEST, "(hub/pipeline.py)")),
    ("  stored in the inbox (inbox.accept)", (_REQUEST, "accept (hub/store/inbox.py)")),
    ("the inbox worker: pipeline runs and relay (its thread)", (_WORKER,)),
    ("  the adapter registry: installed packages' entry points read, per run",
     (_WORKER, "entry_points (importlib/metadata/")),
    ("  stateless stages (prepare_batch)", (_WORKER, "prepare_batch")),
    ("  commit: match, merge, golden records, outbox (StoreSink.commit)",
     (_WORKER, "commit (hub/sink.py)")),
    ("  relaying the outbox to the bus (Hub.relay)", (_WORKER, "relay (hub/app.py)")),
    ("waiting for SQLite's write lock (BEGIN IMMEDIATE)", ("_sqlite_begin",)),
    ("COMMIT (an fsync on SQLite)", ("do_commit (sqlalchemy/",)),
    ("SQLAlchemy, all", ("(sqlalchemy/",)),
    ("structlog, all", ("(structlog/",)),
]


@dataclass
class Sampling:
    process: subprocess.Popen[bytes]
    out: Path

    def stop(self) -> str:
        """Stop sampling; the summary of what was sampled."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(60)
        return summarize(self.out)


def start(pid: int, base: Path, *, gil: bool = False, rate: int = 100) -> Sampling:
    """Sample ``pid`` until ``stop``: its busy threads (waits on locks and I/O count), or
    with ``gil`` only the thread holding the GIL (Python's CPU time)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    base.parent.mkdir(parents=True, exist_ok=True)
    out = base.with_name(f"{base.name}{'_gil' if gil else ''}.txt")
    process = subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", str(rate),
                                "--format", "raw", "--nolineno", "--output", str(out),
                                *(["--gil"] if gil else [])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Sampling(process, out)


def summarize(path: Path, top: int = 15) -> str:
    """Inclusive shares of KINDS and the top ``top`` functions by own samples."""
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    total = sum(n for _, n in stacks) or 1
    kinds = [(label, sum(n for frames, n in stacks
                         if all(any(part in f for f in frames) for part in parts)))
             for label, parts in KINDS]
    own: Counter[str] = Counter()
    for frames, n in stacks:
        own[frames[-1]] += n
    lines = [f"py-spy: {total:,} samples of the server ({path})",
             "inclusive share by kind of work:"]
    lines += [f"  {100 * n / total:5.1f} %  {label}" for label, n in kinds]
    lines += ["own time (the frame on top of the stack):"]
    lines += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":   # summarize a saved profile again
    print(summarize(Path(sys.argv[1])))
