"""A bundle's `manifest.json` checked field by field before anything in it is believed.

The file hashes prove only that the files match the manifest, not that the manifest is
sane: whoever edits it can recompute them. Import copies its name, task, signature and
classes into the registry, and serving trusts those, so an unchecked manifest registered
models named `../x y` or `champion\\n`, crashed with `KeyError` on a missing field, and
registered signatures that `predict` then tripped over. Here every field pitboard
writes has a type and a rule, names go through `validate_name` like everywhere else,
unknown keys are refused (the format is versioned: a new field means a new format), and
a duplicated JSON key is refused rather than silently resolved to its last value.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.registry.tarsafety import MAX_MEMBERS, check_member_name
from core.store.errors import CheckFailed, PitboardError, shown
from core.store.refs import validate_name

FORMAT = "pitboard-bundle/1"
MANIFEST, MODEL_FILE = "manifest.json", "model.skops"
FILES = (MODEL_FILE, "requirements.txt", "MODEL_CARD.md", "Dockerfile")
TASKS = ("classification", "regression")
ROLES = ("numeric", "categorical")
MAX_TEXT = 10_000
_SHA256 = re.compile(r"[0-9a-f]{64}")


class _Bad(Exception):
    """One field at fault: `where` is its path in the manifest, the message what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")


Check = Callable[[Any, str], None]


def _text(value: Any, where: str) -> None:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _Bad(where, f"must be text of at most {MAX_TEXT:,} characters, got {shown(value, 40)}")


def _column(value: Any, where: str) -> None:
    _text(value, where)
    if not value or any(ord(char) < 32 for char in value) or len(value) > 256:
        raise _Bad(where, f"must be a column name of 1 to 256 characters without control characters, got {shown(value, 40)}")


