"""config.yaml: every problem listed at once, environment overrides, shipped default loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.app import Hub
from hub.config import load_config
from hub.errors import ConfigError
from hub.resources import data_dir

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_loads_with_its_pipelines() -> None:
    cfg = load_config(ROOT / "config.yaml", environ={})
    assert cfg.store.url.startswith("sqlite:///")
    assert cfg.bus.url == "memory://"
    assert cfg.survivorship.source_priority == ("accounting", "sales", "website")
    assert cfg.run.batch_size == 500
    assert [p.name for p in cfg.pipelines] == [
        "accounting_customers", "sales_leads", "contact_form"]
    assert all(p.mapping.exists() for p in cfg.pipelines)


def test_environment_overrides_any_key() -> None:
    cfg = load_config(ROOT / "config.yaml", environ={
        "PEYVAND__STORE__URL": "postgresql+psycopg://u:secret@db/peyvand",
        "PEYVAND__MATCHING__MATCH_PROBABILITY": "0.995",
        "HOME": "/root"})
    assert cfg.store.url == "postgresql+psycopg://u:secret@db/peyvand"
    assert cfg.matching.match_probability == 0.995


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("stor: {url: x}\nmatching: {match_probability: 5, colour: red}\n"
                    "run: {batch_size: 0}\npipelines: [nope]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={"PEYVAND__BUS": "x"})
    text = "\n".join(info.value.problems)
    assert "stor: unknown section. Did you mean 'store'?" in text
    assert "matching.colour: unknown setting." in text
    assert "matching.match_probability: must be at least 0.5 and below 1" in text
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


# --- L1: wrong types anywhere are listed problems, never tracebacks ---------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("matching: {match_probability: abc}\n", "matching.match_probability: expected a number"),
    ("store: x\n", "store: expected keys and values"),
    ("store: {url: 5}\n", "store.url: expected text"),
    ("store: {url: 'not a url'}\n", "is not a store URL"),
    ("store: {url: 'foo://x/y'}\n", "is not a store URL"),
    ("store: {url: 'postgresql+psycopg://u:a#b@db/x'}\n", "percent-encode"),
    ("bus: {url: 'amqp://u:a/b@mq//'}\n", "percent-encode"),
    ("bus: [1]\n", "bus: expected keys and values"),
    ("pipelines: abc\n", "pipelines: expected a list of pipeline names"),
    ("pipelines: {a: 1}\n", "pipelines: expected a list of pipeline names"),
    ("pipelines: [[a]]\n", "pipelines: a pipeline name"),
    ("pipelines: [5]\n", "pipelines: a pipeline name"),
    ("log: {level: loud, format: fancy}\n", "log.format: expected one of"),
    ("run: {batch_size: true}\n", "run.batch_size: expected a whole number"),
    ("survivorship: {source_priority: {a: 1}}\n", "survivorship.source_priority: expected"),
    ("attributes: {tier: [text]}\n", "attributes.tier: type must be one of"),
    ("attributes: [a]\n", "attributes: expected names with their types"),
    ("- just\n- a list\n", "expected sections such as"),
    ("42\n", "expected sections such as"),
    ("store: {url: sqlite:///x.sqlite}\nstore: {url: y}\n", "written twice"),
])
def test_a_wrong_type_in_config_yaml_is_a_listed_problem(tmp_path: Path, text: str,
                                                         expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert expected in str(info.value)


_GOOD_PIPELINE = {"adapter": "spreadsheet", "options": "{path: x.csv}", "source_system": "s",
                  "mapping": "accounting_customers.yaml"}


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("adapter", "[x]", "adapter: expected text"),
    ("options", "abc", "options: expected keys and values"),
    ("options", "[1, 2]", "options: expected keys and values"),
    ("mapping", "{a: 1}", "mapping: expected text"),
    ("mapping", "../../etc/m.yaml", "mapping: '../../etc/m.yaml' must be a file name"),
    ("mapping", "/etc/m.yaml", "must be a file name"),
    ("source_system", "[a]", "source_system: expected text"),
    ("schedule", "[1]", "schedule: expected text"),
    ("description", "{a: 1}", "description: expected text"),
    ("source_system_column", "5", "source_system_column: the name of a column"),
])
def test_a_wrong_type_in_a_pipeline_file_is_a_listed_problem(
        tmp_path: Path, key: str, value: str, expected: str) -> None:
    (tmp_path / "pipelines").mkdir()
    doc = {**_GOOD_PIPELINE, key: value}
    (tmp_path / "pipelines" / "p.yaml").write_text(
        "".join(f"{k}: {v}\n" for k, v in doc.items()), encoding="utf-8")
    (tmp_path / "config.yaml").write_text("pipelines: [p]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "config.yaml", environ={})
    assert expected in str(info.value)


# --- L3: names stay inside their folders -------------------------------------------------

@pytest.mark.parametrize("name", ["../p", "../../etc/passwd", "/etc/passwd", "a/b", "..",
                                  "p..", "~root", "p q"])
def test_pipeline_names_are_confined_to_their_folder(tmp_path: Path, name: str) -> None:
    (tmp_path / "config.yaml").write_text(f"pipelines: [{name!r}]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "config.yaml", environ={})
    assert "must be a file name of letters, digits, '_', '.' or '-'" in str(info.value)


# --- L2: alias bombs ---------------------------------------------------------------------

def _bomb(depth: int = 9) -> str:
    """The finding's 577-byte config: nine levels of nine aliases, 9**9 items once walked."""
    levels = ["&a0 [l, l, l, l, l, l, l, l, l]"]
    levels += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, depth)]
    return "[" + ", ".join(levels) + "]"


