"""What every adapter is: a declaration (name, settings, features) and one generator."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing as t
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path

from hub.errors import ConfigError, SourceUnavailable
from hub.records import Checkpoint, RawRecord


class Adapter(ABC):
    """Base class of the source adapters.

    A subclass declares ``name``, a frozen dataclass ``Settings``, a one-line
    ``features`` text and the ``transient_errors`` of its driver, then writes
    ``extract``. While ``extract`` runs, ``position()`` returns a checkpoint that covers
    every record yielded so far; the pipeline stores it in the same transaction as
    those records, so a restart resumes after them.
    """

    name: t.ClassVar[str]
    Settings: t.ClassVar[type]
    features: t.ClassVar[str] = ""
    transient_errors: t.ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(self, settings: t.Any, *, base_dir: Path | None = None) -> None:
        self.settings = settings
        self.base_dir = base_dir or Path.cwd()

    @classmethod
    def from_options(cls, options: Mapping[str, t.Any], *, where: str,
                     base_dir: Path | None = None) -> Adapter:
        """Build the adapter from a pipeline's ``options``, listing every problem at once."""
        return cls(parse_settings(cls.Settings, options, where=where), base_dir=base_dir)

    @abstractmethod
    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        """Yield the source's records after ``checkpoint`` (all of them when None)."""

    def position(self) -> Checkpoint | None:
        """The checkpoint covering every record yielded so far (None: nothing to keep)."""
        return None

    def estimate_total(self) -> int | None:
        """How many records ``extract`` will yield, when cheap to know (for progress bars)."""
        return None

    def translate(self, exc: BaseException, what: str) -> BaseException:
        """Turn a driver exception into ours: transient ones become SourceUnavailable."""
        if isinstance(exc, self.transient_errors):
            return SourceUnavailable(f"{self.name}: {what}: {exc}")
        return exc


def parse_settings(settings_cls: type, options: Mapping[str, t.Any], *, where: str) -> t.Any:
    """Check ``options`` against a settings dataclass: unknown, missing and mistyped keys."""
    fields = {f.name: f for f in dataclasses.fields(settings_cls)}
    hints = t.get_type_hints(settings_cls)
    problems: list[str] = []
    for key in options:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            problems.append(f"options.{key}: unknown setting.{hint}")
    values: dict[str, t.Any] = {}
    for name, f in fields.items():
        required = (f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING)
        if name not in options:
            if required:
                problems.append(f"options.{name}: required setting is missing.")
            continue
        value = options[name]
        if not _fits(value, hints[name]):
            problems.append(f"options.{name}: expected {_type_name(hints[name])}, "
                            f"got {value!r}.")
        values[name] = value
    if problems:
        raise ConfigError(where, problems)
    return settings_cls(**values)


def _fits(value: t.Any, hint: t.Any) -> bool:
    args = t.get_args(hint)
    if t.get_origin(hint) in (t.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    origin = t.get_origin(hint) or hint
    return isinstance(value, origin)


def _type_name(hint: t.Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
