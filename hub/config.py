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
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from hub.bus import BusSettings
from hub.errors import ConfigError
from hub.log import LogSettings, mask_url, password_problem
from hub.matching import MatchSettings
from hub.pipeline import RunSettings
from hub.records import SOURCE_SYSTEM
from hub.resources import data_dir
from hub.schedule import MANUAL, ScheduleError, parse_schedule
from hub.serve.settings import ServeSettings
from hub.settings import parse_settings, settings_problems, well_typed
from hub.standardize.fields import ATTRIBUTE_TYPES
from hub.store import StoreSettings
from hub.suggest import did_you_mean
from hub.survivorship import SurvivorshipSettings
from hub.yamlfile import load_yaml

ENV_PREFIX = "PEYVAND__"
CONFIG_ENV = "PEYVAND_CONFIG"   # the config file to use when --config is not given
SECTIONS: tuple[type, ...] = (StoreSettings, BusSettings, MatchSettings,
                              SurvivorshipSettings, RunSettings, LogSettings, ServeSettings)
_SECTION_NAMES = {cls.section: cls for cls in SECTIONS}   # type: ignore[attr-defined]
_PIPELINE_KEYS = {"adapter", "options", "mapping", "source_system", "source_system_column",
                  "schedule", "description"}
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
# Pipeline and mapping names are file names in their folder: no path, no "..".
_FILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_TEXT_KEYS = ("adapter", "mapping", "source_system", "schedule", "description")


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
    serve: ServeSettings
    pipelines: tuple[PipelineConfig, ...]
    attributes: Mapping[str, str] = field(default_factory=dict)

    def pipeline(self, name: str) -> PipelineConfig:
        for p in self.pipelines:
            if p.name == name:
                return p
        hint = did_you_mean(name, [p.name for p in self.pipelines])
        raise ConfigError(str(self.path), [f"pipelines: no pipeline {name!r}.{hint}"])


