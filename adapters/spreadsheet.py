"""Customer rows from one spreadsheet file, CSV or XLSX.

Features: CSV (UTF-8, UTF-8 with BOM, UTF-16, Windows-1256; delimiter sniffed), XLSX;
incremental: file hash + row (a changed file is read again from the top, and unchanged
rows are recognised downstream); deletions: no; estimate: yes.

Connection: options.path

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

XLSX (``adapters._workbook``): read with python-calamine after the limits of
``adapters._workbook_limits`` (200 MB uncompressed, a compression ratio of 100 for parts
over 10 MB, 32,767 characters a cell, 10 million cells of real extent; declared
dimensions never trusted). The choice, measured on this machine (2 cores) with
python-calamine 0.9.1 and openpyxl 3.1.5, each file read to its last row in a fresh
process, peak memory as growth of the resident set:

===================================  ===========  ==================  =============
file                                 calamine     openpyxl read-only  openpyxl full
===================================  ===========  ==================  =============
4 .xlsx samples (shared/samples)     0.3-0.5 ms   3-6 ms              3.5-6 ms
4 .xls and 3 .ods samples            0.1-0.7 ms   cannot open         cannot open
200,000 rows x 10 columns: time      1.3 s        14.9 s              23.1 s
  (11.7 MB; 128 MB of sheet XML)
  peak memory                        170 MB       19 MB               860 MB
===================================  ===========  ==================  =============

Through this adapter (limits scan 1.2 s, calamine 1.7 s, records with content ids) the
200,000-row file takes 4.6 s and 171 MB; the adapter before, openpyxl in full, took 26 s
and 859 MB. calamine opens every sample openpyxl opens, plus the .xls and .ods ones (and,
by finding R2, workbooks from other programs than Excel that openpyxl fails on with an
internal error); it is 11 times faster than openpyxl's streaming mode. It is not a
streaming reader: it holds the sheet as a grid of 32-byte cells, so its memory is bounded
by the limits checked first (a 10-million-cell grid measured 306 MB), not by a window of
rows; rows still reach Python and become records one at a time. Merged ranges come from
calamine for .xlsx and .xls (not .ods). .xls and .ods stay refused until their containers
get limits of their own.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import structlog

from adapters._csv import CsvRows
from adapters._encoding import SNIFF_BYTES, Decision, decide, label, scan_file
from adapters._table import Table, blank, column_names, extra_name, find_header
from adapters._workbook import open_xlsx
from hub.adapter import Adapter, Features, SourceContext
from hub.errors import FatalSourceError
from hub.records import Checkpoint, RawRecord
from hub.standardize.persian_text import header_key

__all__ = ["SpreadsheetAdapter", "SpreadsheetSettings"]

log = structlog.get_logger("peyvand.adapters.spreadsheet")

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
_DELIMITERS = ",;\t|"
_CONTENT_ID_HEX = 12


@dataclass(frozen=True)
class SpreadsheetSettings:
    """Where the file is and how to read it.

    A record's source id is what tells a changed record from a new one across runs, so
    choose it with care. A real id column (a customer code) is best: it survives rows
    inserted, deleted, reordered and edited. Without one, ``row_ids`` decides:
    ``content`` (the default) ids a row by a hash of its values, so inserting or deleting
    rows moves no other record, but an edited row is a new record (the old one stays until
    deletions are supported), and identical rows share one id (they are the same record);
    ``position`` ids it by its row, so an edit stays the same record, but a row inserted or
    deleted above shifts the id of every row below it, each then read as changed.

    Args:
        path: the file; a relative path resolves against the pipeline file's folder.
        sheet: XLSX worksheet name; None picks the first visible worksheet.
        header_row: 1-based header row; None finds it (the first row with at least two
            non-empty cells, mostly text); 0 means the file has no header row and the
            columns are named ``column_1``, ``column_2``...
        id_column: the column holding the record's stable id, or a list of columns whose
            values together are the id (joined with ``|``). A row whose id cells are all
            empty gets an id by ``row_ids``.
        row_ids: ids of rows without an id: ``content`` gives ``"<file name>:<12 hex>"``
            from the row's values, ``position`` gives ``"<file name>:row <n>"``.
        encoding: CSV text encoding; None decides it per file (see the module docstring).
        delimiter: CSV delimiter; None sniffs one of ``, ; tab |``.
    """

    path: str
    sheet: str | None = None
    header_row: int | None = None
    id_column: str | tuple[str, ...] | None = None
    row_ids: Literal["content", "position"] = "content"
    encoding: str | None = None
    delimiter: str | None = None


class SpreadsheetAdapter(Adapter):
    """Yields one RawRecord per non-empty row under the header of a CSV or XLSX file."""

    name: ClassVar[str] = "spreadsheet"
    Settings: ClassVar[type] = SpreadsheetSettings
    features: ClassVar[Features] = Features(incremental=True, estimate=True)
    # A file on a network share times out or is briefly locked; the next run may read it.
    transient_errors: ClassVar[tuple[type[BaseException], ...]] = (TimeoutError, BlockingIOError)

    def __init__(self, settings: SpreadsheetSettings, *, context: SourceContext) -> None:
        super().__init__(settings, context=context)
        self.detected_encoding: str | None = None
        self._hash: str | None = None
        self._prepared: Table | None = None

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        return _option_problems(options)

    @property
    def path(self) -> Path:
        """The file, resolved against the pipeline's folder."""
        return self.context.base_dir / Path(self.settings.path).expanduser()

    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        try:
            table, self._prepared = self._prepared or self._open(), None
            resume = self._resume_row(checkpoint)
            id_indexes = self._id_indexes(table.names)
            file_name = self.path.name
            for row in table.rows:
                if row.number <= resume or (row.problem is None and _blank_row(row.values)):
                    continue
                yield RawRecord(self._source_id(file_name, row.values, id_indexes,
                                                row.number),
                                _data(table, row.values), f"{table.label} row {row.number}",
                                Checkpoint(f"{self._hash}:{row.number}"), row.problem)
        except OSError as exc:
            if isinstance(exc, self.transient_errors):
                raise  # ``read`` reports it as SourceUnavailable
            raise self._os_error(exc) from exc

    def estimate_total(self, checkpoint: Checkpoint | None) -> int | None:
        """Rows under the header (blank ones included) after the checkpoint's row."""
        if self._prepared is None:
            self._prepared = self._open()
        table = self._prepared
        return max(table.total - max(self._resume_row(checkpoint) - table.header_row, 0), 0)

    # -- opening -----------------------------------------------------------------------

    def _open(self) -> Table:
        path = self.path
        if not path.exists():
            raise FatalSourceError(f"{path}: no such file; check options.path.")
        if not path.is_file():
            raise FatalSourceError(f"{path}: is not a file; options.path must name a file.")
        suffix = path.suffix.lower()
        if suffix not in CSV_SUFFIXES | XLSX_SUFFIXES:
            raise FatalSourceError(
                f"{path}: the {suffix or 'extension-less'} format is not supported yet; "
                "export the file as XLSX or CSV.")
        try:
            if suffix in XLSX_SUFFIXES:
                self._hash = _digest(path)
                return open_xlsx(path, self.settings.sheet, self.settings.header_row)
            return self._open_csv(path)
        except OSError as exc:
            if isinstance(exc, self.transient_errors):
                raise  # ``read`` reports it as SourceUnavailable
            raise self._os_error(exc) from exc

    def _open_csv(self, path: Path) -> Table:
        scan = scan_file(path)
        if scan.empty:
            raise FatalSourceError(f"{path}: the file is empty (not even a header row); "
                                   "check the export that wrote it.")
        self._hash = scan.digest
        wanted = self.settings.encoding
        decision = Decision(wanted, "options.encoding") if wanted else decide(scan)
        encoding = self.detected_encoding = codecs.lookup(decision.encoding).name
        log.info("spreadsheet encoding", file=path.name, encoding=encoding,
                 decided_by=decision.reason, utf8_lines=scan.utf8_lines,
                 other_lines=scan.other_lines)
        delimiter = self.settings.delimiter or _sniff_delimiter(
            scan.head[:SNIFF_BYTES].decode(encoding, errors="replace"), path.suffix.lower())
        rows = CsvRows(path, encoding, delimiter, label(encoding))
        numbered = iter(rows)
        header = find_header(numbered, self.settings.header_row, str(path),
                             " Check options.encoding (and options.header_row).")
        names, named_width = column_names(header.values)
        rows.columns = named_width
        return Table(path.name, names, named_width, numbered,
                     max(scan.lines - header.number, 0), header.number)

    # -- per record ----------------------------------------------------------------------

    def _id_indexes(self, names: list[str]) -> list[int]:
        wanted = self.settings.id_column
        columns = [] if wanted is None else [wanted] if isinstance(wanted, str) else wanted
        return [self._column_index(names, column) for column in columns]

    def _column_index(self, names: list[str], wanted: str) -> int:
        if wanted in names:
            return names.index(wanted)
        # Integrators type Persian ی/ک; exports such as Holoo's write Arabic ي/ك.
        folded = [header_key(n) for n in names]
        if header_key(wanted) in folded:
            return folded.index(header_key(wanted))
        raise FatalSourceError(
            f"{self.path}: options.id_column {wanted!r} is not a column; the columns are "
            f"{', '.join(repr(n) for n in names)}.")

    def _source_id(self, file_name: str, values: Sequence[Any], id_indexes: list[int],
                   n: int) -> str:
        parts = [values[i] if i < len(values) else None for i in id_indexes]
        if parts and not _blank_row(parts):
            return "|".join("" if blank(p) else str(p).strip() for p in parts)
        # No id, or an empty one: never drop the row for it.
        if self.settings.row_ids == "position":
            return f"{file_name}:row {n}"
        return f"{file_name}:{_content_hash(values)}"

    def _resume_row(self, checkpoint: Checkpoint | None) -> int:
        """The row to resume after: the stored one while the file is unchanged, else 0."""
        if checkpoint is None:
            return 0
        digest, _, row = checkpoint.value.partition(":")
        if digest != self._hash or not row.isdigit():
            # The file changed: read it again from the top. Rows already delivered come
            # again, and downstream idempotency (source id + content hash) drops them.
            return 0
        return int(row)

    def _os_error(self, exc: OSError) -> BaseException:
        if isinstance(exc, FileNotFoundError):
            return FatalSourceError(f"{self.path}: no such file; check options.path.")
        return FatalSourceError(f"{self.path}: cannot be read: {exc.strerror or exc}.")


