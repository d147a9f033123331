"""Scoring a file with a registered version or a bundle: `pitboard predict`.

A module of its own because its model comes from a path as often as from the registry:
a bundle is read and checked by `core.registry.packaging`, and its model, like a
registered one, must answer a probe (`core.serving.probe`) before a row of the user's
file is scored. The input checks and the scoring are `core.serving.predict`'s, shared
with the service.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.serving.predict import CheckedInput, InvalidInput, Scorer, numbers_from_text
from core.serving.probe import probe_model, probe_scorer
from core.store.errors import PitboardError


def is_bundle_path(text: str) -> bool:
    """Whether a model argument names a bundle on disk rather than a registry reference."""
    path = Path(text)
    return (path.is_dir() and (path / "manifest.json").exists()) or path.is_file()


def load_scorer(ref: str, open_store: Any) -> tuple[Scorer, str]:
    """(scorer, what it is) for a bundle path or a `NAME@REF` in the database `open_store()` gives."""
    if is_bundle_path(ref):
        from core.registry.packaging import bundle_info, load_bundle

        estimator, manifest, _ = load_bundle(Path(ref), probe=probe_model)
        return Scorer.build(estimator, bundle_info(manifest)), f"{manifest['name']}@{manifest['version']} (bundle {ref})"
    from core.registry.versions import load_estimator, resolve

    store = open_store()
    mv = resolve(store, ref)
    scorer = Scorer.build(load_estimator(store, mv), mv.info)
    probe_scorer(scorer, mv.info, mv.ref)  # a version imported before bundles were probed may not answer
    return scorer, mv.ref


def output_path(out: Any, overwrite: bool) -> Path:
    """The output file of a command, refused before any work if it exists (without
    --overwrite) or its folder does not."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise PitboardError(f"{out}: already exists; choose another path or pass --overwrite")
    if not out.parent.is_dir():
        raise PitboardError(f"{out}: folder {out.parent} does not exist")
    return out


def read_checked(scorer: Scorer, input_path: Any) -> tuple[Any, CheckedInput]:
    """A CSV/Parquet file and its model inputs checked, errors naming the file's cells.

    Other columns (ids, the target) stay in the frame, to be carried into an output."""
    from core.data.tabular import read_tabular

    frame = read_tabular(input_path)
    orientation = "csv" if Path(input_path).suffix.lower() == ".csv" else "file"
    inputs = [name for name in frame.columns if name in {f.name for f in scorer.features}]
    columns = numbers_from_text(frame[inputs], scorer.features, orientation, str(input_path))
    try:
        checked = scorer.check(columns, orientation=orientation)
    except InvalidInput as exc:
        raise InvalidInput(exc.errors, source=str(input_path)) from None
    return frame, checked


def write_csv(frame: Any, out: Path) -> None:
    """Write `frame` to `out` whole or not at all (a hidden partial file, then a rename)."""
    partial = out.with_name(f".{out.name}.partial")
    frame.to_csv(partial, index=False)
    os.replace(partial, out)


def predict_file(context: Any, ref: str, input_path: Any, out: Any, *, overwrite: bool = False) -> dict[str, Any]:
    """Score a CSV/Parquet file into a CSV (its columns, then the outputs); nothing written on bad input."""

    out = output_path(out, overwrite)
    scorer, described = load_scorer(ref, lambda: context.store)
    frame, checked = read_checked(scorer, input_path)
    outputs = scorer.score(checked)
    result = frame.copy()
    for name, values in outputs.items():
        result[name] = values
    write_csv(result, out)
    return {"model": described, "rows": checked.n_rows, "output": str(out), "unknown_categories": len(checked.unknown)}
