"""config.yaml: every problem listed at once, environment overrides, shipped default loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_config
from hub.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_loads_with_its_pipelines() -> None:
    cfg = load_config(ROOT / "config.yaml", environ={})
    assert cfg.store_url.startswith("sqlite:///")
    assert cfg.bus_url == "memory://"
    assert [p.name for p in cfg.pipelines] == ["accounting_customers", "sales_leads"]
    assert all(p.mapping.exists() for p in cfg.pipelines)


def test_environment_overrides_any_key() -> None:
    cfg = load_config(ROOT / "config.yaml", environ={
        "PEYVAND__STORE__URL": "postgresql+psycopg://u:secret@db/peyvand",
        "PEYVAND__MATCHING__NAME_THRESHOLD": "93",
        "HOME": "/root"})
    assert cfg.store_url == "postgresql+psycopg://u:secret@db/peyvand"
    assert cfg.rules.name_threshold == 93


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("stor: {url: x}\nmatching: {name_threshold: 5, colour: red}\n"
                    "run: {batch_size: 0}\npipelines: [nope]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={"PEYVAND__BUS": "x"})
    text = "\n".join(info.value.problems)
    assert "stor: unknown section. Did you mean 'store'?" in text
    assert "matching.colour: unknown key" in text
    assert "matching.name_threshold: must be between 50 and 100" in text
    assert "run.batch_size: must be a positive whole number" in text
    assert "pipelines: no file pipelines/nope.yaml" in text
    assert "PEYVAND__BUS: expected PEYVAND__SECTION__KEY" in text
    assert str(path) in str(info.value)


def test_unknown_pipeline_name_gets_a_suggestion() -> None:
    cfg = load_config(ROOT / "config.yaml", environ={})
    with pytest.raises(ConfigError, match="Did you mean 'sales_leads'"):
        cfg.pipeline("sales_lead")