def _data(table: Table, values: Sequence[Any]) -> dict[str, Any]:
    """A row's cells by column name; filled cells right of the header are kept too."""
    data: dict[str, Any] = dict(zip(table.names[:table.named_width], values, strict=False))
    for i in range(table.named_width, len(values)):
        if values[i] is not None:
            data[extra_name(table.names, i)] = values[i]
    for name in table.names[len(values):table.named_width]:
        data[name] = None  # a short CSV line: the missing cells are empty
    return data


def _content_hash(values: Sequence[Any]) -> str:
    """A short hash of a row's values in column order; trailing empty cells do not count
    (``a,b`` and ``a,b,,`` are the same row)."""
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    blob = json.dumps(list(values[:end]), ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:_CONTENT_ID_HEX]


def _blank_row(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:16]


def _sniff_delimiter(text: str, suffix: str) -> str:
    """The delimiter that cuts the first lines into the steadiest number of columns.

    Each candidate parses the sample as CSV (quotes respected, so a tab or a comma inside
    a quoted cell does not count); the one whose rows most often share one width wins,
    the wider on a tie. csv.Sniffer was thrown off by a tab inside one quoted cell.
    """
    sample = text[:text.rfind("\n") + 1] or text  # whole lines only
    best: tuple[tuple[float, int], str] | None = None
    for delimiter in _DELIMITERS:
        try:
            rows = list(itertools.islice(csv.reader(io.StringIO(sample), delimiter=delimiter),
                                         50))
        except csv.Error:
            continue
        widths = [len(row) for row in rows if any(cell.strip() for cell in row)]
        if not widths or max(widths) < 2:
            continue
        width, agreeing = Counter(widths).most_common(1)[0]
        score = (agreeing / len(widths), width)
        if best is None or score > best[0]:
            best = (score, delimiter)
    return best[1] if best else ("\t" if suffix == ".tsv" else ",")


def _option_problems(options: Mapping[str, Any]) -> list[str]:
    """What is wrong with options of the right type (the types are checked already)."""
    problems = []
    header_row, delimiter = options.get("header_row"), options.get("delimiter")
    if isinstance(header_row, int) and header_row < 0:
        problems.append("options.header_row: must be 1 or more (0: the file has no header).")
    if isinstance(delimiter, str) and len(delimiter) != 1:
        problems.append(f"options.delimiter: must be one character, got {delimiter!r}.")
    id_column = options.get("id_column")
    if isinstance(id_column, list | tuple) and (
            not id_column or any(not str(c).strip() for c in id_column)):
        problems.append("options.id_column: a list of columns must name at least one, "
                        "none of them empty.")
    path = options.get("path")
    if options.get("sheet") is not None and isinstance(path, str) \
            and Path(path).suffix.lower() in CSV_SUFFIXES:
        problems.append("options.sheet: a CSV file has no sheets.")
    encoding = options.get("encoding")
    if isinstance(encoding, str):
        try:
            codecs.lookup(encoding)
        except LookupError:
            problems.append(f"options.encoding: unknown encoding {encoding!r}.")
    return problems
