"""What every pane shares: its identity, activation, and an empty state that names the
command that would fill it (never placeholder data).

Until its first read has answered, a pane says it is reading, not that it is empty: on a
cold start the first read waits for the engine's imports (a second or two), and "No
monitored deployments" in that time was a false statement about the database.

A pane's keys are bindings of the pane, so they apply only while focus is inside it. When
a pane shows its empty state its tables are hidden and nothing inside could take focus:
the pane itself then takes it (`allow_focus`), so the keys that still make sense there
(`EMPTY_ACTIONS`, e.g. `t` train in an empty Experiments pane) keep working and stay in
the footer, and every other key of the pane is withdrawn (`check_action`) rather than
shown and doing nothing. The same holds for a tab without a table (a histogram, a model
card, a plot): showing it keeps the focus in the pane (`action_show_tab`), not on the
table the tab just hid, which Textual would leave with no focus at all.

Panes with tabs switch them with `left`/`right` (`TAB_BINDINGS`) as well as with each
tab's own key. The tab strips are not focus targets: Tab moves between the tables a pane
shows, never onto a strip of labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static, TabbedContent, TabPane, Tabs

from core.store.database import Store
from core.store.errors import PitboardError
from tui.errors import ReportsWorkerErrors
from tui.keys import bind
from tui.widgets.table import FilterTable

LOADING = "Reading the database…"

TAB_BINDINGS = [
    bind("tab_prev", "step_tab(-1)", "Previous tab", show=False),
    bind("tab_next", "step_tab(1)", "Next tab", show=False),
]
"""The keys of a pane with tabs (in its BINDINGS): `left`/`right` show the tab before or after."""


@dataclass(frozen=True)
class PaletteAction:
    """An action a pane offers in the command palette."""

    title: str
    help: str
    run: Callable[[], object]


class Pane(ReportsWorkerErrors, Vertical):
    """One of the five panes. Subclasses set the class attributes and override `reload`."""

    pane_id: ClassVar[str]
    title: ClassVar[str]
    key: ClassVar[str]  # the default key that shows it, for the pane bar
    empty_text: ClassVar[str]  # what fills this pane, shown while it has nothing to show
    EMPTY_ACTIONS: ClassVar[frozenset[str]] = frozenset()  # the pane's actions that work with nothing shown
    TABS: ClassVar[str] = ""  # the id of the pane's TabbedContent, if it has one (`action_show_tab`)
    PREFETCH: ClassVar[bool] = True  # read once while hidden, after startup (`PitboardApp.prefetch_hidden_panes`)

    def __init__(self) -> None:
        super().__init__(id=self.pane_id, classes="pane")
        self.shows_empty = True  # until the first read: nothing to act on yet (see `show_empty`)
        self.loaded = False
        self.holds_focus = False

    def on_mount(self) -> None:
        """Say "reading" until the first read answers; keep the tab strips out of the Tab order."""
        self.query_one(f"#{self.pane_id}-empty", EmptyState).update(Text(LOADING))
        self.query_one(f"#{self.pane_id}-main").display = False
        for tabs in self.query(Tabs):
            tabs.can_focus = False

    def activate(self) -> None:
        """Called each time the pane is shown: focus its first widget and reload its data."""
        self.focus_first()
        self.reload()

    def focus_first(self) -> None:
        """Focus the first widget of the pane that can take it; the pane itself when empty,
        or when it shows nothing focusable (a plot tab with no list beside it)."""
        self.holds_focus = False  # out of the focus chain while it is searched
        first = next((widget for widget in self.screen.focus_chain if self in widget.ancestors_with_self), None)
        self.holds_focus = first is None
        self.screen.set_focus(first or self)

    def action_show_tab(self, tab: str) -> None:
        """Show tab `tab` of the pane's tabs and focus its table; a tab without one puts the
        focus on the pane's first widget, so the pane's keys keep working there."""
        self.query_one(f"#{self.TABS}", TabbedContent).active = tab
        tables = self.query_one(f"#{tab}", TabPane).query(FilterTable)
        if tables:
            self.holds_focus = False
            tables.first().table.focus()
        else:
            self.focus_first()

    def action_step_tab(self, step: int) -> None:
        """Show the tab `step` places after the shown one (before it when negative), round the end."""
        tabs = self.query_one(f"#{self.TABS}", TabbedContent)
        ids = [str(pane.id) for pane in tabs.query(TabPane)]
        self.action_show_tab(ids[(ids.index(tabs.active) + step) % len(ids)])

    def allow_focus(self) -> bool:
        """The pane takes focus itself only while nothing else in it can: it is empty (or
        reading), or its shown tab holds no focus target (see `focus_first`)."""
        return self.shows_empty or self.holds_focus

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """An empty pane offers only the actions that work without rows."""
        return not self.shows_empty or action in self.EMPTY_ACTIONS

    def show_empty(self, empty: bool) -> None:
        """After a read: show the empty state (`empty`) or the pane's content, keeping the
        focus in the pane. The first call also ends the "reading" state.

        Focus moves in this same call, before Textual would move it off a hidden table on
        a later refresh: the footer then never shows the keys of a widget that is gone.
        """
        if not self.loaded:
            self.loaded = True
            self.query_one(f"#{self.pane_id}-empty", EmptyState).update(Text(self.empty_text))
        self.query_one(f"#{self.pane_id}-empty").display = empty
        self.query_one(f"#{self.pane_id}-main").display = not empty
        if empty == self.shows_empty:
            return
        self.shows_empty = empty
        focused = self.screen.focused
        if empty and self.app.current_pane is self and (focused is None or self in focused.ancestors):
            self.screen.set_focus(self)
        self.refresh_bindings()

    def focus_is_free(self) -> bool:
        """Whether the pane may put the focus on its first table: it is shown (a pane reading
        while hidden never takes the focus), and nothing, or the pane itself, has it."""
        return self.app.current_pane is self and self.screen.focused in (None, self)

    def reload(self) -> None:
        """Start reading this pane's data (in a thread worker)."""

    def palette_actions(self) -> list[PaletteAction]:
        """The actions this pane adds to the command palette right now."""
        return []

    def run_engine_action(self, act: Callable[[Store], str], *, reload: bool = True) -> None:
        """From a thread worker: run one engine action on a short-lived store, then say what it did.

        `act` returns the line to show; a PitboardError is shown as the error it is (one
        line, nothing changed), never a traceback. The pane then reloads to show the result.
        """
        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            try:
                message = act(store)
            except PitboardError as error:  # names users' files and values: shown as written, not as markup
                self.app.call_from_thread(self.notify, str(error), severity="error", markup=False)
                return
        self.app.call_from_thread(self.notify, message, markup=False)
        if reload:
            self.app.call_from_thread(self.reload)


class EmptyState(Static):
    """What a pane shows when there is nothing yet, and how to fill it."""
