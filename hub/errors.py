"""Every error Peyvand raises, grouped by what the caller must do.

* PeyvandError
  + ConfigError               fix the configuration; names the file and the key
    - MappingError            a mapping file is wrong (all problems listed at once)
  + TransientError            retry later (tenacity policies key on this)
    - SourceUnavailable
    - BusUnavailable
    - StoreUnavailable
  + RecordRejected            quarantine the record, go on with the next one
    - UnreadableRecord        the adapter could not read it properly
    - DuplicateSourceId       the source gave one id to different records
    - MappingFailed
    - StandardizationFailed
    - SchemaViolation
  + StoreRefused              someone must act first: disk full, read-only, no store yet
  + MasteringRefused          a merge, unmerge or erasure the master cannot do as asked
  + FatalSourceError          stop the pipeline (e.g. a file that cannot be read at all)

Third-party exceptions are translated at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class PeyvandError(Exception):
    """Root of every Peyvand error."""


class ConfigError(PeyvandError):
    """The configuration is wrong; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} has {len(self.problems)} problem(s):\n{lines}")


class MappingError(ConfigError):
    """A mapping file cannot be used."""


class TransientError(PeyvandError):
    """A passing failure: the same call may succeed later."""


class SourceUnavailable(TransientError):
    """The source system could not be reached."""


class BusUnavailable(TransientError):
    """The message bus could not be reached."""


class StoreUnavailable(TransientError):
    """The master store could not be reached."""


class StoreRefused(PeyvandError):
    """The store is there (or should be) but cannot do what was asked until someone acts:
    its disk is full, it is read-only, it does not exist yet, or its schema is older than
    this release on a read-only open. Retrying at once would not help, so it is not
    retried; the message says what to do."""


class MasteringRefused(PeyvandError):
    """A steward's merge, unmerge or erasure cannot be done as asked (an unknown or
    inactive customer, two national codes, nothing left to restore); nothing changed."""


class FatalSourceError(PeyvandError):
    """The source cannot be read at all; the pipeline stops."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one value of a record.

    Args:
        field: the canonical field at fault (None: the record as a whole).
        reason: a sentence about the value, naming it.
    """

    field: str | None
    reason: str

    def describe(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class RecordRejected(PeyvandError):
    """One record cannot be accepted; the pipeline quarantines it with this reason.

    Args:
        reason: what is wrong, as a sentence about the value.
        field: the canonical field (or source column) at fault, if one is.
        source: the source system, filled in by the pipeline when unknown here.
        record: the record's source id, filled in by the pipeline when unknown here.
        problems: every problem of the record, when there are several; ``reason`` and
            ``field`` then sum them up.
    """

    stage = "record"

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        source: str | None = None,
        record: str | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        self.reason = reason
        self.field = field
        self.source = source
        self.record = record
        self.problems = list(problems) or [Problem(field, reason)]
        super().__init__(reason)

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> RecordRejected:
        """One rejection naming every problem: the first field, all the reasons."""
        if len(problems) == 1:
            return cls(problems[0].reason, field=problems[0].field, problems=problems)
        reason = "; ".join(p.describe() for p in problems)
        return cls(f"{len(problems)} problems: {reason}", field=problems[0].field,
                   problems=problems)

    def __str__(self) -> str:
        where = [f"source {self.source!r}" if self.source else None,
                 f"record {self.record!r}" if self.record else None,
                 f"field {self.field!r}" if self.field else None]
        prefix = ", ".join(w for w in where if w)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class UnreadableRecord(RecordRejected):
    """The source gave a record its adapter could not read properly (``RawRecord.problem``)."""

    stage = "read"


class DuplicateSourceId(RecordRejected):
    """The source gave one id to records with different content."""

    stage = "conflict"


class MappingFailed(RecordRejected):
    """The mapping could not be applied to this record."""

    stage = "map"


class StandardizationFailed(RecordRejected):
    """A value could not be standardized (bad phone, bad national code, bad date...)."""

    stage = "standardize"


class SchemaViolation(RecordRejected):
    """The canonical record does not validate against the XSD."""

    stage = "validate"


class InvalidValue(ValueError):
    """Raised by a standardizer for a value it cannot accept; the pipeline adds the field."""
