"""Where an ``sql`` read stands, as checkpoint text.

A position is the (watermark, key...) values of the last row read in watermark mode, the
key values in key and snapshot modes, with the columns they belong to:

    {"v": 1, "mode": "watermark", "by": ["write_date", "id"],
     "after": ["dt:2026-11-24T10:00:00.123456", "i:42"]}

The next read selects the rows after that pair in (watermark, key) order, so rows that
share one watermark value are neither lost nor read twice, wherever a batch ends. A
snapshot read that reached the end says so (``"done": true``) and the next one starts
from the top again. Values are tagged text (``adapters._sql_values``) that comes back as
the same Python value, bound as it was read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters._sql_values import decode, encode
from hub.errors import FatalSourceError
from hub.records import Checkpoint

_VERSION = 1


@dataclass(frozen=True, slots=True)
class Position:
    """Args:
        mode: ``watermark``, ``key`` or ``snapshot``.
        by: the columns ``after`` holds values of (watermark first, then the key).
        after: the last row's values in those columns; None: from the start.
        done: a snapshot read reached its end; the next starts from the top.
    """

    mode: str
    by: tuple[str, ...]
    after: tuple[Any, ...] | None = None
    done: bool = False

    def checkpoint(self) -> Checkpoint:
        doc: dict[str, Any] = {"v": _VERSION, "mode": self.mode, "by": list(self.by)}
        if self.done:
            doc["done"] = True
        elif self.after is not None:
            doc["after"] = [encode(v) for v in self.after]
        return Checkpoint(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))

    def fresh(self) -> Position:
        """The same read from the start."""
        return Position(self.mode, self.by)


def parse(checkpoint: Checkpoint) -> Position:
    """The position a checkpoint holds; FatalSourceError for one this adapter did not
    write (another adapter's, or edited by hand)."""
    try:
        doc = json.loads(checkpoint.value)
        if not isinstance(doc, dict) or doc.get("v") != _VERSION:
            raise ValueError("not a version 1 sql checkpoint")
        by = tuple(str(c) for c in doc["by"])
        after = doc.get("after")
        values = tuple(decode(str(v)) for v in after) if after is not None else None
        if values is not None and len(values) != len(by):
            raise ValueError("values and columns differ in number")
        return Position(str(doc["mode"]), by, values, bool(doc.get("done", False)))
    except (ValueError, KeyError, TypeError) as exc:
        raise FatalSourceError(
            f"sql: checkpoint {checkpoint.value[:80]!r} was not written by this adapter "
            f"({exc}); reset the pipeline's checkpoint (`peyvand checkpoint reset "
            "PIPELINE`) to read the source from the start") from exc
