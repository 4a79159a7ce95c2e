"""One spreadsheet file opened for reading: its content hash, its sheets and their tables,
the same for a CSV file (one sheet without a name) and a workbook."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections import Counter
from pathlib import Path

import structlog

from adapters._csv import CsvRows
from adapters._encoding import SNIFF_BYTES, Decision, decide, label, scan_file
from adapters._files import digest
from adapters._table import Table, column_names, find_header
from adapters._workbook import WORKBOOK_SUFFIXES, Workbook
from hub.errors import FatalSourceError

log = structlog.get_logger("peyvand.adapters.spreadsheet")

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
SUFFIXES = CSV_SUFFIXES | WORKBOOK_SUFFIXES
_DELIMITERS = ",;\t|"


class SheetFile:
    """An opened file. ``sheets`` are the names to read ([None] for CSV); ``table`` opens
    one; ``digest`` is the content hash the checkpoint keeps."""

    digest: str
    sheets: list[str | None]
    encoding: str | None = None

    def table(self, sheet: str | None) -> Table:
        raise NotImplementedError

    def close(self) -> None:
        """Let go of what the file holds open."""


class CsvFile(SheetFile):
    def __init__(self, path: Path, encoding: str | None, delimiter: str | None,
                 header_row: int | None) -> None:
        self.path, self._delimiter, self._header_row = path, delimiter, header_row
        self._scan = scan_file(path)
        if self._scan.empty:
            raise FatalSourceError(f"{path}: the file is empty (not even a header row); "
                                   "check the export that wrote it.")
        self.digest, self.sheets = self._scan.digest, [None]
        decision = Decision(encoding, "options.encoding") if encoding else decide(self._scan)
        self.encoding = codecs.lookup(decision.encoding).name
        log.info("spreadsheet encoding", file=path.name, encoding=self.encoding,
                 decided_by=decision.reason, utf8_lines=self._scan.utf8_lines,
                 other_lines=self._scan.other_lines)

    def table(self, sheet: str | None) -> Table:
        path, scan, encoding = self.path, self._scan, self.encoding or "utf-8"
        delimiter = self._delimiter or sniff_delimiter(
            scan.head[:SNIFF_BYTES].decode(encoding, errors="replace"), path.suffix.lower())
        rows = CsvRows(path, encoding, delimiter, label(encoding))
        numbered = iter(rows)
        header = find_header(numbered, self._header_row, str(path),
                             " Check options.encoding (and options.header_row).")
        names, named_width = column_names(header.values)
        rows.columns = named_width
        return Table(path.name, names, named_width, numbered,
                     max(scan.lines - header.number, 0), header.number)


class WorkbookFile(SheetFile):
    def __init__(self, path: Path, sheet: str | tuple[str, ...] | None,
                 header_row: int | None) -> None:
        self.digest = digest(path)
        self._book = Workbook(path, sheet)
        self.sheets = list(self._book.sheets)
        self._header_row = header_row

    def table(self, sheet: str | None) -> Table:
        return self._book.table(str(sheet), self._header_row)

    def close(self) -> None:
        self._book.close()


def open_file(path: Path, *, sheet: str | tuple[str, ...] | None, header_row: int | None,
              encoding: str | None, delimiter: str | None) -> SheetFile:
    """``path`` opened by its format (FatalSourceError for a missing or unknown one)."""
    if not path.exists():
        raise FatalSourceError(f"{path}: no such file; check options.path.")
    if not path.is_file():
        raise FatalSourceError(f"{path}: is not a file; options.path must name a file.")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return CsvFile(path, encoding, delimiter, header_row)
    if suffix in WORKBOOK_SUFFIXES:
        return WorkbookFile(path, sheet, header_row)
    raise FatalSourceError(f"{path}: the {suffix or 'extension-less'} format is not "
                           "supported; export the file as XLSX, XLS, ODS or CSV.")


def sniff_delimiter(text: str, suffix: str) -> str:
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
