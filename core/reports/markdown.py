"""A report as Markdown that reads the same in a pull request comment and in a terminal.

GitHub-flavoured pipe tables, no HTML, the verdict in a word (never only a colour or an
emoji), summary lines before any table, numbers with 4 decimals at most, and every cell
escaped so a `|` or a newline in a message cannot break its table.
"""

from __future__ import annotations

import math
from typing import Any

from core.reports.document import SCHEMA, Report
from core.store.clock import iso


def number(value: Any) -> str:
    """A cell for people: 4 decimals at most, no trailing zeros, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-4):
            return f"{value:.4g}"
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def escape(text: str) -> str:
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def render(report: Report) -> str:
    """The whole report; ends with one newline."""
    lines = [f"## {report.title}", "", f"**{report.status.upper()}** · {report.kind} report for `{report.ref}`", ""]
    lines += [f"- {line}" for line in report.summary]
    for section in report.sections:
        lines += ["", f"### {section.title}", ""]
        lines += section.text
        if section.columns:
            if section.text:
                lines.append("")
            numeric = [all(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) or r[i] is None
                           for r in section.rows) for i in range(len(section.columns))]
            lines.append("| " + " | ".join(escape(c) for c in section.columns) + " |")
            lines.append("| " + " | ".join("---:" if n else "---" for n in numeric) + " |")
            lines += ["| " + " | ".join(escape(number(v)) for v in row) + " |" for row in section.rows]
    lines += ["", f"_{SCHEMA} · generated {iso(report.generated_at)} UTC by pitboard_"]
    return "\n".join(lines) + "\n"
