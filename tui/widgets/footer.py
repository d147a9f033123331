"""The footer: the keys live where the focus is, drawn as one line of text by one widget.

Textual's Footer is a container that removes and mounts one widget per key on every
binding change, and a pane switch changes the bindings twice (the old focus goes, the new
one comes). Mounting, styling and laying out those dozen widgets cost 60-90 ms of the
event loop per pane switch at 120 columns, more than everything else the switch does
(measured with benchmarks/tui_responsiveness.py). This footer is a single widget: a
binding change rebuilds a list of (key, label) pairs and, only when that list changed,
repaints one line. Nothing is mounted and the layout is untouched.

It keeps what the stock footer offers: compact spacing (at 80 columns a pane's own keys,
the table's `/` and the app's `q`, `?` and `ctrl+p` share one line), disabled keys dimmed,
the command palette key at the right edge, and a click on a key presses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


@dataclass(frozen=True)
class FooterKey:
    """One key as the footer shows it."""

    key: str  # the key as Textual names it, pressed again on a click
    display: str  # as the user reads it (`^p`, `enter`, `/`)
    description: str
    enabled: bool


class KeysFooter(Widget):
    """The shown keys of the focused widget and its ancestors, on one line."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer-key--key", "footer-key--description", "footer--separator"}
    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .footer--separator {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.keys: tuple[FooterKey, ...] = ()
        self.palette: FooterKey | None = None
        self._spans: list[tuple[int, int, FooterKey]] = []  # (start, end, key) of each drawn key
        self._pending = False  # a read of the keys is scheduled

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self._read_keys()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        """Read the live keys after this refresh: a focus move changes the bindings twice
        (blur, then focus), and the footer draws only where they ended up."""
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._read_keys)

    def _read_keys(self) -> None:
        """Take the screen's live keys; repaint only when what the footer shows changed."""
        self._pending = False
        if not self.is_attached:
            return
        palette_key = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        keys: list[FooterKey] = []
        palette = None
        seen_actions: set[str] = set()
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            shown = FooterKey(binding.key, self.app.get_key_display(binding), binding.description, active.enabled)
            if key == palette_key:  # shown at the right edge, whatever its `show`, as Textual's footer does
                palette = shown
            elif binding.show and binding.action not in seen_actions:  # one entry per action, as Textual's footer
                seen_actions.add(binding.action)
                keys.append(shown)
        if (tuple(keys), palette) != (self.keys, self.palette):
            self.keys, self.palette = tuple(keys), palette
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        line = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        for shown in self.keys:
            self._spans.append((line.cell_len, line.cell_len + len(shown.display) + 1 + len(shown.description), shown))
            self._append(line, shown, key_style, description_style)
            line.append(" ")
        if self.palette is not None:
            right = Text(no_wrap=True, end="")
            right.append("▏", self.get_component_rich_style("footer--separator"))
            self._append(right, self.palette, key_style, description_style)
            right.append(" ")
            start = max(line.cell_len, self.size.width - right.cell_len)
            line.truncate(start, pad=True)
            self._spans = [span for span in self._spans if span[1] <= start]
            self._spans.append((start + 1, start + right.cell_len - 1, self.palette))
            line.append_text(right)
        return line

    @staticmethod
    def _append(line: Text, shown: FooterKey, key_style: Style, description_style: Style) -> None:
        dim = Style() if shown.enabled else Style(dim=True)
        line.append(shown.display, key_style + dim)
        if shown.description:
            line.append(" " + shown.description, description_style + dim)

    def on_click(self, event: events.Click) -> None:
        """A click on a key presses it; a disabled key rings the bell."""
        for start, end, shown in self._spans:
            if start <= event.x < end:
                if shown.enabled:
                    self.app.simulate_key(shown.key)
                else:
                    self.app.bell()
                return
