"""docs/adapters.md says what the code does: each adapter's settings block is what
`peyvand adapters NAME` prints, and every mapping it shows loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters import adapter_names
from hub.cli import cli
from hub.mapping import load_mapping

DOC = (Path(__file__).resolve().parents[1] / "docs" / "adapters.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _settings_block(name: str) -> str:
    """The code block that starts with the adapter's summary line."""
    for _, body in BLOCK.findall(DOC):
        if body.startswith(f"{name}: "):
            return body
    raise AssertionError(f"docs/adapters.md shows no settings block for {name}")


@pytest.mark.parametrize("name", adapter_names())
def test_each_settings_block_is_what_peyvand_adapters_prints(name: str) -> None:
    printed = CliRunner().invoke(cli, ["adapters", name], terminal_width=200)
    assert printed.exit_code == 0, printed.output
    assert _settings_block(name) == printed.output


def _mappings() -> list[tuple[str, str]]:
    """(file name, text) of each YAML block the docs introduce as a mapping file."""
    found = []
    introduced = r"(?:`mappings/([\w.]+)`[^`\n]*:\s*\n\s*|)"   # `mappings/x.yaml`:
    for m in re.finditer(introduced + r"```yaml\n(# mappings/([\w.]+)\n)?(.*?)```", DOC, re.S):
        name = m.group(1) or m.group(3)
        if name:
            found.append((name, m.group(4)))
    return found


def test_the_docs_show_a_mapping_for_each_kind_of_pull_source() -> None:
    names = {n for n, _ in _mappings()}
    assert {"branch_customers.yaml", "odoo_partners.yaml", "ubl_parties_simple.yaml",
            "email_interactions.yaml"} <= names, names


@pytest.mark.parametrize(("name", "text"), _mappings(), ids=lambda v: v[:30])
def test_every_mapping_the_docs_show_loads(name: str, text: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.target in ("customer", "interaction")
