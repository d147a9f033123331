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
