"""Customer rows from spreadsheet files: CSV, XLSX, XLS or ODS; one file or a glob of them,
one sheet or several.

Features: CSV (UTF-8, UTF-8 with BOM, UTF-16, Windows-1256; delimiter sniffed), XLSX
(large sheets streamed), XLS (BIFF8), ODS; incremental: per file, its content hash and
the row reached (a changed file is read again from the top, and unchanged rows are
recognised downstream; a glob's files read to the end are not read again while their
hash is the same); deletions: only with ``options.snapshot: true`` (the class declares
the feature so the engine gives it the ids the master holds; without ``snapshot`` it
never asks for them and never reports a deletion); estimate: yes.

Connection: options.path (a file, or a glob such as ``exports/customers-*.xlsx``)

Snapshots (``snapshot: true``): the file (or the glob's files together) is the whole
source each time. After its last row but one, the ids the master holds open
(``SourceContext.known_ids``) that no row of the files has are reported deleted
(``deleted=True``: their links close); then comes the last row, whose checkpoint says the
files are done, so an interrupted run finds its deletions again and a finished one does
not look for them twice. Rows set aside with a problem count as present. A snapshot with
no row at all is refused rather than taken as "every customer deleted".

Globs: the files are read in the order of their names (numbers in names compared as
numbers) and are one data set, the union of their files. An id in several files is the
record of the last file in that order (the newest month of date-stamped exports): the
copies in earlier files are skipped, never reported as conflicts; within one file, one id
on two different rows is still a conflict. Rows without an id column get content ids
prefixed with the glob's file pattern (``customers-*.xlsx:<hash>``), so a row unchanged
from one month's file to the next keeps its id; position ids name the file they are in.
With several sheets (a list, or ``"*"``), content and position ids also name the sheet.

Rows are numbered as a spreadsheet program shows them (1-based, header line included), so
``accounting_customers.csv row 17`` is row 17 when the file is opened in Excel. A row that
cannot be read properly is not dropped and does not stop the file: its record carries a
``problem`` and goes to quarantine with what could be read of it.

CSV encoding (finding H2), decided once per file from the whole file and logged (file
name, encoding, what decided it; info level):

1. a byte order mark: UTF-8 or UTF-16;
2. UTF-16 without one, when at least a tenth of the 2-byte units have a NUL byte, all on
   the same side (ASCII in UTF-16); a stray NUL does not make a file UTF-16;
3. otherwise each line with non-ASCII bytes is evidence: one that decodes as UTF-8 and
   gives letters counts for UTF-8, one that does not decode counts against. UTF-8 when no
   line is against it or the UTF-8 lines are at least as many; else Windows-1256, what
   Persian Windows software writes, whose Persian text practically never decodes as
   UTF-8. In a UTF-8 file, each line that does not decode (a damaged row, a character cut
   in half at the end) becomes one record with its problem, naming the byte and its
   offset, and its text read with U+FFFD for the bad bytes; every other row is UTF-8.

CSV rows (``adapters._csv``; findings M4, L4): a quote that never closes, or swallows
whole rows, sets aside the row where it opened and the swallowed rows are read as rows;
a field over 32,767 characters (Excel's cell limit) sets its row aside; a line over
1 MiB is cut. A legitimate quoted field with line breaks stays one cell.

Workbooks (``adapters._workbook``): read with python-calamine after limits of their own,
checked before calamine sees the file: ``adapters._workbook_limits`` for XLSX (1 GB
uncompressed, a compression ratio of 100 for parts over 10 MB, 32,767 characters a cell,
10 million cells of real extent and 100 million characters of cell text for a sheet
calamine builds; declared dimensions never trusted), ``adapters._xls_limits`` for XLS (the
OLE2 container and the BIFF8 records: 50 MB, declared and real extents, shared strings
copied into cells), ``adapters._ods_limits`` for ODS (the zip limits, and repeated rows,
columns and spaces in content.xml). The choice of calamine, measured on this machine (2
cores) with python-calamine 0.9.1 and openpyxl 3.1.5, each file read to its last row in
a fresh process, peak memory as growth of the resident set:

===================================  ===========  ==================  =============
file                                 calamine     openpyxl read-only  openpyxl full
===================================  ===========  ==================  =============
4 .xlsx samples (shared/samples)     0.3-0.5 ms   3-6 ms              3.5-6 ms
4 .xls and 3 .ods samples            0.1-0.7 ms   cannot open         cannot open
200,000 rows x 10 columns: time      1.3 s        14.9 s              23.1 s
  (11.7 MB; 128 MB of sheet XML)
  peak memory                        170 MB       19 MB               860 MB
===================================  ===========  ==================  =============

calamine opens every sample openpyxl opens, plus the .xls and .ods ones (and, by finding
R2, workbooks from other programs than Excel that openpyxl fails on with an internal
error). It is not a streaming reader: it holds a sheet as a grid of 32-byte cells, and
its shared strings, so its memory grows with the sheet: 500,000 rows of ten text
columns (250 MB of sheet XML) took 466 MB through the adapter alone, 696 MB peak through
the pipeline. So a sheet part or shared-strings part over 20 MB (``STREAM_FROM_BYTES``,
some 40,000 rows of ten columns) is streamed instead (``adapters._xlsx_stream``: one
row at a time, shared strings in a temporary file, the values calamine would give):
the same file then takes 60 MB over the interpreter through the adapter alone. See
docs/benchmarks.md, "Large files", for the pipeline's numbers. Merged ranges come from
calamine for .xlsx and .xls (none for .ods), and from the limits scan for a streamed
sheet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import structlog

from adapters._files import (
    Positions,
    Progress,
    digest,
    expand,
    file_key,
    is_glob,
    settled_since,
)
from adapters._rows import blank_row, column_index, content_hash, option_problems, row_data
from adapters._sources import SheetFile, open_file
from adapters._table import Table, blank
from hub.adapter import Adapter, Features, SourceContext
from hub.errors import FatalSourceError
from hub.records import Checkpoint, RawRecord

__all__ = ["SpreadsheetAdapter", "SpreadsheetSettings"]

log = structlog.get_logger("peyvand.adapters.spreadsheet")


@dataclass(frozen=True)
class SpreadsheetSettings:
    """Where the files are and how to read them.

    A record's source id is what tells a changed record from a new one across runs, so
    choose it with care. A real id column (a customer code) is best: it survives rows
    inserted, deleted, reordered and edited, and files of a glob. Without one,
    ``row_ids`` decides: ``content`` (the default) ids a row by a hash of its values, so
    inserting or deleting rows moves no other record, but an edited row is a new record
    (with ``snapshot``, the old one is then reported deleted), and identical rows share
    one id (they are the same record); ``position`` ids it by its row, so an edit stays
    the same record, but a row inserted or deleted above shifts the id of every row below
    it, each then read as changed.

    Args:
        path: the file, or a glob of files (``exports/customers-*.xlsx``); a relative
            path resolves against the pipeline file's folder.
        sheet: the worksheet to read: a name, a list of names, or ``"*"`` for every
            visible worksheet; None picks the first visible worksheet.
        header_row: 1-based header row; None finds it in the first 50 rows (the first
            row with at least two non-empty cells, mostly text); 0 means the file has no
            header row and the columns are named ``column_1``, ``column_2``...
        id_column: the column holding the record's stable id, or a list of columns whose
            values together are the id (joined with ``|``). A row whose id cells are all
            empty gets an id by ``row_ids``.
        row_ids: ids of rows without an id: ``content`` gives ``"<file name>:<12 hex>"``
            from the row's values, ``position`` gives ``"<file name>:row <n>"``.
        encoding: CSV text encoding; None decides it per file (see the module docstring).
        delimiter: CSV delimiter; None sniffs one of ``, ; tab |``.
        snapshot: the file (or the glob's files together) is the whole source each time:
            records no longer in it are reported deleted.
        settle_seconds: with a glob, a file modified more recently than this is left for
            the next run (a copy still being written); with ``snapshot``, nothing is read
            until every file has settled, since the files are one whole.
    """

    path: str
    sheet: str | tuple[str, ...] | None = None
    header_row: int | None = None
    id_column: str | tuple[str, ...] | None = None
    row_ids: Literal["content", "position"] = "content"
    encoding: str | None = None
    delimiter: str | None = None
    snapshot: bool = False
    settle_seconds: float = 5.0


class SpreadsheetAdapter(Adapter):
    """Rows of CSV, XLSX, XLS and ODS files; with a snapshot, the rows gone as deletions.

    One RawRecord per non-empty row under each sheet's header.
    """

    name: ClassVar[str] = "spreadsheet"
    Settings: ClassVar[type] = SpreadsheetSettings
    features: ClassVar[Features] = Features(incremental=True, deletions=True, estimate=True)
    # A file on a network share times out or is briefly locked; the next run may read it.
    transient_errors: ClassVar[tuple[type[BaseException], ...]] = (TimeoutError, BlockingIOError)

    def __init__(self, settings: SpreadsheetSettings, *, context: SourceContext) -> None:
        super().__init__(settings, context=context)
        self.detected_encoding: str | None = None
        self._prepared: tuple[SheetFile, Table] | None = None
        self._glob = is_glob(settings.path)
        self._several = settings.sheet == "*" or isinstance(settings.sheet, tuple | list)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        return option_problems(options)

    @property
    def path(self) -> Path:
        """The file (or glob), resolved against the pipeline's folder."""
        return self.context.base_dir / Path(self.settings.path).expanduser()

    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        try:
            yield from self._extract(Progress.decode(checkpoint), checkpoint)
        except OSError as exc:
            if isinstance(exc, self.transient_errors):
                raise  # ``read`` reports it as SourceUnavailable
            raise self._os_error(exc) from exc
        finally:
            self._close_prepared()

    def estimate_total(self, checkpoint: Checkpoint | None) -> int | None:
        """Rows under the header (blank ones included) after the checkpoint's row, in the
        files and sheets left to read."""
        progress, total = Progress.decode(checkpoint), 0
        paths, waiting = self._paths()
        for path in [] if waiting and self.settings.snapshot else paths:
            key = self._key(path)
            if key in progress.done and progress.done[key] == digest(path):
                continue
            opened = self._open(path)
            first, resume = self._resume(progress, key, opened)
            for i, sheet in enumerate(opened.sheets[first:]):
                table = opened.table(sheet)
                skipped = max(resume - table.header_row, 0) if i == 0 else 0
                total += max(table.total - skipped, 0)
                if self._prepared is None and not (self._glob or self._several):
                    self._prepared = (opened, table)   # extract reads it: open it once
            if self._prepared is None or self._prepared[0] is not opened:
                opened.close()
        return total

    # -- reading -------------------------------------------------------------------------

    def _extract(self, progress: Progress, checkpoint: Checkpoint | None
                 ) -> Iterator[RawRecord]:
        paths, waiting = self._paths()
        if waiting and self.settings.snapshot:
            log.info("snapshot waits for its files to settle", files=sorted(waiting))
            return
        keys = [self._key(p) for p in paths]
        kept = set(keys) | waiting
        positions = Positions(not (self._glob or self._several),
                              {k: v for k, v in progress.done.items() if k in kept})
        reading = _Run(seen=set() if self.settings.snapshot else None,
                       removed=any(k not in keys for k in progress.done))
        held: RawRecord | None = None
        for record in self._files(paths, keys, progress, positions, reading):
            if held is not None:
                yield held
                checkpoint = held.checkpoint
            held = record
        if reading.seen is not None and (held is not None or reading.fresh or reading.removed):
            yield from self._deletions(paths, reading, checkpoint)
        if held is not None:
            yield held

    def _files(self, paths: list[Path], keys: list[str], progress: Progress,
               positions: Positions, reading: _Run) -> Iterator[RawRecord]:
        reading.later = self._later_ids(paths, keys, progress)
        for index, (path, key) in enumerate(zip(paths, keys, strict=True)):
            if key in progress.done and progress.done[key] == digest(path):
                reading.unread.append(index)   # read to its end before, unchanged
                continue
            opened = self._open(path)
            try:
                yield from self._file(opened, path, index, progress, positions, reading)
            finally:
                opened.close()

    def _file(self, opened: SheetFile, path: Path, index: int, progress: Progress,
              positions: Positions, reading: _Run) -> Iterator[RawRecord]:
        """The records of one file, the last one carrying the checkpoint saying it is done."""
        key = self._key(path)
        first, resume = self._resume(progress, key, opened)
        reading.fresh = reading.fresh or (first, resume) == (0, 0)   # new or changed
        pending: RawRecord | None = None
        for number, sheet in enumerate(opened.sheets):
            skip = resume if number == first else 0 if number > first else None
            if skip is None and reading.seen is None:
                continue   # a sheet read to its end before: nothing to learn from it
            positions.enter(key, opened.digest, sheet)
            table = self._table(opened, sheet)
            ids = self._id_indexes(table.names, path)
            for row in table.rows:
                if row.problem is None and blank_row(row.values):
                    continue
                delivered = skip is None or row.number <= skip   # by an earlier run
                if delivered and reading.seen is None:
                    continue
                source_id = self._source_id(path, sheet, row.values, ids, row.number)
                if reading.seen is not None:
                    reading.seen.add(source_id)
                if delivered or reading.later.get(source_id, index) > index:
                    continue   # delivered before, or a later file has this id
                if pending is not None:
                    yield pending
                pending = RawRecord(source_id, row_data(table, row.values),
                                    f"{table.label} row {row.number}",
                                    positions.at(row.number), row.problem)
        if pending is not None:
            last = int(pending.location.rpartition(" row ")[2])
            yield dataclasses.replace(pending, checkpoint=positions.finish(
                key, opened.digest, last))

    def _later_ids(self, paths: list[Path], keys: list[str], progress: Progress
                   ) -> dict[str, int]:
        """id -> index of the last file holding it, for the files after the first one to
        read (none in the usual run, where only the newest file is new)."""
        if len(paths) < 2 or self.settings.id_column is None:
            return {}
        later: dict[str, int] = {}
        start = next((i for i, (path, key) in enumerate(zip(paths, keys, strict=True))
                      if progress.done.get(key) != digest(path)), len(paths))
        for index in range(len(paths) - 1, start, -1):
            for source_id in self._ids(paths[index]):
                later.setdefault(source_id, index)
        return later

    def _ids(self, path: Path) -> Iterator[str]:
        """The source ids of every row of ``path`` (nothing delivered)."""
        opened = self._open(path)
        try:
            for sheet in opened.sheets:
                table = opened.table(sheet)
                ids = self._id_indexes(table.names, path)
                for row in table.rows:
                    if row.problem is not None or not blank_row(row.values):
                        yield self._source_id(path, sheet, row.values, ids, row.number)
        finally:
            opened.close()

    def _deletions(self, paths: list[Path], reading: _Run, checkpoint: Checkpoint | None
                   ) -> Iterator[RawRecord]:
        """Deleted records for the ids the master holds that no file has any more."""
        assert reading.seen is not None
        for index in reading.unread:   # files not read this time still hold their ids
            reading.seen.update(self._ids(paths[index]))
        if self.context.known_ids is None:
            return
        gone = sorted(set(self.context.known_ids()) - reading.seen)
        if gone and not reading.seen:
            raise FatalSourceError(
                f"{self.path}: the snapshot holds no rows, so every one of its "
                f"{len(gone):,} records would be deleted; nothing was changed. Check the "
                "export; if the source really is empty, set options.snapshot to false.")
        for source_id in gone:
            yield RawRecord(source_id, {}, f"{self.settings.path}: no longer in the "
                                           "snapshot", checkpoint, deleted=True)

    # -- opening -----------------------------------------------------------------------

    def _paths(self) -> tuple[list[Path], set[str]]:
        """(the files to read now, the keys of a glob's files left for the next run because
        they changed in the last ``settle_seconds``)."""
        paths = expand(self.context.base_dir, self.settings.path)
        if not self._glob:
            return paths, set()
        ready, waiting = [], set()
        for path in paths:
            if settled_since(path.stat().st_mtime_ns, self.settings.settle_seconds):
                ready.append(path)
            else:
                waiting.add(self._key(path))
                log.info("spreadsheet file not settled yet", file=path.name)
        return ready, waiting

    def _open(self, path: Path) -> SheetFile:
        if self._prepared is not None:
            return self._prepared[0]
        settings = self.settings
        opened = open_file(path, sheet=settings.sheet, header_row=settings.header_row,
                           encoding=settings.encoding, delimiter=settings.delimiter)
        self.detected_encoding = opened.encoding
        return opened

    def _table(self, opened: SheetFile, sheet: str | None) -> Table:
        if self._prepared is not None and self._prepared[0] is opened:
            table, self._prepared = self._prepared[1], None
            return table
        return opened.table(sheet)

    def _close_prepared(self) -> None:
        if self._prepared is not None:
            self._prepared[0].close()
            self._prepared = None

    def _key(self, path: Path) -> str:
        """How the checkpoint names ``path`` (``""``: the only file)."""
        if not (self._glob or self._several):
            return ""
        return file_key(self.context.base_dir, path)

    def _resume(self, progress: Progress, key: str, opened: SheetFile) -> tuple[int, int]:
        """(index of the sheet to resume in, row to resume after); (0, 0): from the top."""
        simple = not (self._glob or self._several)
        sheet = progress.sheet if progress.sheet in opened.sheets else None
        if progress.resume_row(None if simple else key, opened.digest, sheet) == 0:
            return 0, 0
        return opened.sheets.index(sheet) if sheet in opened.sheets else 0, progress.row

    # -- per record ----------------------------------------------------------------------

    def _id_indexes(self, names: list[str], path: Path) -> list[int]:
        wanted = self.settings.id_column
        columns = [] if wanted is None else [wanted] if isinstance(wanted, str) else wanted
        return [column_index(names, column, path) for column in columns]

    def _source_id(self, path: Path, sheet: str | None, values: Sequence[Any],
                   id_indexes: list[int], n: int) -> str:
        parts = [values[i] if i < len(values) else None for i in id_indexes]
        if parts and not blank_row(parts):
            return "|".join("" if blank(p) else str(p).strip() for p in parts)
        # No id, or an empty one: never drop the row for it.
        where = self._key(path) if self._glob else path.name
        if self.settings.row_ids == "content" and self._glob:
            where = Path(self.settings.path).name   # the pattern: stable across files
        if self._several:
            where = f"{where}:{sheet}"
        if self.settings.row_ids == "position":
            return f"{where}:row {n}"
        return f"{where}:{content_hash(values)}"

    def _os_error(self, exc: OSError) -> BaseException:
        if isinstance(exc, FileNotFoundError):
            return FatalSourceError(f"{self.path}: no such file; check options.path.")
        return FatalSourceError(f"{self.path}: cannot be read: {exc.strerror or exc}.")


@dataclass
class _Run:
    """What one extract learns as it goes."""

    seen: set[str] | None                  # every id in the files (snapshots only)
    removed: bool = False                  # a file read before is gone from the glob
    fresh: bool = False                    # a file is read from its top: new or changed
    unread: list[int] = dataclasses.field(default_factory=list)   # files done, unchanged
    later: dict[str, int] = dataclasses.field(default_factory=dict)
