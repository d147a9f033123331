"""The modal that asks which spec file to train; the pane starts it as a job.

A first spec need not be written by hand: the modal's second line drafts one from a
dataset, like `pitboard spec init DATASET [--target COL] -o FILE`. The draft
(`core.experiments.spec_draft.draft_spec`: it reads profiles and checks that the spec
trains on the data) runs in a thread worker, never on the event loop. It is written to
`<dataset>_spec.toml` in the folder pitboard was started in, never over an existing
file, and its path is put in the spec line, so `enter` there trains it (or the user
edits it first). Keyboard only: `tab` moves between the lines, `enter` acts on the line
it is pressed in, `escape` cancels.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from core.store.database import Store
from core.store.errors import PitboardError
from tui.errors import ReportsWorkerErrors

DEFAULT_SPEC = "sample_data/credit_spec.toml"
SPEC_SUFFIX = "_spec.toml"


def draft_path(dataset: str) -> Path:
    """Where the draft of `dataset` (a name, not a version) is written: beside the user, like `-o`."""
    return Path(f"{dataset}{SPEC_SUFFIX}")


def write_draft(store: Store, dataset_ref: str, target: str | None) -> Path:
    """Draft a spec from `dataset_ref` and write it to `draft_path`; an existing file is an
    error naming it, left exactly as it was."""
    from core.data.datasets import resolve
    from core.experiments.spec_draft import draft_spec

    path = draft_path(resolve(store, dataset_ref).dataset)
    if path.exists():
        raise PitboardError(f"{path}: already exists, not overwritten; train it as it is, or move it away to draft again")
    text = draft_spec(store, dataset_ref, target)
    try:
        with path.open("x", encoding="utf-8") as out:  # "x": a file that appeared meanwhile is not replaced either
            out.write(text)
    except FileExistsError:
        raise PitboardError(f"{path}: already exists, not overwritten") from None
    return path


class TrainScreen(ReportsWorkerErrors, ModalScreen[str | None]):
    """A spec path, prefilled with the sample spec; `enter` there returns it. Below it, a
    dataset (and optionally a target) to draft a spec from; `enter` there drafts it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog train"):
            yield Label("Train a spec file as a background job", classes="dialog-title")
            yield Input(DEFAULT_SPEC, placeholder="path to a spec .toml", id="spec-path")
            yield Static("Relative to the folder pitboard was started in. enter starts it as a job.", classes="dialog-hint")
            yield Label("…or draft a spec from a dataset first (pitboard spec init)", classes="dialog-subtitle")
            with Horizontal(id="draft-inputs"):
                yield Input(placeholder="dataset, e.g. credit@2", id="draft-dataset")
                yield Input(placeholder="target (optional)", id="draft-target")
            yield Static(f"enter drafts DATASET{SPEC_SUFFIX} here and puts it above; the target is the dataset's"
                         " unless named.", id="draft-status", classes="dialog-hint")
            yield Static("tab: next line · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        for line in self.query(Input):
            line.cursor_blink = False  # no redraws twice a second over SSH
        self.query_one("#spec-path", Input).focus()
        self.load_datasets()

    @work(thread=True, exclusive=True, group="train-datasets", exit_on_error=False)
    def load_datasets(self) -> None:
        """The datasets to draft from: offered as completions of the dataset line."""
        from core.data.datasets import list_datasets

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            names = [entry["name"] for entry in list_datasets(store)]
        self.app.call_from_thread(self._offer, names)

    def _offer(self, names: list[str]) -> None:
        self.query_one("#draft-dataset", Input).suggester = SuggestFromList(names, case_sensitive=False)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#spec-path")
    def _spec_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    @on(Input.Submitted, "#draft-dataset, #draft-target")
    def _draft_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        dataset = self.query_one("#draft-dataset", Input).value.strip()
        if not dataset:
            self._say("Name a dataset to draft from.", error=True)
            self.query_one("#draft-dataset", Input).focus()
            return
        target = self.query_one("#draft-target", Input).value.strip() or None
        self._say(f"Drafting a spec from {dataset}…")
        self.draft(dataset, target)

    @work(thread=True, exclusive=True, group="train-draft", exit_on_error=False)
    def draft(self, dataset: str, target: str | None) -> None:
        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            try:
                path = write_draft(store, dataset, target)
            except PitboardError as error:
                self.app.call_from_thread(self._say, str(error), error=True)
                return
        self.app.call_from_thread(self._drafted, path)

    def _drafted(self, path: Path) -> None:
        spec = self.query_one("#spec-path", Input)
        spec.value = str(path)
        spec.focus()
        self._say(f"Wrote {path}: enter above trains it (or edit the file first).")

    def _say(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#draft-status", Static)
        status.update(Text(message))  # names users' datasets and files: shown as written
        status.set_class(error, "error")
