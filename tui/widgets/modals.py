"""Modal screens shared by every pane: confirmation, choosing one item, and one line of text.

`ConfirmScreen` is the gate in front of anything that changes the registry or deletes:
it states what will happen and returns True only on an explicit `y` or the confirm button.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option


class ConfirmScreen(ModalScreen[bool]):
    """Ask before an action that changes the registry or deletes; `y` confirms, `n`/escape cancels."""

    BINDINGS = [
        Binding("y", "answer(True)", "Confirm"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, title: str, body: str, *, confirm_label: str = "Confirm") -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm"):
            yield Label(self._title, classes="dialog-title")
            yield Static(self._body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self._confirm_label} (y)", id="confirm", variant="warning")
                yield Button("Cancel (n)", id="cancel")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")


class ChooseScreen(ModalScreen[str | None]):
    """Pick one of `choices` (value, label); returns the value, or None on escape."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("j", "move('down')", show=False),
        Binding("k", "move('up')", show=False),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog choose"):
            yield Label(self._title, classes="dialog-title")
            yield OptionList(*(Option(label, id=value) for value, label in self._choices))
            yield Static("enter chooses, escape cancels", classes="dialog-hint")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_move(self, direction: str) -> None:
        options = self.query_one(OptionList)
        (options.action_cursor_down if direction == "down" else options.action_cursor_up)()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line (a path, a name) prefilled with `value`; `enter` returns it stripped
    (None when empty), `escape` cancels. The hint says what `enter` will do."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str, *, hint: str, placeholder: str = "", input_id: str = "prompt") -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._hint = hint
        self._placeholder = placeholder
        self._input_id = input_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog prompt"):
            yield Label(self._title, classes="dialog-title")
            yield Input(self._value, placeholder=self._placeholder, id=self._input_id)
            yield Static(self._hint, classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False  # no redraws twice a second over SSH

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)
