"""The pitboard Textual app: a header with the live status, five panes, help and palette.

The app is a view of the database. It never runs a query on its event loop: panes read in
thread workers with their own connections (see tui/db.py), and the status line is polled
about once a second. Heavy libraries (pandas, scikit-learn) are imported only inside those
workers, so the first screen appears before they load.

Once they have loaded, their objects are moved out of the garbage collector's sight
(`gc.freeze`, checked once a second, done whenever modules were imported since): a full
collection scanning them all stopped the event loop for 90-130 ms, in the middle of a pane
switch or a refresh (benchmarks/tui_responsiveness.py). The young generations are collected
just before each freeze (about a millisecond), so little garbage is frozen with them; what
is (cycles already in the oldest generation) is a bounded loss, once per burst of imports.

Once the first screen is up, a thread worker imports what the other panes' workers will
need (`PRELOAD`), then every hidden pane reads its data once: the first visit of a pane
neither waits for its modules to load nor fills its tables for the first time (about a third
of a first visit's cost on the event loop; the visit itself reloads, as every visit does).

Errors: what a worker did not expect is a notification naming a crash log, and the app
keeps running (`tui.errors`).
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.theme import Theme
from textual.widgets import ContentSwitcher

from core.store.clock import Clock, default_clock
from core.store.database import Store
from tui.commands import PaneActionCommands, PaneCommands
from tui.errors import ReportsWorkerErrors
from tui.keys import DEFAULTS, bind, keymap
from tui.panes import check_pane, pane_classes
from tui.panes.base import Pane
from tui.screens.help import HelpScreen, help_rows
from tui.widgets.footer import KeysFooter
from tui.widgets.header import AppHeader, PaneBar, StatusLine, read_status

STATUS_SECONDS = 1.0
PRELOAD = ("pandas", "plotext", "core.data.datasets", "core.data.validation", "core.experiments.runs", "core.registry.versions", "core.registry.gates",
           "core.registry.packaging", "core.registry.modelcard", "core.monitoring.status", "core.monitoring.alerts", "core.jobs.runner",
           "tui.widgets.histogram", "tui.widgets.series", "tui.widgets.run_plots")
"""Modules the panes import in their workers, loaded in the background after the first screen."""


class PitboardApp(ReportsWorkerErrors, App[None]):
    """The control center on one database."""

    CSS_PATH = "app.tcss"
    _theme_cache: tuple[str, Theme] | None = None  # see current_theme; asked before __init__ returns
    TITLE = "pitboard"
    COMMANDS = App.COMMANDS | {PaneCommands, PaneActionCommands}
    # Below 100 columns the panes with a list beside a detail stack the two (app.tcss), so
    # neither is cut to half of 80 columns.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        bind("quit", "quit", "Quit", priority=False),
        bind("help", "help", "Help"),
        bind("palette", "command_palette", "Palette", show=False, priority=True),
        bind("pane_data", "show_pane('data')", "Data pane", show=False),
        bind("pane_experiments", "show_pane('experiments')", "Experiments pane", show=False),
        bind("pane_registry", "show_pane('registry')", "Registry pane", show=False),
        bind("pane_monitor", "show_pane('monitor')", "Monitor pane", show=False),
        bind("pane_jobs", "show_pane('jobs')", "Jobs pane", show=False),
    ]

    def __init__(self, db_path: Path, *, clock: Clock | None = None, remap: dict[str, str] | None = None,
                 pane: str | None = None) -> None:
        """`clock` answers "now" for relative times (tests pin it); `remap` comes from `keymap()`;
        `pane` is the pane shown first (a checked id, see `tui.panes.check_pane`), else Data."""
        super().__init__()
        self.db_path = Path(db_path)
        self.clock = clock or default_clock()
        self.panes: list[Pane] = [cls() for cls in pane_classes()]
        self._current = pane or self.panes[0].pane_id
        self.set_keymap(remap or {})
        self._modules_frozen = 0

    def compose(self) -> ComposeResult:
        yield AppHeader(str(self.db_path))
        yield PaneBar([(pane.pane_id, pane.key, pane.title) for pane in self.panes], id="pane-bar")
        with ContentSwitcher(initial=self._current, id="panes"):
            yield from self.panes
        yield KeysFooter()

    def on_mount(self) -> None:
        # kept: while a modal is shown, queries see the modal's screen only
        self.status_line = self.query_one(StatusLine)
        self.switcher = self.query_one(ContentSwitcher)
        self.pane_bar = self.query_one(PaneBar)
        self.show_pane(self._current)
        self.poll_status()
        self.set_interval(STATUS_SECONDS, self.poll_status)
        self.set_interval(STATUS_SECONDS, self.freeze_imported)
        self.call_after_refresh(self.preload)

    @property
    def current_theme(self) -> Theme:
        """The shown theme, kept until the theme (or its registration) changes. Textual's own
        property copies the dict of every registered theme on each call, and a frame asks
        hundreds of times: 15-20 ms of a pane's first visit (benchmarks/tui_responsiveness.py)."""
        name, cached = self.theme, self._theme_cache
        if cached is not None and cached[0] == name and self._registered_themes.get(name) is cached[1]:
            return cached[1]
        theme = super().current_theme
        self._theme_cache = (name, theme)
        return theme

    @property
    def current_pane(self) -> Pane:
        """The pane shown (asked for from modals too, so it is not a DOM query)."""
        return next(pane for pane in self.panes if pane.pane_id == self._current)

    def show_pane(self, pane_id: str) -> None:
        """Show one pane, mark it in the pane bar, focus it and refresh its data."""
        self._current = pane_id
        self.switcher.current = pane_id
        self.pane_bar.select(pane_id)
        self.current_pane.activate()

    def action_show_pane(self, pane_id: str) -> None:
        self.show_pane(pane_id)

    def action_help(self) -> None:
        """List every key live here, the shown pane's own first (see tui.screens.help)."""
        rows = help_rows(self.screen.active_bindings, self.get_key_display)
        self.push_screen(HelpScreen(f"Keys: {self.current_pane.title} pane", rows))

    def freeze_imported(self) -> None:
        """Freeze the heap after new imports (see the module docstring); cheap when there were none."""
        if len(sys.modules) != self._modules_frozen:
            self._modules_frozen = len(sys.modules)
            gc.collect(1)
            gc.freeze()

    @work(thread=True, exclusive=True, group="preload", exit_on_error=False)
    def preload(self) -> None:
        """Import the panes' engine modules off the UI thread (see the module docstring)."""
        import importlib

        for name in PRELOAD:
            importlib.import_module(name)
        self.call_from_thread(self.prefetch_hidden_panes)

    def prefetch_hidden_panes(self) -> None:
        """Have each hidden pane not read yet read its data (see the module docstring)."""
        for pane in self.panes:
            if pane.PREFETCH and pane is not self.current_pane and not pane.loaded:
                pane.reload()

    @work(thread=True, exclusive=True, group="status", exit_on_error=False)
    def poll_status(self) -> None:
        with Store.open(self.db_path, clock=self.clock) as store:
            text = read_status(store)
        self.call_from_thread(self.status_line.show, text)


def run_app(db_path: str | Path, *, mouse: bool = True, pane: str | None = None) -> None:
    """Open the app on `db_path` (the `pitboard` command with no sub-command), on `pane` if given."""
    if pane is not None:
        check_pane(pane)
    from core.notify.worker import DeliveryWorker

    with Store.open(db_path) as store:
        remap = keymap(store.settings("keys", DEFAULTS), store.config_path)
    notifier = DeliveryWorker(Path(db_path))  # [notify] checked, secrets included, before the screen opens
    notifier.start()
    try:
        PitboardApp(Path(db_path), remap=remap, pane=pane).run(mouse=mouse)
    finally:
        notifier.stop()
