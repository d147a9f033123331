"""A report as data: what every kind of report is made of, before it becomes Markdown or JSON.

One document, two renderings, so the Markdown a pull request shows and the JSON a script
reads never disagree. The JSON is the document itself under a versioned schema
(`core/reports/report.schema.json`, `schema: "pitboard.report/1"`): a change that removes or
renames a field is a new version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from core.store.clock import iso

SCHEMA = "pitboard.report/1"
STATUSES = ("pass", "warn", "fail", "info")


@dataclass
class Section:
    """A titled table (`columns` and `rows`) and/or lines of text."""

    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": [[cell(v) for v in r] for r in self.rows],
                "text": self.text}


@dataclass
class Report:
    """One report: a verdict, a few summary lines first, then sections; `facts` hold the raw values."""

    kind: str
    ref: str
    title: str
    status: str
    generated_at: float
    summary: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def table(self, title: str, columns: list[str], rows: list[list[Any]]) -> None:
        """Add a table section when it has rows (an empty table says nothing)."""
        if rows:
            self.sections.append(Section(title, columns, rows))

    def to_dict(self) -> dict[str, Any]:
        if self.status not in STATUSES:
            raise ValueError(f"report status {self.status!r}")
        return {"schema": SCHEMA, "kind": self.kind, "ref": self.ref, "title": self.title, "status": self.status,
                "generated_at": self.generated_at, "generated": iso(self.generated_at), "summary": self.summary,
                "sections": [s.to_dict() for s in self.sections], "facts": clean(self.facts)}


def cell(value: Any) -> Any:
    """A table cell as JSON allows it: numbers stay numbers, NaN is null, anything else is text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalar
        return cell(value.item())
    return str(value)


def clean(value: Any) -> Any:
    """Facts as JSON: NaN as null, tuples as lists, keys as text."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return cell(value)
