"""XML documents from a drop folder: ERP exports (UBL parties, IDocs, any XML).

Features: incremental: the files done, by path and content hash (below); deletions: no;
estimate: no (counting records means parsing every pending file, which is the read);
payload: xml (each record is an lxml element, mapped by an XSLT or a YAML ``xpath``
mapping).

Connection: options.path, a glob relative to the pipeline file (``exports/*.xml``,
``exports/**/*.xml``).

Each file is parsed whole with a hardened parser (no entities, DTDs, network or huge
trees) after its size is checked against ``max_file_mb``; ``record_xpath`` picks the
records, and each record is a standalone copy of its element, as it will be when a
quarantined record is replayed. A file that cannot be read becomes one record with a
``problem`` (quarantined, the next files go on): not well-formed (with line and column),
an internal DTD (entity declarations: XXE, billion laughs), or too big.

**A file is never read twice.** The checkpoint is a ledger of the files done: name,
size, mtime and content hash (``adapters._xml_ledger``). On the next run a file whose
size and mtime are those of the ledger is skipped without being opened; one whose stat
differs is hashed, and skipped if its content was read already (touched, copied back,
renamed). Otherwise it is read whole, so **a new version of a file with the same name is
read again**: its records keep their ids (``INV-7.xml#1``...) and replace the old
version's, which the engine sees as changed records (unchanged ones as unchanged); a
record the new version no longer holds stays as it was (no deletions). Files are read
oldest first (mtime, then name), so a later export wins. Within a file, the ledger notes
how many records were delivered, so a run stopped mid-file resumes after the last record
committed. Why not a watermark (the mtime of the last file done)? A file moved into the
folder keeps its mtime (``mv``, ``rsync -a``, unzip): an export written at 10:00 and
dropped at 10:05, after a run at 10:03 had passed 10:02, would be skipped forever. A
ledger cannot skip a file it has not seen. Its cost: the checkpoint holds one entry per
file in the folder (about 60 bytes; files removed from the folder leave it), written
once per committed batch, not per record; archive processed files to keep it small.

**A file still being written is not read**: files modified in the last
``settle_seconds`` wait for the next run, and temporary names are never read (``*.part``,
``*.tmp``, ``*.crdownload``, ``*~``, ``~$*``, dot files and dot folders). Writers that
write under a temporary name and rename when done are safe whatever the timing.

**Source ids**: ``<file>#<n>`` (the n-th record of the file, from 1) unless ``id_xpath``
finds an id in the record. File ids are unique and stable, and a new version of the file
replaces its records; but the same customer in a hundred invoices is a hundred source
records (linked into one customer by matching). An id from the record (UBL:
``cbc:EndpointID``) makes it one source record, updated by each document, which suits a
customer master export; but one id on two records of one run with different content is
a conflict the engine quarantines, which is what transactional documents (invoices,
orders) produce. A record without the id falls back to ``<file>#<n>``.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import structlog
from lxml import etree

from adapters._xml_folder import (
    Candidate,
    candidates,
    digest,
    parse,
    read_bytes,
    settled,
    split_glob,
)
from adapters._xml_ledger import Ledger, Mark, Position, Run, read_checkpoint
from hub.adapter import Adapter, Features, PayloadKind
from hub.errors import FatalSourceError
from hub.mapping.xslt_mapping import compile_xpath, xpath_texts
from hub.records import Checkpoint, RawRecord

__all__ = ["XmlFilesAdapter", "XmlFilesSettings"]

log = structlog.get_logger("peyvand.adapters.xml_files")
_MB = 1024 * 1024


@dataclass(frozen=True)
class XmlFilesSettings:
    """Where the files are and what a record is.

    Args:
        path: a glob of the files, relative to the pipeline file's folder
            (``exports/*.xml``; ``**`` reaches into subfolders).
        record_xpath: selects the records in each document; None: the root element is
            one record. UBL parties: ``//cac:AccountingCustomerParty/cac:Party |
            //cac:BuyerCustomerParty/cac:Party``.
        namespaces: prefix -> namespace URI for the XPath settings (and only for them:
            a mapping declares its own).
        id_xpath: the record's id, relative to the record (UBL: ``cbc:EndpointID``);
            None: ``<file>#<n>``. See "Source ids" in the module docstring.
        settle_seconds: a file modified more recently than this is left for the next run.
        max_file_mb: a bigger file is refused unread (quarantined with the reason): it is
            parsed whole, in memory.
    """

    path: str
    record_xpath: str | None = None
    namespaces: dict[str, str] = field(default_factory=dict)
    id_xpath: str | None = None
    settle_seconds: float = 5.0
    max_file_mb: int = 100


class XmlFilesAdapter(Adapter):
    """Records of the XML files in a drop folder, each file read once."""

    name: ClassVar[str] = "xml_files"
    Settings: ClassVar[type] = XmlFilesSettings
    features: ClassVar[Features] = Features(incremental=True, payload=PayloadKind.XML)
    # A folder on a network share times out or is briefly locked; the next run may read it.
    transient_errors: ClassVar[tuple[type[BaseException], ...]] = (TimeoutError, BlockingIOError)

    settings: XmlFilesSettings

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        return _option_problems(options)

    @functools.cached_property
    def _xpaths(self) -> tuple[etree.XPath | None, etree.XPath | None]:
        """record_xpath and id_xpath, compiled once (they were checked with the options)."""
        record, key, ns = self.settings.record_xpath, self.settings.id_xpath, \
            self.settings.namespaces
        return (compile_xpath(record, ns) if record else None,
                compile_xpath(key, ns) if key else None)

    @property
    def folder_and_pattern(self) -> tuple[Path, str]:
        """The glob's fixed folder (resolved against the pipeline's) and the pattern below."""
        folder, pattern = split_glob(Path(self.settings.path).expanduser())
        return self.context.base_dir / folder, pattern

    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        ledger = read_checkpoint(checkpoint)
        folder, pattern = self.folder_and_pattern
        if not folder.is_dir():
            raise FatalSourceError(f"{folder}: no such folder; check options.path.")
        files, present = candidates(folder, pattern)
        run = Run({n: m for n, m in ledger.done.items() if n in present})
        seen = ledger.digests
        for file in files:
            if not settled(file, self.settings.settle_seconds):
                log.info("xml file not settled yet", file=file.name)
                continue
            yield from self._file(file, ledger, run, seen)

    def _file(self, file: Candidate, ledger: Ledger, run: Run, seen: set[str]
              ) -> Iterator[RawRecord]:
        """The records of one file not done yet; the ledger learns it is done."""
        done = ledger.done.get(file.name)
        if done is not None and done.same_stat(file.size, file.mtime_ns):
            return
        if file.size > self.settings.max_file_mb * _MB:
            yield from self._refused(file, run, Mark(file.size, file.mtime_ns, ""),
                                     f"{file.size / _MB:.1f} MB, over options.max_file_mb "
                                     f"({self.settings.max_file_mb} MB); split the export "
                                     "or raise the limit")
            return
        data = self._read(file)
        if data is None:
            return
        mark = Mark(len(data), file.mtime_ns, digest(data))
        if mark.digest in seen:   # this content was read already, under this name or another
            run.finish(file.name, mark)
            return
        seen.add(mark.digest)
        if len(data) > self.settings.max_file_mb * _MB:   # it grew since it was listed
            yield from self._refused(file, run, mark, "over options.max_file_mb")
            return
        tree, problem = parse(data)
        if tree is None:
            yield from self._refused(file, run, mark, problem or "unreadable")
            return
        at = ledger.at
        skip = at.delivered if at and at.name == file.name and at.mark.digest == mark.digest \
            else 0
        yield from self._records(file, tree, mark, run, skip)

    def _read(self, file: Candidate) -> bytes | None:
        try:
            return read_bytes(file.path, self.settings.max_file_mb * _MB)
        except FileNotFoundError:
            return None   # moved away since the listing
        except PermissionError as exc:
            # Windows shares lock a file while its writer holds it: try again next run.
            log.warning("xml file cannot be opened; left for the next run", file=file.name,
                        error=str(exc))
            return None
        except OSError as exc:
            if isinstance(exc, self.transient_errors):
                raise  # ``read`` reports it as SourceUnavailable
            raise FatalSourceError(f"{file.path}: cannot be read: {exc.strerror or exc}.") \
                from exc

    def _records(self, file: Candidate, tree: etree._ElementTree, mark: Mark, run: Run,
                 skip: int) -> Iterator[RawRecord]:
        elements = self._select(file, tree)
        if not elements:
            log.info("xml file holds no records", file=file.name,
                     record_xpath=self.settings.record_xpath)
        id_xpath = self._xpaths[1]
        for n, element in enumerate(elements, start=1):
            if n == len(elements):
                run.finish(file.name, mark)
            if n <= skip:
                continue
            record = element
            if element.getparent() is not None:
                record = copy.deepcopy(element)   # standalone, as a replayed record is
                record.tail = None
            found = xpath_texts(id_xpath, record) if id_xpath is not None else []
            checkpoint = run.checkpoint(None if n == len(elements)
                                        else Position(file.name, mark, n))
            yield RawRecord(found[0] if found else f"{file.name}#{n}", record,
                            f"{file.name} record {n} (line {element.sourceline})", checkpoint)
        if not elements:
            run.finish(file.name, mark)

    def _select(self, file: Candidate, tree: etree._ElementTree) -> list[etree._Element]:
        record_xpath = self._xpaths[0]
        if record_xpath is None:
            return [tree.getroot()]
        found = record_xpath(tree)
        items = found if isinstance(found, list) else [found]
        if not all(isinstance(item, etree._Element) for item in items):
            raise FatalSourceError(f"options.record_xpath selects text or numbers in "
                                   f"{file.name}, not elements; make it select the records' "
                                   "elements.")
        return [item for item in items if isinstance(item, etree._Element)]

    @staticmethod
    def _refused(file: Candidate, run: Run, mark: Mark, why: str) -> Iterator[RawRecord]:
        """One record standing for a file that cannot be read: the engine quarantines it
        with the reason; a new version of the file is read again."""
        run.finish(file.name, mark)
        stub = etree.Element("unread-file", file=file.name, size=str(file.size))
        if mark.digest:
            stub.set("sha256", mark.digest)
        yield RawRecord(file.name, stub, file.name, run.checkpoint(),
                        f"{file.name} was not read: {why}.")


def _option_problems(options: Mapping[str, Any]) -> list[str]:
    """What is wrong with options of the right type (the types are checked already)."""
    problems = []
    namespaces = options.get("namespaces", {})
    if isinstance(namespaces, Mapping):
        if not all(isinstance(k, str) and isinstance(v, str) and v
                   for k, v in namespaces.items()):
            problems.append("options.namespaces: must map each prefix to a namespace URI.")
            namespaces = {}
        for key in ("record_xpath", "id_xpath"):
            expression = options.get(key)
            if isinstance(expression, str):
                try:
                    compile_xpath(expression, namespaces)
                except ValueError as exc:
                    problems.append(f"options.{key}: {exc}.")
    settle, limit = options.get("settle_seconds"), options.get("max_file_mb")
    if isinstance(settle, int | float) and not isinstance(settle, bool) and settle < 0:
        problems.append("options.settle_seconds: must be 0 or more.")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit < 1:
        problems.append("options.max_file_mb: must be 1 or more.")
    path = options.get("path")
    if isinstance(path, str) and not path.strip():
        problems.append("options.path: must name the files, e.g. exports/*.xml.")
    return problems