def test_an_alias_bomb_in_config_yaml_is_refused_cheaply(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"survivorship: {{source_priority: {_bomb()}}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="aliases"):
        load_config(path, environ={})


def test_an_alias_bomb_in_a_pipeline_or_a_mapping_is_refused(tmp_path: Path) -> None:
    from hub.mapping import load_mapping

    (tmp_path / "pipelines").mkdir()
    (tmp_path / "mappings").mkdir()
    (tmp_path / "pipelines" / "p.yaml").write_text(
        f"adapter: spreadsheet\noptions: {{path: x.csv, sheet: {_bomb()}}}\n"
        "source_system: s\nmapping: m.yaml\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text("pipelines: [p]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="aliases"):
        load_config(tmp_path / "config.yaml", environ={})
    mapping = tmp_path / "mappings" / "m.yaml"
    mapping.write_text(f"fields:\n  name.full: {{from: {_bomb()}}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="aliases"):
        load_mapping(mapping)


# --- M7: where the store and the configuration are ----------------------------------------

def test_a_relative_sqlite_path_resolves_beside_config_yaml(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "config.yaml").write_text(
        "store: {url: 'sqlite:///data/store.sqlite'}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)   # a cron job, started elsewhere
    cfg = load_config(Path("etc/config.yaml"), environ={})
    assert cfg.store.url == f"sqlite:///{tmp_path}/etc/data/store.sqlite"
    cfg = load_config(Path("etc/config.yaml"),
                      environ={"PEYVAND__STORE__URL": "sqlite:///other.sqlite"})
    assert cfg.store.url == f"sqlite:///{tmp_path}/etc/other.sqlite"


@pytest.mark.parametrize("url", ["sqlite:////srv/peyvand/store.sqlite", "sqlite://",
                                 "sqlite:///:memory:",
                                 "postgresql+psycopg://peyvand@db:5432/peyvand"])
def test_other_store_urls_are_kept(tmp_path: Path, url: str) -> None:
    (tmp_path / "config.yaml").write_text(f"store: {{url: '{url}'}}\n", encoding="utf-8")
    assert load_config(tmp_path / "config.yaml", environ={}).store.url == url


def test_a_named_config_that_is_missing_is_an_error_never_the_demo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="no configuration file"):
        load_config(tmp_path / "nope.yaml", environ={})
    with pytest.raises(ConfigError, match="PEYVAND_CONFIG"):
        load_config(None, environ={"PEYVAND_CONFIG": str(tmp_path / "nope.yaml")})
    (tmp_path / "mine.yaml").write_text("run: {batch_size: 7}\n", encoding="utf-8")
    assert load_config(None, environ={"PEYVAND_CONFIG": "mine.yaml"}).run.batch_size == 7


def test_without_a_config_the_demo_runs_with_its_store_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    from hub.config import find_config

    path, demo = find_config(None, environ={})
    assert demo and path == data_dir("config.yaml")
    cfg = load_config(None, environ={})
    assert cfg.path == data_dir("config.yaml")
    assert cfg.store.url == f"sqlite:///{tmp_path}/.peyvand/master.sqlite"
    # `peyvand train` on the demo writes its model there too, never into the package.
    model = cfg.matching.model_path(cfg.path.parent)
    assert model == tmp_path / ".peyvand" / "matching-model.json"


def test_a_secret_in_a_setting_of_the_wrong_type_is_not_repeated(tmp_path: Path) -> None:
    """``password_env: 12345678`` (the password where its variable's name belongs) is a
    configuration error that names the setting but never prints the value."""
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "mail.yaml").write_text(
        "adapter: email\noptions: {host: mail.example.ir, user: sales,"
        " password_env: 12345678}\nsource_system: mail\nmapping: email_interactions.yaml\n",
        encoding="utf-8")
    (tmp_path / "config.yaml").write_text("pipelines: [mail]\n", encoding="utf-8")
    hub = Hub.from_config(tmp_path / "config.yaml", environ={})
    with pytest.raises(ConfigError) as info:
        hub.check()
    assert "options.password_env: expected text or nothing, got a value." in str(info.value)
    assert "12345678" not in str(info.value)
