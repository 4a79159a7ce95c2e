"""The ``peyvand`` command: presentation only; every action is a method of ``hub.app.Hub``.

Data never reaches rich as markup: values are wrapped in ``rich.text.Text`` (not parsed
for ``[tags]`` or ``:emoji:``), so a name like ``[/] Karimi`` is printed as written.
The commands live in four modules: ``running`` (run, sync, relay, quarantine),
``reading`` (master, export, events), ``project`` (init, check, preview, runs,
checkpoints, adapters) and ``scheduling`` (schedule).
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from typing import NoReturn

import click
from rich.text import Text

from hub import __version__
from hub.cli import (  # noqa: F401  (they register the commands)
    mastering,
    matching,
    project,
    reading,
    reviewing,
    running,
    scheduling,
    serving,
)
from hub.cli._base import EXIT_BUG, EXIT_OK, cli, err, exit_code
from hub.errors import PeyvandError
from hub.log import mask

__all__ = ["cli", "main"]


def _report_bug(exc: BaseException) -> NoReturn:
    """An exception nothing translated is a bug: keep its traceback in a file only this user
    can read (it may quote personal data), and print where it is and where to report it."""
    fd, name = tempfile.mkstemp(prefix="peyvand-traceback-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"peyvand {__version__}, {' '.join(sys.argv)}\n")
        f.write("".join(traceback.format_exception(exc)))
    err.print(Text.assemble(
        ("Unexpected error: ", "red"), f"{type(exc).__name__}: {mask(str(exc))}\n",
        f"This is a bug in Peyvand {__version__}. The traceback is in {name}; please "
        f"report it {_where_to_report()}, with that file (check it for personal data first)."),
        soft_wrap=True)
    sys.exit(EXIT_BUG)


def _where_to_report() -> str:
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("peyvand").get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("issues", "bug tracker", "bugs"):
            return f"at {url.strip()}"
    return "to the Peyvand maintainers (the project's issue tracker)"


def main() -> None:
    """Console entry point: errors read as sentences, exit codes as in ``EXIT_CODES``."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PeyvandError as exc:
        # A Text, not markup: a message quoting data ("[/]", ":x:") is printed as written.
        err.print(Text.assemble(("Error: ", "red"), str(exc)), soft_wrap=True)
        sys.exit(exit_code(exc))
    except Exception as exc:   # nothing translated it: a bug, reported as one
        _report_bug(exc)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
