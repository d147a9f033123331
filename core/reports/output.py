"""A report written where it was asked for: stdout, or a file written whole or not at all."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from core.reports.document import Report
from core.reports.markdown import render
from core.store.errors import PitboardError


def text(report: Report, fmt: str) -> str:
    """The report as `md` or `json` text."""
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"
    return render(report)


def write_report(report: Report, fmt: str, output: Path | None) -> None:
    """Print, or replace `output` atomically (a CI step never reads half a report)."""
    body = text(report, fmt)
    if output is None:
        sys.stdout.write(body)
        return
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise PitboardError(f"{output}: folder {folder} does not exist")
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(body)
        os.replace(temporary, output)
    except OSError as exc:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        raise PitboardError(f"{output}: cannot write ({exc.strerror or exc})") from exc
