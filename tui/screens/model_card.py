"""One model version's card on a screen of its own: `enter` on a Registry version opens it.

The Registry's Card tab shows the same card beside the version list; this screen gives it
the whole terminal, which at 80x24 is the difference between reading the card and
scrolling it a few lines at a time. The card is read in a thread worker (building it
reads the manifest and the promotion gates), like the run screen's detail.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Markdown

from core.store.database import Store
from tui.errors import ReportsWorkerErrors
from tui.widgets.footer import KeysFooter


def version_card(store: Store, mv: Any) -> str:
    """The model card of version `mv` (a core.registry.versions.ModelVersion), as Markdown."""
    from core.registry.modelcard import model_card
    from core.registry.packaging import build_manifest, promotion_gates

    return model_card(build_manifest(store, mv), promotion_gates(store, mv))


class ModelCardScreen(ReportsWorkerErrors, Screen[None]):
    """A version's model card; `j`/`k` scroll it, `escape` goes back."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("j", "scroll('down')", "Down", show=False),
        Binding("k", "scroll('up')", "Up", show=False),
    ]

    def __init__(self, version_id: int) -> None:
        super().__init__()
        self.version_id = version_id
        self.card = ""

    def compose(self) -> ComposeResult:
        yield Label("Model card", id="card-title", classes="screen-title")
        with VerticalScroll(id="card-body"):
            yield Markdown("loading…", id="card-text")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#card-body").focus()
        self.load()

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#card-body", VerticalScroll)
        (body.scroll_down if direction == "down" else body.scroll_up)(animate=False)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        from core.registry import versions as registry

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            mv = registry.version_by_id(store, self.version_id)
            card = version_card(store, mv)
        self.app.call_from_thread(self._show, mv.ref, card)

    def _show(self, ref: str, card: str) -> None:
        self.card = card
        self.query_one("#card-title", Label).update(Text(f"Model card · {ref}"))
        self.query_one("#card-text", Markdown).update(card)
