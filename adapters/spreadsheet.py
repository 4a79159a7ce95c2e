"""Customer rows from one spreadsheet file, CSV or XLSX.

Features: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, Windows-1256; delimiter sniffed),
XLSX; incremental: file hash + row (a changed file is read again from the top, and
unchanged rows are recognised downstream); deletions: no; estimate: yes.

Connection: options.path

Rows are numbered as a spreadsheet program shows them (1-based, header line included), so
``accounting_customers.csv row 17`` is row 17 when the file is opened in Excel. XLSX files
are loaded whole (``read_only=False``): only then does openpyxl expose merged ranges, which
merged header cells need. That costs memory in the order of 50 times the file size, fine
for customer exports of tens of thousands of rows; a streaming read-only mode for larger
files (reading the merged ranges from the sheet XML itself) is a later concern.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import hashlib
import itertools
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import charset_normalizer
import openpyxl

from hub.adapter import Adapter, Features, SourceContext
from hub.errors import FatalSourceError
from hub.records import Checkpoint, RawRecord
from hub.standardize.persian_text import header_key

__all__ = ["SpreadsheetAdapter", "SpreadsheetSettings"]

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
_SNIFF_BYTES = 64 * 1024
_HEADER_SCAN_ROWS = 50
_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class SpreadsheetSettings:
    """Where the file is and how to read it.

    Args:
        path: the file; a relative path resolves against the pipeline file's folder.
        sheet: XLSX worksheet name; None picks the first visible worksheet.
        header_row: 1-based header row; None finds it (the first row with at least two
            non-empty cells, mostly text); 0 means the file has no header row and the
            columns are named ``column_1``, ``column_2``...
        id_column: the column holding the record's stable id; None uses
            ``"<file name>:row <n>"``.
        encoding: CSV text encoding; None detects it (BOM, UTF-8, then Windows-1256).
        delimiter: CSV delimiter; None sniffs one of ``, ; tab |``.
    """

    path: str
    sheet: str | None = None
    header_row: int | None = None
    id_column: str | None = None
    encoding: str | None = None
    delimiter: str | None = None


@dataclass
class _Table:
    """An opened sheet: its column names and an iterator of (row number, values)."""

    label: str
    names: list[str]
    named_width: int  # columns up to the last non-empty header cell; later ones only if filled
    rows: Iterator[tuple[int, Sequence[Any]]]
    total: int        # rows under the header, blank ones included
    header_row: int   # 0: the file has no header


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
        self._prepared: _Table | None = None

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        return _option_problems(options)

    @property
    def path(self) -> Path:
        """The file, resolved against the pipeline's folder."""
        return self.context.base_dir / Path(self.settings.path).expanduser()

    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        table, self._prepared = self._prepared or self._open(), None
        resume = self._resume_row(checkpoint)
        id_index = self._id_index(table.names)
        last_read = 0
        try:
            for n, values in table.rows:
                last_read = n
                if n <= resume or all(_blank(v) for v in values):
                    continue
                data: dict[str, Any] = dict(zip(table.names[:table.named_width], values,
                                                strict=False))
                for i in range(table.named_width, len(values)):
                    if values[i] is not None:
                        data[_extra_name(table.names, i)] = values[i]
                for name in table.names[len(values):table.named_width]:
                    data[name] = None  # a short CSV line: the missing cells are empty
                yield RawRecord(self._source_id(values, id_index, n), data,
                                f"{table.label} row {n}", Checkpoint(f"{self._hash}:{n}"))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise FatalSourceError(
                f"{self.path}: cannot read the row after row {last_read} "
                f"(encoding {self.detected_encoding}): {exc}. Check options.encoding."
            ) from exc
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

    def _open(self) -> _Table:
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
                return self._open_xlsx(path)
            return self._open_csv(path)
        except OSError as exc:
            if isinstance(exc, self.transient_errors):
                raise  # ``read`` reports it as SourceUnavailable
            raise self._os_error(exc) from exc
        except (UnicodeDecodeError, csv.Error) as exc:
            raise FatalSourceError(
                f"{path}: cannot read its first rows (encoding {self.detected_encoding}): "
                f"{exc}. Check options.encoding.") from exc

    def _open_csv(self, path: Path) -> _Table:
        scan = _scan_bytes(path)
        self._hash = scan.digest
        encoding = self.settings.encoding or _detect_encoding(scan)
        self.detected_encoding = codecs.lookup(encoding).name
        delimiter = self.settings.delimiter or _sniff_delimiter(
            scan.head.decode(encoding, errors="replace"), path.suffix.lower())
        numbered = enumerate(_csv_rows(path, encoding, delimiter), start=1)
        header_row, header = self._find_header(numbered, str(path))
        names, named_width = _column_names(header)
        return _Table(path.name, names, named_width, numbered,
                      max(scan.lines - header_row, 0), header_row)

    def _open_xlsx(self, path: Path) -> _Table:
        self._hash = _scan_bytes(path, head_size=0).digest
        try:
            with warnings.catch_warnings():
                # openpyxl warns about parts it drops (extensions, slicers): not our data.
                warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
                book = openpyxl.load_workbook(path, read_only=False, data_only=True)
        except OSError:
            raise
        except Exception as exc:  # BadZipFile, KeyError, ParseError...: a damaged file
            raise FatalSourceError(f"{path}: cannot be read as an XLSX workbook: "
                                   f"{type(exc).__name__}: {exc}") from exc
        sheet = self._pick_sheet(book, path)
        width = sheet.max_column
        numbered = ((r[0].row, r) for r in sheet.iter_rows(min_row=1, max_col=width))
        cells = ((n, [c.value for c in row]) for n, row in numbered)
        header_row, header = self._find_header(cells, f"{path} sheet {sheet.title}")
        if header_row == 0:  # no header: every column by its position, as CSV rows get
            names, named_width = [f"column_{i}" for i in range(1, width + 1)], width
        else:
            header = _spread_merged(sheet, header_row, header)
            names, named_width = _column_names([_json_safe(v) for v in header])
        rows = ((row[0].row, [_cell_value(c) for c in row])
                for row in sheet.iter_rows(min_row=header_row + 1, max_col=width))
        return _Table(f"{path.name} sheet {sheet.title}", names, named_width, rows,
                      max(sheet.max_row - header_row, 0), header_row)

    def _pick_sheet(self, book: Any, path: Path) -> Any:
        wanted = self.settings.sheet
        if wanted is None:
            for sheet in book.worksheets:  # chart sheets are not in .worksheets
                if sheet.sheet_state == "visible":
                    return sheet
            raise FatalSourceError(f"{path}: has no visible worksheet; set options.sheet.")
        worksheets = {s.title: s for s in book.worksheets}
        if wanted in worksheets:
            return worksheets[wanted]
        if wanted in book.sheetnames:
            raise FatalSourceError(f"{path}: sheet {wanted!r} is a chart sheet, not a "
                                   "worksheet; set options.sheet to a worksheet.")
        known = ", ".join(repr(t) for t in worksheets)
        raise FatalSourceError(f"{path}: has no sheet {wanted!r}; its worksheets are {known}.")

    def _find_header(self, rows: Iterator[tuple[int, Sequence[Any]]],
                     where: str) -> tuple[int, Sequence[Any]]:
        """Consume ``rows`` through the header row; return its number and raw cells."""
        wanted = self.settings.header_row
        if wanted == 0:
            return 0, []
        for n, values in itertools.islice(rows, wanted or _HEADER_SCAN_ROWS):
            if n == wanted or (wanted is None and _looks_like_header(values)):
                return n, values
        if wanted is not None:
            raise FatalSourceError(f"{where}: has no row {wanted} (options.header_row).")
        raise FatalSourceError(
            f"{where}: no header row found in the first {_HEADER_SCAN_ROWS} rows (a row with "
            "at least two non-empty cells, mostly text); set options.header_row, or 0 when "
            "the file has no header.")

    # -- per record ----------------------------------------------------------------------

    def _id_index(self, names: list[str]) -> int | None:
        wanted = self.settings.id_column
        if wanted is None:
            return None
        if wanted in names:
            return names.index(wanted)
        # Integrators type Persian ی/ک; exports such as Holoo's write Arabic ي/ك.
        folded = [header_key(n) for n in names]
        if header_key(wanted) in folded:
            return folded.index(header_key(wanted))
        raise FatalSourceError(
            f"{self.path}: options.id_column {wanted!r} is not a column; the columns are "
            f"{', '.join(repr(n) for n in names)}.")

    def _source_id(self, values: Sequence[Any], id_index: int | None, n: int) -> str:
        value = values[id_index] if id_index is not None and id_index < len(values) else None
        if _blank(value):
            return f"{self.path.name}:row {n}"  # never drop a row for a missing id
        return str(value).strip()

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


