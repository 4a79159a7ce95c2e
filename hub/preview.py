"""What a pipeline would do, without doing it: its first records through the stateless
stages, and its source's columns against its mapping."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from hub.adapter import SourceContext
from hub.errors import FatalSourceError, RecordRejected, TransientError
from hub.mapping import load_mapping
from hub.pipeline import Preparer, build_adapter
from hub.records import CanonicalRecord, RawRecord
from hub.standardize.persian_text import header_key
from hub.suggest import did_you_mean

if TYPE_CHECKING:
    from hub.config import PipelineConfig


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """One record as the pipeline would take it: accepted (with what it sets aside) or
    rejected with the reason."""

    raw: RawRecord
    record: CanonicalRecord | None
    rejected: RecordRejected | None


def preview(cfg: PipelineConfig, context: SourceContext, limit: int = 10) -> list[PreviewRow]:
    """The first ``limit`` records of the source through the stateless stages; nothing is
    written."""
    prepare = Preparer.for_pipeline(cfg)
    rows = []
    for raw in itertools.islice(build_adapter(cfg, context).read(None), limit):
        try:
            rows.append(PreviewRow(raw, prepare(raw), None))
        except RecordRejected as exc:
            rows.append(PreviewRow(raw, None, exc))
    return rows


def source_problems(cfg: PipelineConfig, context: SourceContext) -> list[str]:
    """Open the source and compare the columns the mapping names with its real header."""
    mapping = load_mapping(cfg.mapping, cfg.attributes)
    try:
        first = next(iter(build_adapter(cfg, context).read(None)), None)
    except (FatalSourceError, TransientError) as exc:
        return [f"{cfg.name}: the source cannot be opened: {exc}"]
    if first is None or isinstance(first.data, etree._Element):
        return []   # nothing to compare with: an empty source, or XML documents
    have = {header_key(str(column)) for column in first.data}
    wanted = [c for rule in mapping.rules for c in rule.columns]
    wanted += [cfg.source_system_column] if cfg.source_system_column else []
    return [f"{cfg.name}: column {column!r} of {mapping.path.name} is not in the source "
            f"({first.location}).{did_you_mean(column, [str(c) for c in first.data])}"
            for column in dict.fromkeys(wanted) if header_key(column) not in have]
