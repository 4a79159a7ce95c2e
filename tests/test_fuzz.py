"""Random bytes and random cell text through the spreadsheet adapter and the pipeline:
no crash, and every row read is either in the master or in quarantine.

A file that cannot be read at all may stop its pipeline, but only with Peyvand's own
error (a sentence naming the file), never with a traceback from a library.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub.app import Hub
from hub.errors import PeyvandError
from hub.pipeline import RunStats
from hub.store.tables import quarantine, source_records
from hub.testing import project

MAPPING = ("fields:\n  name.full: {from: name}\n  phones.phone:mobile: {from: mobile}\n"
           "  emails.email: {from: email}\n  birthDate: {from: born}\n"
           "  addresses.address.city: {from: city}\n  nationalCode: {from: code}\n")
HEADER = ["id", "name", "mobile", "email", "born", "city", "code"]
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Cells as people and broken exports write them: Persian and Arabic letters, digits of
# three scripts, half-spaces, control characters, quotes, separators, very long values.
_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(
    list("علیکريمى۰۱۲۹٠١\u200c\u200f\x00\x01\x0b\"';,\t\r\n@+-/ 0123456789"))
CELL = st.text(alphabet=_ALPHABET, max_size=40) | st.sampled_from(
    ["09121234567", "۰۹۱۲۱۲۳۴۵۶۷", "0076229645", "1367/07/31", "ali@x.ir", "=1+1",
     "#N/A", "x" * 5000, ""])


def _run(root: Path, data: bytes, suffix: str = ".csv") -> tuple[Hub, RunStats | None]:
    (root / f"in{suffix}").write_bytes(data)
    hub = project(root, {"src": ("spreadsheet", f"{{path: ../in{suffix}, id_column: id}}",
                                 "m.yaml")}, {"m.yaml": MAPPING}, batch_size=7)
    try:
        [stats] = hub.run()
    except PeyvandError as exc:       # refused whole, with a sentence: not a crash
        if not str(exc).strip():
            raise AssertionError("a refusal without a sentence") from exc
        return hub, None
    return hub, stats


def _every_row_is_kept(hub: Hub, stats: RunStats) -> None:
    with hub.engine.connect() as conn:
        stored = conn.execute(select(source_records.c.source_id)).scalars().all()
        waiting = conn.execute(select(quarantine.c.source_id)
                               .where(quarantine.c.status == "open",
                                      quarantine.c.kind == "record")).scalars().all()
    # Accepted records are stored, rejected ones wait; the rest repeated an id with the
    # same content (one record) and were counted unchanged.
    assert stats.read == len(stored) + stats.rejected + stats.unchanged
    assert len(waiting) == stats.quarantined <= stats.rejected


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hub, stats = _run(Path(tmp), b"id,name,mobile,email,born,city,code\n" + data)
        try:
            if stats is not None:
                _every_row_is_kept(hub, stats)
        finally:
            hub.close()


@FUZZ
@given(st.lists(st.tuples(st.text(alphabet="ABC123", min_size=1, max_size=3),
                          *[CELL] * (len(HEADER) - 1)), max_size=25))
def test_random_cells_reach_the_master_or_quarantine(rows: list[tuple[str, ...]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        hub, stats = _run(Path(tmp), text.getvalue().encode("utf-8"))
        try:
            assert stats is not None   # a well-formed CSV is never refused whole
            _every_row_is_kept(hub, stats)
        finally:
            hub.close()


@FUZZ
@given(st.binary(min_size=1, max_size=2000))
def test_random_bytes_as_a_workbook_are_refused_with_a_sentence(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hub, stats = _run(Path(tmp), b"PK\x03\x04" + data, ".xlsx")
        hub.close()
        assert stats is None
