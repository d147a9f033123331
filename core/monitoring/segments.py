"""Segments: which slice of the traffic moved, when the whole looks calm.

`[monitoring] segments = ["region", "income"]` names model features to slice by: a
categorical (or discrete) feature by its reference categories, a numeric one by its
reference quantiles (`segment_bins` slices). Missing values form a `(missing)` slice and
categories the reference never saw an `(other)` one.

Each segment of the reference keeps, per feature, its histogram over the feature's
reference bins (`core.monitoring.drift_tests.histogram`); each window keeps the same
histograms for its own rows of the segment, its row count and, when labels come with the
rows, its metrics. Histograms add up, so merged windows are exact, and every judgement is
made from them when asked: a segment is compared with the same segment of the reference
(a region with lower incomes is not drift; its incomes falling is), by a chi-square test
on the two histograms (p-value), Cramer's V (effect size, judged against `min_effect`)
and PSI (how far it moved).

With features times segments tests per window, a few hundred at 5% each would flag
something in every window by chance. The p-values are judged together instead, with the
Benjamini-Hochberg procedure at `[monitoring] fdr` (0.05): on pure noise a window flags
anything at all in about that share of windows. Segments with fewer than
`segment_min_rows` rows, in the window or in the reference, are listed but not judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.monitoring.drift_tests import histogram

MISSING = "(missing)"
OTHER = "(other)"
PSI_FLOOR = 1e-4  # the share an empty bin counts as in PSI, as the kernels' PSI does


@dataclass(frozen=True)
class SegmentReference:
    """How one column cuts rows into segments, and each reference segment's histograms."""

    column: str
    kind: str  # numeric: cut at `edges`; otherwise by code
    edges: list[float]
    labels: list[str]  # the segments in code order; then OTHER, MISSING
    counts: dict[str, int]
    histograms: dict[str, dict[str, list[int]]]  # segment -> feature -> counts

    @property
    def all_labels(self) -> list[str]:
        return [*self.labels, OTHER, MISSING]

    def codes(self, values: np.ndarray) -> np.ndarray:
        """Each row's segment index into `all_labels`."""
        n = len(self.labels)
        if self.kind == "numeric":
            codes = np.searchsorted(np.asarray(self.edges), values, side="right").astype(np.int64)
            codes[np.isnan(values)] = n + 1
            return codes
        codes = np.minimum(values, n).astype(np.int64)
        codes[values < 0] = n + 1
        return codes

    def to_json(self) -> str:
        return json.dumps({"column": self.column, "kind": self.kind, "edges": self.edges, "labels": self.labels,
                           "counts": self.counts, "histograms": self.histograms})

    @classmethod
    def from_json(cls, text: str) -> "SegmentReference":
        data = json.loads(text)
        return cls(data["column"], data["kind"], data["edges"], data["labels"], data["counts"], data["histograms"])


@dataclass
class SegmentStats:
    """One segment of one window: rows, per-feature histograms, labelled metrics."""

    column: str
    segment: str
    n_rows: int
    histograms: dict[str, list[int]]
    n_labelled: int = 0
    metrics: dict[str, float] = field(default_factory=dict)


def fit(column: str, features: list[Any], columns: dict[str, np.ndarray], bins: int) -> SegmentReference:
    """The segments of `column` in the reference's encoded columns, with their histograms."""
    source = next(f for f in features if f.name == column)
    values = columns[column]
    if source.kind == "numeric":
        present = values[np.isfinite(values)]
        cuts = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]) if len(present) else np.array([])
        edges = [float(v) for v in np.unique(cuts)]
        labels = _interval_labels(column, edges)
    else:
        edges, labels = [], [str(c) for c in source.categories]
    partial = SegmentReference(column, "numeric" if source.kind == "numeric" else "codes", edges, labels, {}, {})
    codes = partial.codes(values)
    counts, histograms = {}, {}
    for code in np.unique(codes):
        rows = codes == code
        label = partial.all_labels[int(code)]
        counts[label] = int(rows.sum())
        histograms[label] = {f.name: _histogram(f, columns[f.name][rows]) for f in features}
    return SegmentReference(column, partial.kind, edges, labels, counts, histograms)


def _interval_labels(column: str, edges: list[float]) -> list[str]:
    if not edges:
        return [f"{column} (all)"]
    inner = [f"{_number(lo)} <= {column} < {_number(hi)}" for lo, hi in zip(edges, edges[1:])]
    return [f"{column} < {_number(edges[0])}", *inner, f"{column} >= {_number(edges[-1])}"]


