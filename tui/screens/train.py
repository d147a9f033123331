"""The modal that asks which spec file to train; the pane starts it as a job."""

from __future__ import annotations

from tui.widgets.modals import PromptScreen

DEFAULT_SPEC = "sample_data/credit_spec.toml"


class TrainScreen(PromptScreen):
    """A spec path, prefilled with the sample spec; `enter` returns it, `escape` cancels."""

    def __init__(self) -> None:
        super().__init__(
            "Train a spec file as a background job", DEFAULT_SPEC, placeholder="path to a spec .toml", input_id="spec-path",
            hint="Relative to the folder pitboard was started in. enter starts, escape cancels.",
        )
