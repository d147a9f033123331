"""The `pitboard` console script: the command line of `core.cli`, able to open this app.

The app sits above the command line (it shows what the commands do and borrows their
formatting), so `core.cli` never imports it; this entry point hands it a way to open it.
"""

from __future__ import annotations

from pathlib import Path

from core.cli import main as run_cli


class TextualApp:
    """`core.cli.AppOpener` for the Textual app; textual is imported only when it opens."""

    def check_pane(self, pane: str) -> str:
        from tui.panes import check_pane

        return check_pane(pane)

    def open(self, db: str | Path, *, mouse: bool, pane: str | None) -> None:
        from tui.app import run_app

        run_app(db, mouse=mouse, pane=pane)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    run_cli(argv, app=TextualApp())
