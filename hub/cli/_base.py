"""What every ``peyvand`` command shares: the consoles, the exit codes, the context that
builds the Hub on first use, and the command group itself."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from hub import __version__
from hub.app import Hub
from hub.config import Config, find_config, load_config
from hub.errors import ConfigError, FatalSourceError, StoreRefused, TransientError
from hub.log import configure

# Off a terminal rich would wrap at 80 columns; logs and CI output read better wider.
out = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False, emoji=False,
              width=None if sys.stderr.isatty() else 120)


EXIT_OK, EXIT_BUG, EXIT_CONFIG, EXIT_QUARANTINE, EXIT_TEMPFAIL = 0, 1, 2, 3, 75
EXIT_CODES = """\b
Exit codes:
  0  success
  1  an unexpected error: a bug (the traceback is kept in a file; please report it),
     or `master show` of an id the master does not know
  2  configuration error (config.yaml, a pipeline, a mapping, a source it names,
     the command line): fix what the message lists, then run again
  3  finished, with records newly put in quarantine (the run summary says how many;
     `peyvand quarantine list` shows them)
  75 a source, the store or the bus is unavailable (EX_TEMPFAIL): try again later;
     for a full or read-only store, first do what the message says"""

# Commands that only read the store: they open it read-only (nothing created, migrated
# or written), so they work on a snapshot, a replica or a read-only folder.
READ_ONLY = {("events",), ("export",), ("master", "show"), ("master", "search"),
             ("quarantine", "list"), ("runs",), ("checkpoint", "show"), ("schedule",)}


def _command_path() -> tuple[str, ...]:
    """The running (sub)command's names below ``peyvand``: ("master", "search")."""
    names: list[str] = []
    ctx = click.get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return tuple(names)


class _Ctx:
    """The Hub, built on first use so ``--help`` needs no configuration."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._hub: Hub | None = None
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            path, demo = find_config(self.config_path)
            if demo:
                err.print(Text(f"no ./config.yaml here: using the shipped demo configuration "
                               f"at {path} (its store goes in ./.peyvand); `peyvand init DIR` "
                               "starts a project"), soft_wrap=True)
            self._config = load_config(self.config_path)   # finds the same file again
            configure(self._config.log.level, self._config.log.format)
        return self._config

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            self._hub = Hub(self.config, read_only=_command_path() in READ_ONLY)
        return self._hub

    def close(self) -> None:
        # Closing the last connection lets SQLite fold its -wal into the store file, so
        # a copy taken afterwards is one self-contained file.
        if self._hub is not None:
            self._hub.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="config.yaml to use (default: $PEYVAND_CONFIG, else ./config.yaml, else "
                   "the shipped demo one). A named file that is missing is an error.")
@click.version_option(__version__, prog_name="peyvand")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Peyvand: customer records from many systems, one deduplicated master."""
    ctx.obj = _Ctx(config_path)
    ctx.call_on_close(ctx.obj.close)




def exit_code(exc: BaseException) -> int:
    if isinstance(exc, ConfigError | FatalSourceError):
        return EXIT_CONFIG
    if isinstance(exc, TransientError | StoreRefused):
        return EXIT_TEMPFAIL
    return EXIT_BUG
