"""The `pitboard` command.

Every module in this package that defines a module-level `COMMANDS` list contributes
those click commands or groups (`data`, `train`, `runs`, `model`, ...). Discovery keeps
each command group in its own module, and heavy libraries (pandas, scikit-learn, numba)
are imported inside the commands that need them so `pitboard --help` stays instant.

`pitboard` with no sub-command opens the Textual app on the database. The app sits above
the command line (it imports engine and CLI helpers), so this package never imports it:
the console script (`tui.launch`) hands `main` an `AppOpener` instead.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from functools import cached_property
from pathlib import Path
from typing import Protocol

import click

from core.cli._crash import internal_error
from core.store.database import DEFAULT_DB, ENV_DB, Store
from core.store.errors import PitboardError


class AppOpener(Protocol):
    """How the command line opens the app it cannot import."""

    def check_pane(self, pane: str) -> str:
        """`pane` if the app has it, else a PitboardError naming the valid ones."""

    def open(self, db: str | Path, *, mouse: bool, pane: str | None) -> None:
        """Run the app on `db` until the user quits."""


class Context:
    """What every command gets through `click.pass_obj`: the database, opened lazily, and the app."""

    def __init__(self, db: str, app: AppOpener | None) -> None:
        self.db = db
        self._app = app

    @property
    def app(self) -> AppOpener:
        if self._app is None:
            raise PitboardError("this entry point cannot open the app; run the `pitboard` console script")
        return self._app

    @cached_property
    def store(self) -> Store:
        return Store.open(self.db)


class PitboardGroup(click.Group):
    """A group that discovers its commands and turns every error into one clean line."""

    def _discovered(self) -> dict[str, click.Command]:
        found: dict[str, click.Command] = {}
        for module in pkgutil.iter_modules(__path__):
            if module.name.startswith("_"):
                continue
            loaded = importlib.import_module(f"{__name__}.{module.name}")
            for command in getattr(loaded, "COMMANDS", ()):
                found[command.name] = command
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._discovered())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._discovered().get(name)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        """Run the command; a PitboardError is its one line (exit 2, 1 for CheckFailed), and
        any other exception one line naming the command and a crash log (exit 1, see `_crash`)."""
        try:
            return super().invoke(ctx)
        except PitboardError as exc:
            raise _one_line(str(exc), exc.exit_code) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            raise _one_line(internal_error(exc, _command_of(exc, ctx)), 1) from exc


def _one_line(message: str, exit_code: int) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = exit_code
    return error


def _command_of(exc: BaseException, ctx: click.Context) -> str:
    """The command that raised `exc` (`runs list`): the innermost click context on its traceback."""
    found = ctx
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        inner = frame.f_locals.get("ctx")
        if isinstance(inner, click.Context):
            found = inner
    path = found.command_path.split(" ", 1)
    return path[1] if len(path) > 1 else found.command_path


@click.group(cls=PitboardGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar=ENV_DB,
    default=DEFAULT_DB,
    show_default=True,
    type=click.Path(dir_okay=False),
    help=f"SQLite database file (or set ${ENV_DB}).",
)
@click.option("--no-mouse", is_flag=True, help="Open the app without mouse reporting.")
@click.option("--pane", metavar="NAME", help="Open the app on this pane: data, experiments, registry, monitor, jobs.")
@click.version_option(package_name="pitboard")
@click.pass_context
def cli(ctx: click.Context, db: str, no_mouse: bool, pane: str | None) -> None:
    """pitboard: an MLOps control center in the terminal.

    Run without a command to open the app on the database.
    """
    ctx.obj = Context(db, app=ctx.obj)  # ctx.obj arrives as the AppOpener given to main()
    if ctx.invoked_subcommand is None:
        ctx.obj.app.open(ctx.obj.db, mouse=not no_mouse, pane=pane)  # checks --pane before it opens (creates) the database


def main(argv: list[str] | None = None, *, app: AppOpener | None = None) -> None:
    """Run the command line; `app` opens the Textual app when a command asks for it."""
    cli.main(args=argv, prog_name="pitboard", obj=app)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