def _integer(minimum: int) -> Check:
    def check(value: Any, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _Bad(where, f"must be a whole number of at least {minimum}, got {shown(value, 40)}")
    return check


def _number(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(where, f"must be a number, got {shown(value, 40)}")


def _flag(value: Any, where: str) -> None:
    if not isinstance(value, bool):
        raise _Bad(where, f"must be true or false, got {shown(value, 40)}")


def _sha256(value: Any, where: str) -> None:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise _Bad(where, f"must be a SHA-256 in 64 lowercase hex digits, got {shown(value, 40)}")


def _optional(check: Check) -> Check:
    def maybe(value: Any, where: str) -> None:
        if value is not None:
            check(value, where)
    return maybe


def _list_of(check: Check, *, at_least: int = 0) -> Check:
    def each(value: Any, where: str) -> None:
        if not isinstance(value, list) or len(value) < at_least:
            raise _Bad(where, f"must be a list of at least {at_least} entries, got {shown(value, 40)}")
        for i, item in enumerate(value):
            check(item, f"{where}[{i}]")
    return each


def _mapping_of(check: Check) -> Check:
    def each(value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise _Bad(where, f"must be an object, got {shown(value, 40)}")
        for key, item in value.items():
            _text(key, where)
            check(item, f"{where}.{key}")
    return each


def _record(fields: dict[str, tuple[bool, Check]]) -> Check:
    """An object with exactly these keys (the bool says required; optional ones may be absent)."""
    def check(value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise _Bad(where or "manifest", f"must be an object, got {shown(value, 40)}")
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise _Bad(_join(where, unknown[0]), "unknown field; refused")
        for key, (required, field_check) in fields.items():
            if key not in value:
                if required:
                    raise _Bad(_join(where, key), "missing")
                continue
            field_check(value[key], _join(where, key))
    return check


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _one_of(choices: tuple[str, ...]) -> Check:
    def check(value: Any, where: str) -> None:
        if value not in choices:
            raise _Bad(where, f"must be one of {', '.join(map(repr, choices))}, got {shown(value, 40)}")
    return check


def _model_name(value: Any, where: str) -> None:
    try:
        validate_name(value, "model name")
    except PitboardError as exc:
        raise _Bad(where, str(exc)) from None


def _label(value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value) or not isinstance(value, (str, int, float)):
        raise _Bad(where, f"must be a class label (text or a number), got {shown(value, 40)}")


def _feature(value: Any, where: str) -> None:
    _record({
        "name": (True, _column),
        "dtype": (True, _column),
        "role": (True, _one_of(ROLES)),
        "categories": (True, _optional(_list_of(_text))),
        "nullable": (True, _flag),
    })(value, where)
    if (value["role"] == "categorical") != (value["categories"] is not None):
        raise _Bad(f"{where}.categories", "a list for a categorical feature, null for a numeric one")


def _signature(value: Any, where: str) -> None:
    _list_of(_feature, at_least=1)(value, where)
    names = [feature["name"] for feature in value]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _Bad(where, f"feature {shown(repeated[0])} appears twice")


def _files(value: Any, where: str) -> None:
    _mapping_of(_sha256)(value, where)
    if len(value) > MAX_MEMBERS:
        raise _Bad(where, f"lists more than {MAX_MEMBERS} files")
    for name in value:
        try:
            check_member_name(Path(MANIFEST), name, what="file")
        except PitboardError as exc:
            raise _Bad(where, str(exc).removeprefix(f"{MANIFEST}: ")) from None
    missing = [name for name in FILES if name not in value]
    if missing:
        raise _Bad(where, f"no SHA-256 for {missing[0]}")
    if MANIFEST in value:
        raise _Bad(where, f"cannot list {MANIFEST} itself")


_FEATURE_IMPORTANCE = _record({"feature": (True, _column), "mean": (True, _number), "std": (True, _number),
                               "contribution": (False, _number)})
_OUTPUT = _record({"classes": (True, _optional(_list_of(_label, at_least=2))), "columns": (True, _list_of(_text))})
_MANIFEST = _record({
    "format": (True, _one_of((FORMAT,))),
    "name": (True, _model_name),
    "version": (True, _integer(1)),
    "task": (True, _one_of(TASKS)),
    "signature": (True, _signature),
    "output": (True, _OUTPUT),
    "model_sha256": (True, _sha256),
    "files": (True, _files),
    "description": (False, _optional(_text)),
    "estimator": (False, _optional(_text)),
    "primary_metric": (False, _optional(_text)),
    "metrics": (False, _optional(_mapping_of(_optional(_number)))),
    "holdout_size": (False, _optional(_integer(0))),
    "feature_importance": (False, _optional(_list_of(_FEATURE_IMPORTANCE))),
    "dataset": (False, _optional(_text)),
    "dataset_sha256": (False, _optional(_text)),
    "dataset_rows": (False, _optional(_integer(0))),
    "run": (False, _optional(_integer(1))),
    "experiment": (False, _optional(_text)),
    "git_commit": (False, _optional(_text)),
    "git_dirty": (False, _optional(_flag)),
    "python": (False, _optional(_text)),
    "packages": (False, _optional(_mapping_of(_text))),
    "source": (False, _optional(_text)),
})


def output_columns(classes: list[Any] | None) -> list[str]:
    """The columns a model answers with: its label and one probability per class, or its prediction."""
    return ["label", *[f"proba_{c}" for c in classes]] if classes else ["prediction"]


def parse_manifest(source: Path, data: bytes) -> dict[str, Any]:
    """The manifest in `data`, once it is JSON without repeated keys and every field checks out."""
    try:
        manifest = json.loads(data.decode("utf-8"), object_pairs_hook=_no_repeats)
    except _Bad as exc:
        raise CheckFailed(f"{source}: {MANIFEST}: {exc}") from None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CheckFailed(f"{source}: {MANIFEST} is not valid JSON ({' '.join(str(exc).split())[:200]})") from None
    try:
        _MANIFEST(manifest, "")
        _consistent(manifest)
    except _Bad as exc:
        raise CheckFailed(f"{source}: {MANIFEST}: {exc}") from None
    return manifest


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Bad(shown(key, 40), "appears twice in one object; refused")
        seen[key] = value
    return seen


def _consistent(manifest: dict[str, Any]) -> None:
    """What no single field says: the task, classes and output columns agree, and so do the hashes."""
    classes = manifest["output"]["classes"]
    if (manifest["task"] == "classification") != (classes is not None):
        raise _Bad("output.classes", f"a list of labels for a classification model, null for regression; task is {manifest['task']!r}")
    if classes is not None and len({json.dumps(c) for c in classes}) != len(classes):
        raise _Bad("output.classes", "a label appears twice")
    if manifest["output"]["columns"] != output_columns(classes):
        raise _Bad("output.columns", f"must be {output_columns(classes)} for these classes")
    if manifest["files"][MODEL_FILE] != manifest["model_sha256"]:
        raise _Bad("model_sha256", f"differs from the SHA-256 listed for {MODEL_FILE}")
