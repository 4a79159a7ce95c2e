"""The adapter contract: what every source adapter declares and the one generator it writes.

An adapter is a class with a ``name``, a frozen dataclass ``Settings``, typed
``features`` and the ``transient_errors`` of its driver, and one method, ``extract``.
Each record it yields carries the checkpoint the source reaches once that record is
safely stored; the engine, not the adapter, decides which checkpoint a commit covers
(the last record of the batch), so an adapter never has to guess how far the engine got.

Pull sources read their system; push sources (web forms, SMS gateways) write each
request to the store's inbox before answering, and the ``inbox`` adapter reads the inbox
like any other source. Every adapter's tests subclass ``hub.testing.AdapterConformance``.
"""

from __future__ import annotations

import typing as t
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Engine

from hub.errors import ConfigError, SourceUnavailable
from hub.records import Checkpoint, RawRecord
from hub.settings import parse_settings, settings_problems

Self = t.TypeVar("Self", bound="Adapter")


class PayloadKind(StrEnum):
    """What a record's ``data`` is: a mapping of columns, or an XML element."""

    DICT = "dict"
    XML = "xml"


@dataclass(frozen=True, slots=True)
class Features:
    """What an adapter can do; the engine and ``peyvand adapters`` read these.

    Args:
        incremental: resumes after a checkpoint and reads only what is new.
        deletions: reports records that disappeared at the source.
        push: records are pushed to the inbox by ``peyvand serve`` and read from there.
        estimate: counts its records up front (``estimate_total``), for progress bars.
        payload: the kind of ``RawRecord.data`` it yields.
    """

    incremental: bool = False
    deletions: bool = False
    push: bool = False
    estimate: bool = False
    payload: PayloadKind = PayloadKind.DICT

    def describe(self) -> str:
        flags = [f"{f.name}: {'yes' if getattr(self, f.name) else 'no'}"
                 for f in fields(self) if f.name != "payload"]
        return ", ".join([*flags, f"payload: {self.payload}"])


@dataclass(frozen=True, slots=True)
class SourceContext:
    """What an adapter may use besides its settings.

    Args:
        base_dir: relative paths in the settings resolve against this folder (the
            pipeline file's).
        store: the master store, for adapters that read the store's inbox.
        known_ids: the ids of the source's records the master holds open, for adapters
            that find deletions by comparing the source with them (a table read whole,
            a file that is a full snapshot). Given to adapters with ``deletions``.
    """

    base_dir: Path
    store: Engine | None = None
    known_ids: Callable[[], Iterator[str]] | None = None


class Adapter(ABC):
    """Base class of the source adapters.

    The constructor only keeps its arguments: opening the source happens in
    ``extract``, so checking a configuration never touches a source.
    """

    name: t.ClassVar[str]
    Settings: t.ClassVar[type]
    features: t.ClassVar[Features] = Features()
    transient_errors: t.ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(self, settings: t.Any, *, context: SourceContext) -> None:
        self.settings = settings
        self.context = context

    @classmethod
    def from_options(cls: type[Self], options: Mapping[str, t.Any], *, where: str,
                     context: SourceContext) -> Self:
        """Build the adapter from a pipeline's ``options``, listing every problem at once."""
        problems = settings_problems(cls.Settings, options, prefix="options")
        problems += cls.check_options(options)
        if problems:
            raise ConfigError(where, problems)
        return cls(parse_settings(cls.Settings, options, where=where), context=context)

    @classmethod
    def check_options(cls, options: Mapping[str, t.Any]) -> list[str]:
        """Problems only this adapter knows, in options whose types are checked apart:
        look only at values of the expected type. None here."""
        return []

    @abstractmethod
    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        """Yield the source's records after ``checkpoint`` (all of them when None)."""

    def read(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        """``extract``, with the driver's transient errors raised as SourceUnavailable."""
        try:
            yield from self.extract(checkpoint)
        except self.transient_errors as exc:
            raise self._unavailable(exc) from exc

    def total(self, checkpoint: Checkpoint | None) -> int | None:
        """``estimate_total`` where the adapter can tell, with transient errors raised as
        SourceUnavailable (counting is the first time a run reaches its source)."""
        if not self.features.estimate:
            return None
        try:
            return self.estimate_total(checkpoint)
        except self.transient_errors as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: BaseException) -> SourceUnavailable:
        return SourceUnavailable(f"{self.name}: the source is unavailable "
                                 f"({type(exc).__name__}: {exc}); try again later")

    def estimate_total(self, checkpoint: Checkpoint | None) -> int | None:
        """How many records ``extract(checkpoint)`` will yield, when cheap to know.

        None: unknown. Adapters that know declare ``Features(estimate=True)``.
        """
        return None
