"""The modal that asks which spec file to train; the pane starts it as a job."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

DEFAULT_SPEC = "sample_data/credit_spec.toml"


class TrainScreen(ModalScreen[str | None]):
    """A path input; `enter` returns the path, `escape` cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog train"):
            yield Label("Train a spec file as a background job", classes="dialog-title")
            yield Input(DEFAULT_SPEC, placeholder="path to a spec .toml", id="spec-path")
            yield Static("Relative to the folder pitboard was started in. enter starts, escape cancels.", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)