# -- CSV helpers ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scan:
    digest: str
    lines: int
    head: bytes
    utf8: bool
    bad_window: bytes


def _scan_bytes(path: Path, head_size: int = _SNIFF_BYTES) -> _Scan:
    """One pass over the file: its hash, line count, first bytes and UTF-8 validity."""
    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    head, window = b"", b""
    lines, utf8, last = 0, True, b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
            lines += chunk.count(b"\n")
            if len(head) < head_size:
                head += chunk[:head_size - len(head)]
            if utf8 and head_size:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8, start = False, exc.start
                    window = chunk[start - start % 2:start + _SNIFF_BYTES]
            last = chunk[-1:]
    if utf8 and head_size:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    lines += 1 if last not in (b"", b"\n") else 0
    return _Scan(sha.hexdigest()[:16], lines, head, utf8, window)


def _detect_encoding(scan: _Scan) -> str:
    """BOM, then UTF-16 without BOM, strict UTF-8, charset-normalizer, Windows-1256."""
    head = scan.head
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:  # text files have no NUL; ASCII in UTF-16 does
        odd = head[1::2].count(0)
        return "utf-16-le" if odd >= head[0::2].count(0) else "utf-16-be"
    if scan.utf8:
        return "utf-8"
    best = charset_normalizer.from_bytes(
        head + scan.bad_window, cp_isolation=["cp1256", "utf_8", "utf_16"]).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        # Not UTF-8 after all: Windows-1256 is what Persian Windows software writes, and it
        # decodes every byte, so a wrong guess shows as odd letters, not as a crash.
        return "cp1256"
    return str(best.encoding)


