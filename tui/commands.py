"""Command palette providers: switching panes, and the actions the panes offer.

Theme change and quit come from Textual's own system commands provider, which the app
keeps. Pane actions are asked of the panes each time the palette opens, so the palette
holds exactly the actions that can run now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import PitboardApp


class _ListProvider(Provider):
    """A provider over a short list of (title, help, callback)."""

    def entries(self) -> Iterable[tuple[str, str, Callable[[], object]]]:
        raise NotImplementedError

    @property
    def pitboard(self) -> "PitboardApp":
        return cast("PitboardApp", self.app)

    async def discover(self) -> Hits:
        for title, help_text, callback in self.entries():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self.entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)


class PaneCommands(_ListProvider):
    """`Go to the Data pane` ... one entry per pane."""

    def entries(self) -> Iterable[tuple[str, str, Callable[[], object]]]:
        for pane in self.pitboard.panes:
            yield f"Go to {pane.title} pane", f"key {pane.key}", partial(self.pitboard.action_show_pane, pane.pane_id)


class PaneActionCommands(_ListProvider):
    """The actions of the shown pane (validate a data version, ...)."""

    def entries(self) -> Iterable[tuple[str, str, Callable[[], object]]]:
        for action in self.pitboard.current_pane.palette_actions():
            yield action.title, action.help, action.run
