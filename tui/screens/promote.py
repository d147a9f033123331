"""The promote modal: every gate with its value, threshold and verdict, before confirming.

The gates are evaluated (side-effect free, `core.gates.evaluate_gates`) in a worker before
this screen opens, so the user sees exactly what `promote` will check. Confirming is
offered only when every gate passes: a forced promotion needs a reason and stays a CLI
action (`pitboard model promote --force --reason`), where the reason is typed on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static

from core.cli._output import format_value


def verdict_text(passed: bool) -> Text:
    """PASS/FAIL as a word and a colour, so NO_COLOR still reads it."""
    return Text("PASS", style="bold green") if passed else Text("FAIL", style="bold red")


class PromoteScreen(ModalScreen[bool]):
    """Show the gates of moving `alias` to `candidate`; returns True when confirmed."""

    BINDINGS = [
        Binding("y", "answer(True)", "Promote"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, candidate: str, alias: str, holder: str | None, gates: Sequence[Any]) -> None:
        """`gates` are `core.gates.GateResult`s; `holder` is the ref holding `alias` now."""
        super().__init__()
        self._candidate = candidate
        self._alias = alias
        self._holder = holder
        self._gates = list(gates)

    @property
    def passed(self) -> bool:
        return all(gate.passed for gate in self._gates)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog promote"):
            yield Label(f"Promote {self._candidate} to {self._alias}?", classes="dialog-title")
            moves = f"from {self._holder}" if self._holder else "which is free now"
            failed = sum(not gate.passed for gate in self._gates)
            summary = (f"All {len(self._gates)} gates pass: {self._alias} moves {moves}." if self.passed else
                       f"{failed} of {len(self._gates)} gates FAIL: {self._alias} stays where it is.")
            yield Static(summary, id="promote-summary", classes="dialog-body")
            table: DataTable = DataTable(cursor_type="row", id="promote-gates")
            table.add_columns("verdict", "gate", "value", "threshold")
            for gate in self._gates:
                table.add_row(verdict_text(gate.passed), gate.name, format_value(gate.value), format_value(gate.threshold))
            yield table
            notes = [f"{gate.name}: {gate.message}" for gate in self._gates if gate.message]
            yield Static("\n".join(notes), id="promote-notes", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Promote (y)", id="confirm", variant="warning", disabled=not self.passed)
                yield Button("Cancel (n)", id="cancel")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer and self.passed)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm" and self.passed)
