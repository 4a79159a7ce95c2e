"""Where the shipped data folders are: beside the checkout, or inside an installed wheel."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``name`` (schemas, mappings, pipelines) or file (config.yaml) we ship.

    A wheel carries them under ``hub/_data`` (see pyproject.toml); a checkout or an
    editable install has them at the top of the repository.
    """
    for candidate in (_HERE / "_data" / name, _HERE.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"Peyvand's {name} is missing from {_HERE} and {_HERE.parent}")
