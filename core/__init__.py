"""pitboard's engine: everything the app and the `pitboard` command do, usable as a library.

Nothing under `core` imports textual; the TUI in `tui/` is one face of this engine and the
CLI in `core.cli` is the other.
"""

__version__ = "0.1.0"
