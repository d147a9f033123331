"""The footer: Textual's compact Footer, rebuilt only when the keys it shows changed.

Compact (one space between keys, none around them): at 80 columns a pane's own keys, the
table's `/` and the app's `q`, `?` and `ctrl+p` must share one line, and the roomy style
cut the last of them off.

Textual's Footer removes and mounts all its key widgets on every binding change, and a
pane switch changes the bindings twice (the old focus goes, the new one comes), each
rebuild costing a few milliseconds of the event loop at 120 columns. This footer compares
what it would show with what it shows and skips the rebuild when they are the same.
"""

from __future__ import annotations

from textual.widgets import Footer


class KeysFooter(Footer):
    """A Footer that skips a rebuild showing the same keys."""

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._shown: tuple[object, ...] | None = None

    def _keys(self) -> tuple[object, ...]:
        """What the footer shows: each key with its action, description and state."""
        return tuple(
            (key, active.binding.action, active.binding.description, active.enabled)
            for key, active in self.screen.active_bindings.items() if active.binding.show
        )

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        keys = self._keys()
        if keys == self._shown:
            return
        self._shown = keys
        await super().recompose()
