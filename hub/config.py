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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from hub.bus import BusSettings
from hub.errors import ConfigError
from hub.log import LogSettings
from hub.matching import MatchSettings
from hub.pipeline import RunSettings
from hub.records import SOURCE_SYSTEM
from hub.resources import data_dir
from hub.settings import parse_settings, settings_problems, well_typed
from hub.standardize.fields import ATTRIBUTE_TYPES
from hub.store import StoreSettings
from hub.suggest import did_you_mean
from hub.survivorship import SurvivorshipSettings

ENV_PREFIX = "PEYVAND__"
SECTIONS: tuple[type, ...] = (StoreSettings, BusSettings, MatchSettings,
                              SurvivorshipSettings, RunSettings, LogSettings)
_SECTION_NAMES = {cls.section: cls for cls in SECTIONS}   # type: ignore[attr-defined]
_PIPELINE_KEYS = {"adapter", "options", "mapping", "source_system", "source_system_column",
                  "schedule", "description"}
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


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
    source_system_column: str | None = None   # records name their own system here
    attributes: Mapping[str, str] = field(default_factory=dict)   # config's custom ones


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
    attributes: Mapping[str, str] = field(default_factory=dict)

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
    known = [*_SECTION_NAMES, "pipelines", "attributes"]
    for section in doc:
        if section not in known:
            problems.append(f"{section}: unknown section.{did_you_mean(str(section), known)}")
    sections = {name: _section(cls, doc.get(name), problems)
                for name, cls in _SECTION_NAMES.items()}
    attributes = _attributes(doc.get("attributes"), problems)
    pipelines = tuple(replace(p, attributes=attributes) for name in doc.get("pipelines") or []
                      if (p := _load_pipeline(path.parent, str(name), problems)))
    if problems:
        raise ConfigError(str(path), problems)
    return Config(path=path, pipelines=pipelines, attributes=attributes, **sections)


def _attributes(value: Any, problems: list[str]) -> dict[str, str]:
    """``attributes: {loyalty_tier: text, signup_date: date}``: custom attributes a
    mapping may fill (``attributes.attribute:loyalty_tier``), kept on the master."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"attributes: expected names with their types, got {value!r}")
        return {}
    out = {}
    for name, kind in value.items():
        if not isinstance(name, str) or not _ATTRIBUTE_NAME.fullmatch(name):
            problems.append(f"attributes.{name}: a name of letters, digits, '_', '.' or '-', "
                            "starting with a letter")
        elif kind not in ATTRIBUTE_TYPES:
            problems.append(f"attributes.{name}: type must be one of "
                            f"{', '.join(ATTRIBUTE_TYPES)}, got {kind!r}")
        else:
            out[name] = kind
    return out


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
    if system and not SOURCE_SYSTEM.fullmatch(system):
        problems.append(f"{file.name}: source_system: {system!r} must be a name of up to 64 "
                        "characters without spaces or '/'")
    column = doc.get("source_system_column")
    if column is not None and not (isinstance(column, str) and column.strip()):
        problems.append(f"{file.name}: source_system_column: the name of a column, "
                        f"got {column!r}")
    mapping = _find(file.parent.parent, "mappings", str(doc.get("mapping", "")))
    if doc.get("mapping") and mapping is None:
        problems.append(f"{file.name}: mapping: no file mappings/{doc['mapping']}")
    if not all(doc.get(k) for k in ("adapter", "mapping", "source_system")) or mapping is None:
        return None
    return PipelineConfig(name=name, path=file, adapter=str(doc["adapter"]),
                          options=dict(doc.get("options") or {}), mapping=mapping,
                          source_system=system, schedule=str(doc.get("schedule", "manual")),
                          source_system_column=column if isinstance(column, str) else None)


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