def _number(value: float) -> str:
    """43,550 rather than 4.355e+04: slice names are read by people."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _histogram(feature: Any, values: np.ndarray) -> list[int]:
    present = values[~np.isnan(values)] if feature.kind == "numeric" else values[values >= 0]
    return [int(c) for c in histogram(feature.profile, present)]


def window_segments(references: list[SegmentReference], features: list[Any], columns: dict[str, np.ndarray],
                    metrics_of: Any = None) -> list[SegmentStats]:
    """Per segment of each column: rows, histograms and (with `metrics_of(rows)`) metrics."""
    found = []
    for reference in references:
        codes = reference.codes(columns[reference.column])
        for code in np.unique(codes):
            rows = codes == code
            stats = SegmentStats(reference.column, reference.all_labels[int(code)], int(rows.sum()),
                                 {f.name: _histogram(f, columns[f.name][rows]) for f in features})
            if metrics_of is not None:
                stats.n_labelled, stats.metrics = metrics_of(rows)
            found.append(stats)
    return found


def merge(parts: list[list[SegmentStats]]) -> list[SegmentStats]:
    """The segments of a window from its parts': rows and histograms add, metrics are weighted by labels."""
    by_key: dict[tuple[str, str], list[SegmentStats]] = {}
    for part in parts:
        for stats in part:
            by_key.setdefault((stats.column, stats.segment), []).append(stats)
    merged = []
    for (column, segment), pieces in by_key.items():
        names = pieces[0].histograms
        labelled = sum(p.n_labelled for p in pieces)
        metrics = {}
        for name in sorted({m for p in pieces for m in p.metrics}):
            weighted = [(p.metrics[name], p.n_labelled) for p in pieces if name in p.metrics and p.n_labelled]
            if weighted:
                metrics[name] = float(np.average([v for v, _ in weighted], weights=[w for _, w in weighted]))
        merged.append(SegmentStats(column, segment, sum(p.n_rows for p in pieces),
                                   {n: [int(c) for c in np.sum([p.histograms[n] for p in pieces], axis=0)] for n in names},
                                   labelled, metrics))
    return merged


# -- judging -------------------------------------------------------------------------------


def two_sample_chi2(reference: np.ndarray, current: np.ndarray) -> tuple[float, float, float]:
    """(chi-square, p-value, Cramer's V) of two histograms over the same bins (empty bins dropped)."""
    from scipy.special import chdtrc  # the chi-square tail, without importing all of scipy.stats

    reference, current = np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64)
    used = (reference + current) > 0
    reference, current = reference[used], current[used]
    total = reference.sum() + current.sum()
    if len(reference) < 2 or reference.sum() == 0 or current.sum() == 0:
        return 0.0, 1.0, 0.0
    columns = reference + current
    statistic = 0.0
    for row in (reference, current):
        expected = columns * row.sum() / total
        statistic += float(np.sum((row - expected) ** 2 / expected))
    return statistic, float(chdtrc(len(reference) - 1, statistic)), float(np.sqrt(statistic / total))


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI of two histograms over the same bins."""
    p = np.maximum(np.asarray(reference, dtype=np.float64) / max(1, np.sum(reference)), PSI_FLOOR)
    q = np.maximum(np.asarray(current, dtype=np.float64) / max(1, np.sum(current)), PSI_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def benjamini_hochberg(p_values: np.ndarray, rate: float) -> np.ndarray:
    """Which hypotheses the Benjamini-Hochberg procedure rejects at false discovery `rate`."""
    p_values = np.asarray(p_values, dtype=np.float64)
    m = len(p_values)
    rejected = np.zeros(m, dtype=bool)
    if m == 0:
        return rejected
    order = np.argsort(p_values, kind="stable")
    below = np.flatnonzero(p_values[order] <= rate * np.arange(1, m + 1) / m)
    if len(below):
        rejected[order[: below[-1] + 1]] = True
    return rejected


def judge(references: list[SegmentReference], segments: list[SegmentStats], *, min_rows: int, fdr: float,
          min_effect: float, overall: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Every segment of a window, ranked by how far it moved (its largest feature PSI).

    Judged segments come first; the others say why they are not judged. `overall` (the
    window's metrics) gives each labelled segment its metric change.
    """
    by_column = {r.column: r for r in references}
    tests, rows = [], []
    for stats in segments:
        reference = by_column.get(stats.column)
        reference_rows = reference.counts.get(stats.segment, 0) if reference else 0
        row: dict[str, Any] = {"column": stats.column, "segment": stats.segment, "rows": stats.n_rows,
                               "reference_rows": reference_rows, "moved": None, "flagged": [], "features": {},
                               "metrics": stats.metrics, "n_labelled": stats.n_labelled, "judged": False, "why": ""}
        if overall:
            row["metric_change"] = {k: v - overall[k] for k, v in stats.metrics.items() if k in overall}
        if reference_rows == 0:
            row["why"] = "not in the reference"
        elif min(stats.n_rows, reference_rows) < min_rows:
            row["why"] = "too few rows"  # the caller says the minimum once, above the list
        else:
            row["judged"] = True
            for feature, counts in stats.histograms.items():
                ref_counts = reference.histograms[stats.segment][feature]
                _, p_value, effect = two_sample_chi2(ref_counts, counts)
                row["features"][feature] = {"psi": psi(ref_counts, counts), "p_value": p_value, "effect": effect}
                tests.append((len(rows), feature, p_value, effect))
            row["moved"] = max((f["psi"] for f in row["features"].values()), default=0.0)
        rows.append(row)
    rejected = benjamini_hochberg(np.array([t[2] for t in tests]), fdr)
    for (index, feature, _, effect), reject in zip(tests, rejected):
        if reject and effect >= min_effect:
            rows[index]["flagged"].append(feature)
    for row in rows:
        row["flagged"].sort(key=lambda name: -row["features"][name]["psi"])
    judged = sorted((r for r in rows if r["judged"]), key=lambda r: -r["moved"])
    return judged + sorted((r for r in rows if not r["judged"]), key=lambda r: -r["rows"])
