"""The text files of a bundle: MODEL_CARD.md, requirements.txt and the Dockerfile.

A model card is what a reviewer reads before trusting a model in production (Mitchell et
al., "Model Cards for Model Reporting"): what it is for, what it learned from, how well
it did and on how many rows, what drives it, where it should not be used, and which
gates it passed. Everything here comes from the version's recorded info; nothing is
re-computed, so the card describes exactly the model in the bundle.
"""

from __future__ import annotations

from typing import Any

from core.store.clock import iso

# What loading and serving a bundle needs, beyond the packages the run recorded.
SERVING_PACKAGES = ("fastapi", "uvicorn", "pyarrow", "click", "httpx")
LOADING_PACKAGES = ("scikit-learn", "numpy", "scipy", "pandas", "skops", "joblib")


def requirements(manifest: dict[str, Any]) -> str:
    """Exact pins of the packages needed to load and serve the model."""
    packages = manifest["packages"]
    lines = [f"{name}=={packages[name]}" for name in (*LOADING_PACKAGES, *SERVING_PACKAGES, "pitboard") if name in packages]
    return "# Exact versions the model was trained and packaged with (loading needs the same scikit-learn).\n" + "\n".join(lines) + "\n"


def dockerfile(manifest: dict[str, Any]) -> str:
    """A Dockerfile that installs the requirements and serves this bundle on port 8000."""
    return f"""# Serves {manifest['name']} version {manifest['version']} with `pitboard serve` on port 8000.
# pitboard must be installable by pip here: from your package index, or put its wheel in
# this folder and add `--find-links /bundle` to the pip command.
FROM python:{manifest['python']}-slim
WORKDIR /bundle
COPY requirements.txt /bundle/requirements.txt
RUN pip install --no-cache-dir -r /bundle/requirements.txt
COPY . /bundle
RUN pitboard bundle verify /bundle
VOLUME /data
EXPOSE 8000
CMD ["pitboard", "--db", "/data/pitboard.db", "serve", "/bundle", "--host", "0.0.0.0", "--port", "8000"]
"""


def model_card(manifest: dict[str, Any], gates: list[dict[str, Any]]) -> str:
    """MODEL_CARD.md for a bundle."""
    name, version = manifest["name"], manifest["version"]
    metrics = manifest.get("metrics") or {}
    holdout = {k: v for k, v in metrics.items() if not k.startswith("cv_")}
    lines = [
        f"# Model card: {name} version {version}",
        "",
        "## Intended use",
        "",
        manifest.get("description") or f"{manifest['task'].capitalize()} with a {manifest['estimator']} pipeline, "
        f"scored through `pitboard serve` or `pitboard predict` on inputs that match the signature below.",
        "",
        "## Training data",
        "",
        f"- Dataset version: {manifest.get('dataset') or 'unknown'} ({manifest.get('dataset_rows') or '?'} rows,"
        f" SHA-256 {manifest.get('dataset_sha256') or 'unknown'})",
        f"- Run: {manifest.get('run') or 'imported'} in experiment {manifest.get('experiment') or 'unknown'}",
        f"- Code: commit {manifest.get('git_commit') or 'unknown'}" + (" (uncommitted changes)" if manifest.get("git_dirty") else ""),
        "",
        "## Metrics",
        "",
        f"On a holdout of {manifest.get('holdout_size') or '?'} rows never used in training"
        f" (primary metric: {manifest.get('primary_metric')}):",
        "",
        "| metric | value |",
        "| --- | --- |",
        *[f"| {k} | {v:.4f} |" for k, v in sorted(holdout.items()) if isinstance(v, (int, float))],
        "",
        "## Most important features",
        "",
        "Permutation importance on the holdout (drop in the primary metric when the feature is shuffled):",
        "",
        "| feature | importance | std |",
        "| --- | --- | --- |",
        *[f"| {f['feature']} | {f['mean']:.4f} | {f['std']:.4f} |" for f in _top(manifest.get("feature_importance") or [])],
        "",
        *_contribution_lines(manifest.get("feature_importance") or [], manifest.get("task")),
        "## Limitations",
        "",
        f"- Trained on {manifest.get('dataset') or 'its training data'} only; populations or periods unlike it"
        f"{_shift_example(manifest.get('feature_importance') or [])} can degrade it: monitor drift.",
        *_input_limits(manifest.get("signature") or []),
        "",
        "## Gates passed",
        "",
        *(_gate_lines(gates) or ["No promotion gates were evaluated for this version."]),
        "",
    ]
    return "\n".join(lines)


def _top(importance: list[dict[str, Any]], n: int = 10) -> list[dict[str, Any]]:
    """The n features the run ranks first (training records them most important first, as `runs show` lists them)."""
    return importance[:n]


def _contribution_lines(importance: list[dict[str, Any]], task: str | None) -> list[str]:
    """The global picture of the explanations: mean |contribution| per feature, largest first."""
    found = sorted((f for f in importance if isinstance(f.get("contribution"), (int, float))),
                   key=lambda f: -f["contribution"])
    if not found:
        return []
    scale = "of the model's explained output (log-odds or probability)" if task == "classification" else "of the prediction"
    return [
        "## What drives single predictions",
        "",
        f"Mean absolute contribution to a holdout row's prediction, in units {scale}"
        " (`pitboard explain` gives each row's own):",
        "",
        "| feature | mean abs contribution |",
        "| --- | --- |",
        *[f"| {f['feature']} | {f['contribution']:.4f} |" for f in found[:10]],
        "",
    ]


def _shift_example(importance: list[dict[str, Any]]) -> str:
    """An example of a harmful shift from this model's own facts: its two most important features."""
    drivers = [f["feature"] for f in _top(importance, 2) if (f.get("mean") or 0.0) > 0]
    return f" (for example a shift in {' or '.join(drivers)})" if drivers else ""


def _input_limits(signature: list[dict[str, Any]]) -> list[str]:
    strict = [f["name"] for f in signature if not f.get("nullable")]
    lines = []
    if strict:
        lines.append(f"- Missing values are refused for: {', '.join(strict)} (none were seen in training).")
    categorical = [f["name"] for f in signature if f.get("categories") is not None]
    if categorical:
        lines.append(f"- Categories never seen in training ({', '.join(categorical)}) are handled by the encoder's"
                     " `handle_unknown` setting and reported in every response.")
    return lines


def _gate_lines(gates: list[dict[str, Any]]) -> list[str]:
    lines = []
    for entry in gates:
        header = f"Promoted to `{entry['alias']}` on {iso(entry['ts'])} by {entry['user']}"
        if entry.get("forced"):
            header += f", forced: {entry.get('reason')}"
        lines.append(f"- {header}")
        lines += [f"  - {_gate_line(g)}" for g in entry["gates"]]
    return lines


def _gate_line(gate: dict[str, Any]) -> str:
    """One gate as the card says it: only the facts it has (a free alias has no value to beat)."""
    facts = " ".join(part for part in (
        None if gate["value"] is None else str(gate["value"]),
        None if gate["threshold"] is None else f"(threshold {gate['threshold']})",
    ) if part)
    note = f"; {gate['message']}" if gate.get("message") else ""
    return f"{gate['name']}: {facts + ': ' if facts else ''}{gate['verdict']}{note}"