def find_config(path: Path | None = None,
                environ: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """The configuration file to use, and whether it is the shipped demo's, taken because
    none was named and there is no ./config.yaml.

    A file named by ``path`` (``--config``) or by ``PEYVAND_CONFIG`` must exist: a typo
    must not run the demo against a store of its own.
    """
    environ = os.environ if environ is None else environ
    named, by = (path, "--config") if path else (
        (Path(environ[CONFIG_ENV]), CONFIG_ENV) if environ.get(CONFIG_ENV) else (None, ""))
    if named is not None:
        if not named.is_file():
            raise ConfigError(str(named.absolute()), [
                f"no configuration file there (named by {by}); `peyvand init DIR` starts "
                "a project"])
        return named.resolve(), False
    local = Path("config.yaml")
    if local.is_file():
        return local.resolve(), False
    return data_dir("config.yaml"), True


def default_config_path() -> Path:
    """./config.yaml when there is one, else the shipped demo configuration."""
    return find_config()[0]


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read and check the configuration (``find_config`` says which file).

    A relative SQLite path in ``store.url`` is taken from the config file's folder, so a
    job started from another folder finds the same store; the shipped demo's store, when
    the demo runs because no config was found, goes in the working directory.
    """
    environ = os.environ if environ is None else environ
    path, demo = find_config(path, environ)
    try:
        doc = load_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc}"]) from exc
    if not isinstance(doc, dict):
        raise ConfigError(str(path), ["expected sections such as store:, bus:, pipelines:"])
    problems: list[str] = []
    doc = _apply_env(doc, environ, problems)
    known = [*_SECTION_NAMES, "pipelines", "attributes"]
    for section in doc:
        if section not in known:
            problems.append(f"{section}: unknown section.{did_you_mean(str(section), known)}")
    sections = {name: _section(cls, doc.get(name), problems)
                for name, cls in _SECTION_NAMES.items()}
    sections["store"] = replace(sections["store"], url=_store_url(
        sections["store"].url, Path.cwd() if demo else path.parent, problems))
    if demo:   # the demo's trained model goes beside its store (./.peyvand), not into
        model = sections["matching"].model          # the installed package
        sections["matching"] = replace(sections["matching"],
                                       model=str(Path.cwd() / ".peyvand" / model))
    if problem := password_problem(sections["bus"].url):
        problems.append(f"bus.url: {problem}")
    attributes = _attributes(doc.get("attributes"), problems)
    pipelines = tuple(replace(p, attributes=attributes)
                      for name in _pipeline_names(doc.get("pipelines"), problems)
                      if (p := _load_pipeline(path.parent, name, problems)))
    problems += _endpoint_problems(sections["serve"], pipelines)
    if problems:
        raise ConfigError(str(path), problems)
    return Config(path=path, pipelines=pipelines, attributes=attributes, **sections)


def _store_url(url: str, base: Path, problems: list[str]) -> str:
    """``url`` checked, with a relative SQLite path made absolute from ``base``."""
    if problem := password_problem(url):
        problems.append(f"store.url: {problem}")
        return url
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        problems.append(f"store.url: {mask_url(url)} is not a store URL this release can "
                        "open: expected sqlite:///path/to/store.sqlite or "
                        "postgresql+psycopg://user@host:5432/db")
        return url
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") \
            or database.startswith("file:"):
        return url
    where = Path(database).expanduser()
    if where.is_absolute():
        return url
    return parsed.set(database=str(base / where)).render_as_string(hide_password=False)


def _pipeline_names(value: Any, problems: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"pipelines: expected a list of pipeline names, got {value!r}")
        return []
    names = []
    for name in value:
        if not isinstance(name, str):
            problems.append(f"pipelines: a pipeline name is the name of a file in pipelines/ "
                            f"without .yaml, got {name!r}")
        elif problem := _name_problem(name):
            problems.append(f"pipelines: {problem}")
        else:
            names.append(name)
    return names


def _name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a file in its folder (None: it can)."""
    if _FILE_NAME.fullmatch(name) and ".." not in name:
        return None
    return (f"{name!r} must be a file name of letters, digits, '_', '.' or '-' (no folder, "
            "no '..'): pipelines and mappings stay in their folders")


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
        elif not isinstance(kind, str) or kind not in ATTRIBUTE_TYPES:
            problems.append(f"attributes.{name}: type must be one of "
                            f"{', '.join(ATTRIBUTE_TYPES)}, got {kind!r}")
        else:
            out[name] = kind
    return out


def _endpoint_problems(serve: ServeSettings, pipelines: tuple[PipelineConfig, ...]
                       ) -> list[str]:
    """Each form and SMS endpoint names a configured pipeline that reads the inbox."""
    adapters = {p.name: p.adapter for p in pipelines}
    problems = []
    for section, name in [*(("forms", n) for n in serve.forms),
                          *(("sms", n) for n in serve.sms)]:
        if name not in adapters:
            problems.append(f"serve.{section}.{name}: no configured pipeline {name!r} (list "
                            f"it under pipelines:).{did_you_mean(str(name), adapters)}")
        elif adapters[name] != "inbox":
            problems.append(f"serve.{section}.{name}: the pipeline reads {adapters[name]!r}; "
                            "an endpoint's pipeline must use the inbox adapter")
    return problems


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
    doc = _pipeline_doc(file, problems)
    if doc is None:
        return None
    system = str(doc.get("source_system") or "")
    if system and not SOURCE_SYSTEM.fullmatch(system):
        problems.append(f"{file.name}: source_system: {system!r} must be a name of up to 64 "
                        "characters without spaces or '/'")
    column = doc.get("source_system_column")
    if column is not None and not (isinstance(column, str) and column.strip()):
        problems.append(f"{file.name}: source_system_column: the name of a column, "
                        f"got {column!r}")
    mapping = _find(file.parent.parent, "mappings", doc["mapping"]) if doc.get(
        "mapping") else None
    if doc.get("mapping") and mapping is None:
        problems.append(f"{file.name}: mapping: no file mappings/{doc['mapping']}")
    schedule = str(doc.get("schedule", MANUAL))
    try:
        parse_schedule(schedule)
    except ScheduleError as exc:
        problems.append(f"{file.name}: schedule: {exc}")
    if not all(doc.get(k) for k in ("adapter", "mapping", "source_system")) or mapping is None:
        return None
    return PipelineConfig(name=name, path=file, adapter=doc["adapter"],
                          options=dict(doc.get("options") or {}), mapping=mapping,
                          source_system=system, schedule=schedule,
                          source_system_column=column if isinstance(column, str) else None)


def _pipeline_doc(file: Path, problems: list[str]) -> dict[str, Any] | None:
    """The pipeline file's keys, with every problem of type listed; None when unusable.
    Keys of the wrong type are dropped, so later checks see only what they expect."""
    try:
        doc = load_yaml(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{file}: cannot read the file: {exc}")
        return None
    if not isinstance(doc, dict):
        problems.append(f"{file.name}: expected keys such as adapter:, mapping:")
        return None
    for key in sorted(set(doc) - _PIPELINE_KEYS, key=str):
        problems.append(f"{file.name}: {key}: unknown key."
                        f"{did_you_mean(str(key), _PIPELINE_KEYS)}")
    if isinstance(doc.get("source_system"), int) and not isinstance(doc["source_system"], bool):
        doc["source_system"] = str(doc["source_system"])   # source_system: 1040 is a name
    for key in _TEXT_KEYS:
        if doc.get(key) is not None and not isinstance(doc[key], str):
            problems.append(f"{file.name}: {key}: expected text, got {doc.pop(key)!r}")
    if doc.get("options") is not None and not isinstance(doc["options"], dict):
        problems.append(f"{file.name}: options: expected keys and values, "
                        f"got {doc.pop('options')!r}")
    if isinstance(doc.get("mapping"), str) and (problem := _name_problem(doc["mapping"])):
        problems.append(f"{file.name}: mapping: {problem}")
        doc.pop("mapping")
        return None
    for key in ("adapter", "mapping", "source_system"):
        if not doc.get(key) and not any(p.startswith(f"{file.name}: {key}:") for p in problems):
            problems.append(f"{file.name}: {key}: required")
    return doc


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
            value = load_yaml(raw)
        except yaml.YAMLError:
            value = raw
        doc.setdefault(section, {})
        if isinstance(doc[section], dict):
            doc[section][key] = value
    return doc
