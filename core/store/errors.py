"""Errors a user can act on.

Anything raised as `PitboardError` is shown as one line (no traceback) and makes the
`pitboard` command exit non-zero. The message must name the file, field or value at fault.
"""


class PitboardError(Exception):
    """A problem with the user's input, files or database, explained in one line."""

    exit_code = 2


class NotFound(PitboardError):
    """A dataset, run, model, version, alias or job that does not exist."""


class CheckFailed(PitboardError):
    """A check the user asked for ran and failed (validation, a promotion gate)."""

    exit_code = 1


def shown(value: object, limit: int = 80) -> str:
    """`value` as it belongs in a one-line message: repr'd, so a newline, NUL or other control
    character is visible as an escape instead of breaking or hiding in the line, and cut
    after `limit` characters so a megabyte of junk does not become a megabyte of error."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(value) if isinstance(value, (str, bytes)) else len(text)} characters)"
