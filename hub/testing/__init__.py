"""Helpers for tests and benchmarks, ours and those of code that embeds Peyvand.

* ``write_synthetic_csv``: seeded customers with the truth about them.
* ``persian_people`` (``hub.testing.people``): seeded Persian/Latin records from five
  sources, households and namesakes, with the truth; ``pairwise`` and ``bcubed``
  (``hub.testing.metrics``) score a clustering against it.
* ``record`` and ``ingest``: canonical records into a store without a pipeline.
* ``project``: a project folder (config, pipelines, mappings) and the Hub on it.
* ``hub.testing.conformance.AdapterConformance``: the suite every adapter's tests
  subclass (imported from its module: it needs pytest).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import Engine

from hub.app import Hub
from hub.matching import MatchSettings
from hub.records import CanonicalRecord, RawRecord, Target, Value
from hub.store.engine import unit_of_work
from hub.store.master import BatchOutcome, MasterRepository
from hub.testing.metrics import bcubed, pairwise
from hub.testing.people import persian_people
from hub.testing.synthetic import national_code, write_synthetic_csv

__all__ = ["bcubed", "ingest", "national_code", "pairwise", "persian_people",
           "project", "record", "write_synthetic_csv"]


def project(root: Path, pipelines: Mapping[str, tuple[str, str, str]],
            mappings: Mapping[str, str], *, batch_size: int = 500) -> Hub:
    """A project folder under ``root`` (config, pipelines, mappings, a SQLite store) and
    the Hub on it.

    Args:
        pipelines: name -> (adapter, options as a YAML flow mapping, mapping file); the
            pipeline's source system is its name.
        mappings: file name -> YAML text.
    """
    (root / "pipelines").mkdir(exist_ok=True)
    (root / "mappings").mkdir(exist_ok=True)
    for name, (adapter, options, mapping) in pipelines.items():
        (root / "pipelines" / f"{name}.yaml").write_text(
            f"adapter: {adapter}\noptions: {options}\nsource_system: {name}\n"
            f"mapping: {mapping}\n", encoding="utf-8")
    for file, text in mappings.items():
        (root / "mappings" / file).write_text(text, encoding="utf-8")
    (root / "config.yaml").write_text(
        f"store: {{url: 'sqlite:///{root}/store.sqlite'}}\n"
        f"pipelines: [{', '.join(pipelines)}]\nrun: {{batch_size: {batch_size}}}\n",
        encoding="utf-8")
    return Hub.from_config(root / "config.yaml", environ={})


def record(system: str, source_id: str, fields: Mapping[str, str],
           target: Target = Target.CUSTOMER) -> tuple[CanonicalRecord, RawRecord]:
    """A canonical record with ``fields`` (path -> value, raw = value) and its raw record."""
    canon = CanonicalRecord(system, source_id, "", {p: [Value(v, v)] for p, v in fields.items()},
                            f"{system}.csv row {source_id}", target=target)
    canon.content_hash = canon.compute_hash()
    canon.raw_hash = canon.content_hash
    return canon, RawRecord(source_id, dict(fields), canon.location)


def ingest(engine: Engine, batch: Sequence[tuple[CanonicalRecord, RawRecord]],
           priority: Sequence[str] = (), matching: MatchSettings | None = None
           ) -> BatchOutcome:
    """Match and commit ``batch`` in one unit of work, as a pipeline's commit does."""
    settings = matching or MatchSettings()
    repo = MasterRepository(settings.matcher(), priority,
                            max_key_records=settings.max_key_records,
                            contradiction=settings.contradiction,
                            key_prefixes=settings.key_prefixes())
    with unit_of_work(engine, "ingesting a test batch") as conn:
        return repo.ingest(conn, batch)
