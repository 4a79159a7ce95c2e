"""config.yaml -> frozen settings; ``PEYVAND__SECTION__KEY`` overrides any key.

Every problem is reported at once. The file holds URLs and no secrets: a password goes
in the environment (``PEYVAND__STORE__URL=postgresql+psycopg://user:secret@host/db``).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hub.errors import ConfigError
from hub.matching.compare import MatchRules
from hub.resources import data_dir

ENV_PREFIX = "PEYVAND__"
_SECTIONS = {
    "store": {"url"},
    "bus": {"url"},
    "pipelines": None,
    "matching": {"name_threshold", "min_skeleton"},
    "survivorship": {"source_priority"},
    "run": {"batch_size"},
    "log": {"level", "format"},
}


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
    path: Path
    store_url: str
    bus_url: str
    pipelines: tuple[PipelineConfig, ...]
    rules: MatchRules
    source_priority: tuple[str, ...]
    batch_size: int
    log_level: str
    log_format: str

    def pipeline(self, name: str) -> PipelineConfig:
        for p in self.pipelines:
            if p.name == name:
                return p
        close = difflib.get_close_matches(name, [p.name for p in self.pipelines], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
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
    problems: list[str] = []
    doc = _apply_env(doc, os.environ if environ is None else environ, problems)
    for section, value in doc.items():
        if section not in _SECTIONS:
            close = difflib.get_close_matches(section, _SECTIONS, n=1)
            problems.append(f"{section}: unknown section." +
                            (f" Did you mean {close[0]!r}?" if close else ""))
        elif _SECTIONS[section] and isinstance(value, dict):
            for key in set(value) - _SECTIONS[section]:   # type: ignore[operator]
                problems.append(f"{section}.{key}: unknown key")
    get = lambda section, key, default: (doc.get(section) or {}).get(key, default)  # noqa: E731
    store_url = str(get("store", "url", "sqlite:///.peyvand/master.sqlite"))
    bus_url = str(get("bus", "url", "memory://"))
    rules = MatchRules(name_threshold=float(get("matching", "name_threshold", 88)),
                       min_skeleton=int(get("matching", "min_skeleton", 4)))
    if not 50 <= rules.name_threshold <= 100:
        problems.append("matching.name_threshold: must be between 50 and 100")
    priority = get("survivorship", "source_priority", [])
    if not isinstance(priority, list):
        problems.append("survivorship.source_priority: must be a list of source systems")
        priority = []
    batch_size = get("run", "batch_size", 1000)
    if not isinstance(batch_size, int) or batch_size < 1:
        problems.append("run.batch_size: must be a positive whole number")
        batch_size = 1000
    pipelines = tuple(p for name in doc.get("pipelines") or []
                      if (p := _load_pipeline(path.parent, str(name), problems)))
    if problems:
        raise ConfigError(str(path), problems)
    return Config(path, store_url, bus_url, pipelines, rules, tuple(map(str, priority)),
                  batch_size, str(get("log", "level", "warning")),
                  str(get("log", "format", "auto")))


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
    known = {"adapter", "options", "mapping", "source_system", "schedule", "description"}
    for key in set(doc) - known:
        problems.append(f"{file.name}: {key}: unknown key")
    for key in ("adapter", "mapping", "source_system"):
        if not doc.get(key):
            problems.append(f"{file.name}: {key}: required")
    mapping = _find(file.parent.parent, "mappings", str(doc.get("mapping", "")))
    if doc.get("mapping") and mapping is None:
        problems.append(f"{file.name}: mapping: no file mappings/{doc['mapping']}")
    if not all(doc.get(k) for k in ("adapter", "mapping", "source_system")) or mapping is None:
        return None
    return PipelineConfig(name=name, path=file, adapter=str(doc["adapter"]),
                          options=dict(doc.get("options") or {}), mapping=mapping,
                          source_system=str(doc["source_system"]),
                          schedule=str(doc.get("schedule", "manual")))


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
