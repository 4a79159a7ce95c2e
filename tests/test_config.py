"""config.yaml: every problem listed at once, environment overrides, shipped default loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_config
from hub.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_loads_with_its_pipelines() -> None:
    cfg = load_config(ROOT / "config.yaml", environ={})
    assert cfg.store.url.startswith("sqlite:///")
    assert cfg.bus.url == "memory://"
    assert cfg.survivorship.source_priority == ("accounting", "sales")
    assert cfg.run.batch_size == 500
    assert [p.name for p in cfg.pipelines] == ["accounting_customers", "sales_leads"]
    assert all(p.mapping.exists() for p in cfg.pipelines)


def test_environment_overrides_any_key() -> None:
    cfg = load_config(ROOT / "config.yaml", environ={
        "PEYVAND__STORE__URL": "postgresql+psycopg://u:secret@db/peyvand",
        "PEYVAND__MATCHING__NAME_THRESHOLD": "93",
        "HOME": "/root"})
    assert cfg.store.url == "postgresql+psycopg://u:secret@db/peyvand"
    assert cfg.matching.name_threshold == 93


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("stor: {url: x}\nmatching: {name_threshold: 5, colour: red}\n"
                    "run: {batch_size: 0}\npipelines: [nope]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={"PEYVAND__BUS": "x"})
    text = "\n".join(info.value.problems)
    assert "stor: unknown section. Did you mean 'store'?" in text
    assert "matching.colour: unknown setting." in text
    assert "matching.name_threshold: must be between 50 and 100" in text
    assert "run.batch_size: must be 1 or more" in text
    assert "pipelines: no file pipelines/nope.yaml" in text
    assert "PEYVAND__BUS: expected PEYVAND__SECTION__KEY" in text
    assert str(path) in str(info.value)


def test_unknown_pipeline_name_gets_a_suggestion() -> None:
    cfg = load_config(ROOT / "config.yaml", environ={})
    with pytest.raises(ConfigError, match="Did you mean 'sales_leads'"):
        cfg.pipeline("sales_lead")


def test_mistyped_values_name_the_key_and_the_expected_type(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("run: {batch_size: lots}\nlog: {level: loud}\n"
                    "survivorship: {source_priority: accounting}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    text = "\n".join(info.value.problems)
    assert "run.batch_size: expected a whole number, got 'lots'." in text
    assert "log.level: expected one of 'debug', 'info', 'warning', 'error', got 'loud'." in text
    assert "survivorship.source_priority: expected a list of text, got 'accounting'." in text


def test_a_source_system_name_cannot_hold_a_slash(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "p.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: x.csv}\nsource_system: erp/eu\n"
        "mapping: accounting_customers.yaml\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text("pipelines: [p]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="source_system: 'erp/eu' must be a name"):
        load_config(tmp_path / "config.yaml", environ={})
