"""Where the time goes: the synthetic case under pyinstrument (first run, ingest only).

Prints the hottest functions by their own time and the top of the call tree, and saves
the full interactive profile as HTML under ``benchmarks/out/`` (git-ignored).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness import make_workspace, timed_run
from pyinstrument import Profiler
from synthetic import MAPPING, SOURCE

from hub.testing import write_synthetic_csv

OUT = Path(__file__).resolve().parent / "out"


def profile(people: int, *, batch_size: int, flat_lines: int = 30,
            tree_lines: int = 60, tmp_root: str | None = None) -> str:
    """Run the pipeline over ``people`` synthetic customers under the profiler."""
    with tempfile.TemporaryDirectory(prefix="peyvand-profile-", dir=tmp_root) as tmp:
        root = Path(tmp)
        csv_path = root / "synthetic.csv"
        write_synthetic_csv(csv_path, people, seed=1402)
        cfg, engine = make_workspace(root, name="synthetic", csv_path=csv_path,
                                     id_column="کد مشتری", source_system=SOURCE,
                                     mapping=MAPPING)
        profiler = Profiler(interval=0.001)
        profiler.start()
        run = timed_run(cfg, engine, batch_size)
        profiler.stop()
        engine.dispose()
    OUT.mkdir(exist_ok=True)
    html = OUT / f"profile-{people // 1000}k.html"
    html.write_text(profiler.output_html(), encoding="utf-8")
    flat = profiler.output_text(flat=True, flat_time="self", time="percent_of_total")
    tree = profiler.output_text(time="percent_of_total")
    return "\n".join([
        f"{run.stats.read} records in {run.seconds:.1f} s under the profiler "
        f"(full profile: {html})",
        f"-- hottest functions by own time (top {flat_lines}) --",
        *_body(flat)[:flat_lines],
        f"-- call tree (first {tree_lines} lines) --",
        *_body(tree)[:tree_lines],
    ])


def _body(text: str) -> list[str]:
    """The profile's lines without pyinstrument's banner."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "%" in line and "Recorded" not in line
                  and "Duration" not in line), 0)
    return [line for line in lines[start:] if line.strip()]
