"""config.yaml -> frozen settings; ``PEYVAND__SECTION__KEY`` overrides any key.

Each module owns its section (``StoreSettings`` in ``hub.store``, ``BusSettings`` in
``hub.bus``, ``MatchSettings`` in ``hub.matching``, ``SurvivorshipSettings``,
``RunSettings``, ``LogSettings``); this module reads the file, applies the environment,
and checks every section and pipeline, reporting every problem at once. The file holds
URLs and no secrets: a password goes in the environment
(``PEYVAND__STORE__URL=postgresql+psycopg://user:secret@host/db``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hub.bus import BusSettings
from hub.errors import ConfigError
from hub.log import LogSettings
from hub.matching import MatchSettings
from hub.pipeline import RunSettings
from hub.resources import data_dir
from hub.settings import parse_settings, settings_problems, well_typed
from hub.store import StoreSettings
from hub.suggest import did_you_mean
from hub.survivorship import SurvivorshipSettings

ENV_PREFIX = "PEYVAND__"
SECTIONS: tuple[type, ...] = (StoreSettings, BusSettings, MatchSettings,
                              SurvivorshipSettings, RunSettings, LogSettings)
_SECTION_NAMES = {cls.section: cls for cls in SECTIONS}   # type: ignore[attr-defined]
_PIPELINE_KEYS = {"adapter", "options", "mapping", "source_system", "schedule", "description"}
_SOURCE_SYSTEM = re.compile(r"[^\s/]{1,64}")


@dataclass(frozen=True)
class PipelineConfig:
    """One pipeline file: which adapter reads what, and which mapping shapes it."""

    name: str
    path: Path
    adapter: str
    options: Mapping[str, Any]
    mapping: Path
    source_system: str
    schedule: str


@dataclass(frozen=True)
class Config:
    """The whole configuration, checked; each section is its module's settings."""

    path: Path
    store: StoreSettings
    bus: BusSettings
    matching: MatchSettings
    survivorship: SurvivorshipSettings
    run: RunSettings
    log: LogSettings
    pipelines: tuple[PipelineConfig, ...]

    def pipeline(self, name: str) -> PipelineConfig:
        for p in self.pipelines:
            if p.name == name:
                return p
        hint = did_you_mean(name, [p.name for p in self.pipelines])
        raise ConfigError(str(self.path), [f"pipelines: no pipeline {name!r}.{hint}"])


def default_config_path() -> Path:
    """./config.yaml when there is one, else the shipped demo configuration."""
    local = Path("config.yaml")
    return local if local.exists() else data_dir("config.yaml")


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    path = (path or default_config_path()).resolve()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc}"]) from exc
    if not isinstance(doc, dict):
        raise ConfigError(str(path), ["expected sections such as store:, bus:, pipelines:"])
    problems: list[str] = []
    doc = _apply_env(doc, os.environ if environ is None else environ, problems)
    for section in doc:
        if section not in _SECTION_NAMES and section != "pipelines":
            problems.append(f"{section}: unknown section."
                            f"{did_you_mean(str(section), [*_SECTION_NAMES, 'pipelines'])}")
    sections = {name: _section(cls, doc.get(name), problems)
                for name, cls in _SECTION_NAMES.items()}
    pipelines = tuple(p for name in doc.get("pipelines") or []
                      if (p := _load_pipeline(path.parent, str(name), problems)))
    if problems:
        raise ConfigError(str(path), problems)
    return Config(path=path, pipelines=pipelines, **sections)


def _section(cls: type, value: Any, problems: list[str]) -> Any:
    name = cls.section  # type: ignore[attr-defined]
    if value is None:
        return cls()
    if not isinstance(value, dict):
        problems.append(f"{name}: expected keys and values, got {value!r}")
        return cls()
    problems += settings_problems(cls, value, prefix=name)
    # Check what is well typed further, so one run of `peyvand check` lists everything.
    settings: Any = parse_settings(cls, well_typed(cls, value), where=name, prefix=name)
    problems += settings.problems() if hasattr(settings, "problems") else []
    return settings


def _find(base: Path, folder: str, name: str) -> Path | None:
    """A file in the config's own folder first, then the shipped one."""
    for root in (base / folder, data_dir(folder)):
        if (root / name).exists():
            return root / name
    return None


def _load_pipeline(base: Path, name: str, problems: list[str]) -> PipelineConfig | None:
    file = _find(base, "pipelines", f"{name}.yaml")
    if file is None:
        problems.append(f"pipelines: no file pipelines/{name}.yaml")
        return None
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{file}: cannot read the file: {exc}")
        return None
    if not isinstance(doc, dict):
        problems.append(f"{file.name}: expected keys such as adapter:, mapping:")
        return None
    for key in sorted(set(doc) - _PIPELINE_KEYS):
        problems.append(f"{file.name}: {key}: unknown key.{did_you_mean(key, _PIPELINE_KEYS)}")
    for key in ("adapter", "mapping", "source_system"):
        if not doc.get(key):
            problems.append(f"{file.name}: {key}: required")
    system = str(doc.get("source_system") or "")
    if system and not _SOURCE_SYSTEM.fullmatch(system):
        problems.append(f"{file.name}: source_system: {system!r} must be a name of up to 64 "
                        "characters without spaces or '/'")
    mapping = _find(file.parent.parent, "mappings", str(doc.get("mapping", "")))
    if doc.get("mapping") and mapping is None:
        problems.append(f"{file.name}: mapping: no file mappings/{doc['mapping']}")
    if not all(doc.get(k) for k in ("adapter", "mapping", "source_system")) or mapping is None:
        return None
    return PipelineConfig(name=name, path=file, adapter=str(doc["adapter"]),
                          options=dict(doc.get("options") or {}), mapping=mapping,
                          source_system=system, schedule=str(doc.get("schedule", "manual")))


def _apply_env(doc: dict[str, Any], environ: Mapping[str, str],
               problems: list[str]) -> dict[str, Any]:
    """``PEYVAND__STORE__URL=...`` sets ``store.url``; values are read as YAML scalars."""
    doc = {k: (dict(v) if isinstance(v, dict) else v) for k, v in doc.items()}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        if len(parts) != 2:
            problems.append(f"environment {name}: expected PEYVAND__SECTION__KEY")
            continue
        section, key = parts
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        doc.setdefault(section, {})
        if isinstance(doc[section], dict):
            doc[section][key] = value
    return doc
