"""Where the time goes: the synthetic case under pyinstrument (first run, ingest only).

Prints named hot spots (inclusive time of a kind of work, wherever it is called from),
the functions with the most inclusive and the most own time, and saves the full
interactive profile as HTML under ``benchmarks/out/`` (git-ignored).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from harness import make_workspace, timed_run
from pyinstrument import Profiler
from pyinstrument.frame import Frame
from synthetic import MAPPING, SOURCE

from hub.testing import write_synthetic_csv

OUT = Path(__file__).resolve().parent / "out"

Match = Callable[[Frame, Frame | None], bool]


def _fn(name: str, path_part: str = "") -> Match:
    return lambda f, _p: _name(f) == name and path_part in (f.file_path or "")


def _in_file(path_part: str) -> Match:
    return lambda f, _p: path_part in (f.file_path or "")


def _called_from(name: str, parent: str) -> Match:
    return lambda f, p: _name(f) == name and p is not None and _name(p) == parent


# Kinds of work, each counted once per call stack (outermost match) wherever it happens.
HOT_SPOTS: list[tuple[str, Match]] = [
    ("matching plan (plan_batch, pure)", _fn("plan_batch")),
    ("golden rebuild per batch (MasterRepository._rebuild)",
     _fn("MasterRepository._rebuild")),
    ("  linked records read + decoded for rebuild (MasterRepository._linked)",
     _fn("MasterRepository._linked")),
    ("  survivorship: build_golden", _fn("build_golden")),
    ("  survivorship: search_text", _fn("search_text")),
    ("  outbox append (events as JSON)", _fn("append", "hub/store/outbox.py")),
    ("known-record lookup by source id (known_records)", _fn("known_records")),
    ("candidates: blocking keys, then their records' stored profiles (load_candidates)",
     _fn("load_candidates")),
    ("applying the plan: bulk writes (MasterRepository._apply)",
     _fn("MasterRepository._apply")),
    ("profile_of (match keys, names), all callers", _fn("profile_of")),
    ("phone standardization (phonenumbers)", _fn("standardize_phone")),
    ("date standardization (jdatetime)", _fn("standardize_date")),
    ("person-name keys (hub/standardize/person_names.py)",
     _in_file("hub/standardize/person_names.py")),
    ("XML building for validation (to_xml)", _fn("to_xml")),
    ("XSD validation incl. to_xml (validate)", _fn("validate", "hub/validation.py")),
    ("YAML mapping apply", _fn("Mapping.apply")),
    ("content hash (compute_hash)", _fn("CanonicalRecord.compute_hash")),
    ("JSON encoding, all (json/encoder.py)", _in_file("json/encoder.py")),
    ("JSON decoding, all (json/decoder.py)", _in_file("json/decoder.py")),
    ("CanonicalRecord.to_json / from_json (dict<->lists)",
     lambda f, p: _name(f) in ("CanonicalRecord.to_json", "CanonicalRecord.from_json")),
    ("SQLite COMMIT (WAL, synchronous=FULL: fsync)", _fn("Connection.commit", "<built-in>")),
    ("SQLite statements (cursor execute/executemany/fetch)",
     lambda f, p: (f.file_path or "").startswith("<built-in>")
     and _name(f).startswith("Cursor.")),
    ("SQLAlchemy, all (sqlalchemy/)", _in_file("sqlalchemy/")),
    ("quarantine entries resolved per batch", _fn("resolve", "hub/store/quarantine.py")),
    ("CSV reading (spreadsheet adapter)", _fn("SpreadsheetAdapter.extract")),
    ("stateless stages (prepare_batch: map, standardize, validate)", _fn("prepare_batch")),
    ("commit (StoreSink.commit: match, merge, survivorship, outbox)", _fn("StoreSink.commit")),
]


def profile(people: int, *, batch_size: int, lines: int = 25,
            tmp_root: str | None = None) -> str:
    """Run the pipeline over ``people`` synthetic customers under the profiler."""
    import python_calamine  # noqa: F401  the adapter imports it on first use: keep that out

    with tempfile.TemporaryDirectory(prefix="peyvand-profile-", dir=tmp_root) as tmp:
        root = Path(tmp)
        csv_path = root / "synthetic.csv"
        write_synthetic_csv(csv_path, people, seed=1402)
        hub = make_workspace(root, name="synthetic", csv_path=csv_path,
                             id_column="کد مشتری", source_system=SOURCE, mapping=MAPPING,
                             batch_size=batch_size)
        profiler = Profiler(interval=0.001)
        profiler.start()
        run = timed_run(hub)
        profiler.stop()
        hub.close()
    OUT.mkdir(exist_ok=True)
    html = OUT / f"profile-{people // 1000}k.html"
    html.write_text(profiler.output_html(), encoding="utf-8")
    root_frame = profiler.last_session.root_frame() if profiler.last_session else None
    if root_frame is None:
        return "no samples"
    total = root_frame.time
    spots = [(label, _inclusive(root_frame, match)) for label, match in HOT_SPOTS]
    inclusive, own = _per_function(root_frame)
    pct = lambda t: f"{100 * t / total:5.1f}%"  # noqa: E731
    return "\n".join([
        f"{run.stats.read} records, {run.seconds:.1f} s under the profiler "
        f"({total:.1f} s sampled; full profile: {html})",
        "-- named hot spots (inclusive) --",
        *(f"{pct(t)}  {label}" for label, t in spots),
        f"-- top {lines} functions by inclusive time --",
        *(f"{pct(t)}  {k}" for k, t in inclusive[:lines]),
        f"-- top {lines} functions by own time --",
        *(f"{pct(t)}  {k}" for k, t in own[:lines]),
    ])


def _name(frame: Frame) -> str:
    return f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function


def _walk(frame: Frame, parent: Frame | None = None) -> Iterator[tuple[Frame, Frame | None,
                                                                      bool]]:
    """(frame, parent, entering): entering True before the children, False after."""
    yield frame, parent, True
    for child in frame.children:
        if not child.is_synthetic:      # "[self]" time is in total_self_time already
            yield from _walk(child, frame)
    yield frame, parent, False


def _inclusive(root: Frame, match: Match) -> float:
    total, depth = 0.0, 0
    for frame, parent, entering in _walk(root):
        if match(frame, parent):
            if entering and depth == 0:
                total += frame.time
            depth += 1 if entering else -1
    return total


def _per_function(root: Frame) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    inclusive: dict[str, float] = {}
    own: dict[str, float] = {}
    open_keys: list[str] = []
    for frame, _parent, entering in _walk(root):
        key = f"{_name(frame)}  {frame.file_path_short or ''}:{frame.line_no or ''}"
        if entering:
            if key not in open_keys:        # recursion counts once
                inclusive[key] = inclusive.get(key, 0.0) + frame.time
            own[key] = own.get(key, 0.0) + frame.total_self_time
            open_keys.append(key)
        else:
            open_keys.pop()
    ranked = lambda d: sorted(d.items(), key=lambda kv: -kv[1])  # noqa: E731
    return ranked(inclusive), ranked(own)
