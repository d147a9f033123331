"""The promote modal: every gate with its value, threshold and verdict, before confirming.

The gates are evaluated (side-effect free, `core.registry.gates.evaluate_gates`) in a worker before
this screen opens, for each alias the version could take (`champion`, `challenger`), so
the user sees exactly what `promote` will check and `a` switches the alias without waiting
on the engine. Confirming is offered only when every gate of the shown alias passes: a
forced promotion needs a reason and stays a CLI action (`pitboard model promote --force
--reason`), where the reason is typed on purpose.

The gates are a handful of rows with nothing to select, drawn as a rich table whose gate
and threshold columns wrap: at 80 columns a threshold such as `> 0.843351
(credit-risk@1)` is read whole, never cut at the dialog's edge. Every cell is a Text, so
no model or metric name is read as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from core.cli._output import format_value
from tui.widgets.table import plain

GATE_COLUMNS = ("verdict", "gate", "value", "threshold")


def verdict_text(passed: bool) -> Text:
    """PASS/FAIL as a word and a colour, so NO_COLOR still reads it."""
    return Text("PASS", style="bold green") if passed else Text("FAIL", style="bold red")


def gate_cells(gate: Any) -> tuple[Text, Text, Text, Text]:
    """One gate's row: verdict, name, value and threshold, each as written."""
    return verdict_text(gate.passed), plain(gate.name), plain(format_value(gate.value)), plain(format_value(gate.threshold))


def gates_table(gates: Sequence[Any]) -> Table:
    """The gates as a table whose long columns (gate, threshold) wrap instead of being cut."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=True, header_style="bold")
    table.add_column(GATE_COLUMNS[0], no_wrap=True)
    table.add_column(GATE_COLUMNS[1], ratio=3)
    table.add_column(GATE_COLUMNS[2], no_wrap=True)
    table.add_column(GATE_COLUMNS[3], ratio=2)
    for gate in gates:
        table.add_row(*gate_cells(gate))
    return table


@dataclass(frozen=True)
class AliasGates:
    """The gates of moving `alias` to the candidate; `holder` is the ref holding `alias` now."""

    alias: str
    holder: str | None
    gates: Sequence[Any]  # core.registry.gates.GateResult

    @property
    def passed(self) -> bool:
        return all(gate.passed for gate in self.gates)


class PromoteScreen(ModalScreen[str | None]):
    """Show the gates of moving an alias to `candidate`; returns the alias when confirmed."""

    BINDINGS = [
        Binding("y", "answer(True)", "Promote"),
        Binding("n,escape", "answer(False)", "Cancel"),
        Binding("a", "next_alias", "Other alias"),
    ]

    def __init__(self, candidate: str, choices: Sequence[AliasGates]) -> None:
        """`choices`: one per alias the candidate could take, the first shown first."""
        super().__init__()
        self._candidate = candidate
        self._choices = list(choices)
        self._shown = 0

    @property
    def choice(self) -> AliasGates:
        return self._choices[self._shown]

    @property
    def passed(self) -> bool:
        return self.choice.passed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog promote"):
            yield Label("", id="promote-title", classes="dialog-title")
            yield Static("", id="promote-summary", classes="dialog-body")
            yield Static("", id="promote-gates")
            yield Static("", id="promote-notes", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Promote (y)", id="confirm", variant="warning")
                yield Button("Cancel (n)", id="cancel")

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        choice = self.choice
        self.query_one("#promote-title", Label).update(plain(f"Promote {self._candidate} to {choice.alias}?"))
        moves = f"from {choice.holder}" if choice.holder else "which is free now"
        failed = sum(not gate.passed for gate in choice.gates)
        self.query_one("#promote-summary", Static).update(plain(
            f"All {len(choice.gates)} gates pass: {choice.alias} moves {moves}." if choice.passed else
            f"{failed} of {len(choice.gates)} gates FAIL: {choice.alias} stays where it is."))
        self.query_one("#promote-gates", Static).update(gates_table(choice.gates))
        notes = [f"{gate.name}: {gate.message}" for gate in choice.gates if gate.message]
        following = self._choices[(self._shown + 1) % len(self._choices)]
        if following is not choice:
            notes.append(f"a: show the gates of {following.alias} instead")
        self.query_one("#promote-notes", Static).update(plain("\n".join(notes)))
        self.query_one("#confirm", Button).disabled = not choice.passed

    def action_next_alias(self) -> None:
        self._shown = (self._shown + 1) % len(self._choices)
        self._show()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(self.choice.alias if answer and self.passed else None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "confirm")