def _sniff_delimiter(text: str, suffix: str) -> str:
    sample = text[:text.rfind("\n") + 1] or text  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:  # ragged rows defeat the sniffer: count on the first line instead
        first = sample.lstrip("\r\n\ufeff").splitlines()[0] if sample.strip() else ""
        count, best = max((first.count(d), d) for d in _DELIMITERS)
        return best if count else ("\t" if suffix == ".tsv" else ",")


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[list[str | None]]:
    with path.open(encoding=encoding, newline="") as handle:
        for row in csv.reader(handle, delimiter=delimiter):
            yield [_csv_value(v) for v in row]


def _csv_value(text: str) -> str | None:
    text = text.removesuffix("\r")  # a stray CR of a CR CR LF line end
    return text or None


# -- XLSX helpers -----------------------------------------------------------------------


def _spread_merged(sheet: Any, header_row: int, header: Sequence[Any]) -> list[Any]:
    """Give every column a merged header cell spans its value (suffixed _2, _3...)."""
    cells: list[Any] = list(header)
    for merged in sheet.merged_cells.ranges:
        if not merged.min_row <= header_row <= merged.max_row:
            continue
        value = sheet.cell(merged.min_row, merged.min_col).value
        if _blank(value):
            continue
        for col in range(merged.min_col, min(merged.max_col, len(cells)) + 1):
            k = col - merged.min_col + 1
            cells[col - 1] = value if k == 1 else f"{_json_safe(value)}_{k}"
    return cells


def _cell_value(cell: Any) -> Any:
    value = cell.value
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and not any(
            ch in str(cell.number_format).lower() for ch in "hs"):
        return value.date().isoformat()  # a date cell: Excel has no date-only type
    return _json_safe(value)


def _json_safe(value: Any) -> Any:
    """A cell value as JSON can carry it: dates as ISO text, whole floats as int."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return value or None
    if isinstance(value, float):
        return int(value) if value.is_integer() else value  # 9121234567.0 was typed digits
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _iso_duration(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def _iso_duration(delta: dt.timedelta) -> str:
    sign = "-" if delta < dt.timedelta(0) else ""
    delta = abs(delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    secs = f"{seconds}.{delta.microseconds:06d}".rstrip("0").rstrip(".")
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M")) if v)
    time += f"{secs}S" if seconds or delta.microseconds else ""
    days = f"{delta.days}D" if delta.days else ""
    return f"{sign}P{days}{'T' + time if time else ''}" if days or time else "PT0S"


# -- shared helpers ---------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _looks_like_header(values: Sequence[Any]) -> bool:
    filled = [v for v in values if not _blank(v)]
    text = [v for v in filled if isinstance(v, str) and not _is_number(v)]
    return len(filled) >= 2 and 2 * len(text) > len(filled)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def _column_names(header: Sequence[Any]) -> tuple[list[str], int]:
    """Unique names for the header cells: empty ones become column_<n>, repeats get _2.

    Returns the names and how many columns the header covers (through its last
    non-empty cell).
    """
    names: list[str] = []
    seen: set[str] = set()
    width = 0
    for i, raw in enumerate(header):
        name = "" if raw is None else str(raw).strip().strip("\ufeff").strip()
        if name:
            width = i + 1
        name = name or f"column_{i + 1}"
        base, k = name, 1
        while name in seen:
            k += 1
            name = f"{base}_{k}"
        seen.add(name)
        names.append(name)
    return names[:width], width


def _extra_name(names: list[str], index: int) -> str:
    """The name of a filled cell right of the header (it must not be lost)."""
    name = f"column_{index + 1}"
    return name if name not in names else f"{name}_extra"


def _option_problems(options: Mapping[str, Any]) -> list[str]:
    """What is wrong with options of the right type (the types are checked already)."""
    problems = []
    header_row, delimiter = options.get("header_row"), options.get("delimiter")
    if isinstance(header_row, int) and header_row < 0:
        problems.append("options.header_row: must be 1 or more (0: the file has no header).")
    if isinstance(delimiter, str) and len(delimiter) != 1:
        problems.append(f"options.delimiter: must be one character, got {delimiter!r}.")
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
