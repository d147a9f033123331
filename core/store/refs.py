"""References like `credit@3`, `credit-risk@champion` or plain `credit` (latest).

Names (datasets, models, aliases, experiments, tag keys) are matched whole with
`fullmatch`: a pattern ending in `$` also matches before a final newline, which once let
`champion\n` in as a second alias that prints exactly like `champion`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.store.errors import PitboardError, shown

MAX_NAME_LENGTH = 128
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


@dataclass(frozen=True)
class Ref:
    """A parsed `NAME[@SELECTOR]`; `selector` is a version number, an alias, or None."""

    name: str
    selector: str | None = None

    @property
    def version(self) -> int | None:
        """The selector as a version number, if it is one."""
        if self.selector is not None and self.selector.isdigit():
            return int(self.selector)
        return None

    def __str__(self) -> str:
        return self.name if self.selector is None else f"{self.name}@{self.selector}"


def validate_name(name: str, what: str = "name") -> str:
    """Return `name` if it is a usable identifier for datasets, models and experiments."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise PitboardError(
            f"invalid {what} {shown(name)}: use letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise PitboardError(f"invalid {what} {shown(name)}: longer than {MAX_NAME_LENGTH} characters")
    return name


def parse_ref(text: str) -> Ref:
    """Parse `NAME`, `NAME@VERSION` or `NAME@ALIAS`."""
    name, sep, selector = text.partition("@")
    validate_name(name)
    if sep and not selector:
        raise PitboardError(f"invalid reference {shown(text)}: nothing after '@'")
    if sep and (not _NAME.fullmatch(selector) or len(selector) > MAX_NAME_LENGTH):
        raise PitboardError(f"invalid reference {shown(text)}: bad version or alias {shown(selector)}")
    return Ref(name, selector or None)
