"""`pitboard.toml`, the optional configuration file beside the database.

Each engine module owns one section and its defaults (`core.data.validation.DEFAULTS` for
`[validation]`, and so on) and reads it with `Store.settings(section, defaults)`. Keys are
checked against the defaults: a typo or a value of the wrong type is an error that names
the file, the key and the valid choices, never a silently ignored setting.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from core.store.errors import PitboardError


def load_config(path: Path) -> dict[str, Any]:
    """The parsed file, or an empty configuration when it does not exist."""
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise PitboardError(f"{path}: invalid TOML ({exc})") from exc
    except OSError as exc:
        raise PitboardError(f"{path}: cannot read ({exc.strerror})") from exc


def merge_section(config: dict[str, Any], section: str, defaults: dict[str, Any], path: Path) -> dict[str, Any]:
    """`defaults` overridden by `config[section]`, after checking every key and type.

    Dotted sections (`models.credit-risk`) look up nested tables. A default of None
    accepts any value; nested dict defaults are merged recursively.
    """
    found: Any = config
    for part in section.split("."):
        found = found.get(part, {}) if isinstance(found, dict) else {}
    if not isinstance(found, dict):
        raise PitboardError(f"{path}: [{section}] must be a table")
    return _merge(found, defaults, section, path)


def _merge(found: dict[str, Any], defaults: dict[str, Any], where: str, path: Path) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in found.items():
        if key not in defaults:
            valid = ", ".join(sorted(defaults)) or "(none)"
            raise PitboardError(f"{path}: unknown key {key!r} in [{where}]; valid keys: {valid}")
        default = defaults[key]
        if isinstance(default, dict) and isinstance(value, dict):
            merged[key] = _merge(value, default, f"{where}.{key}", path)
        elif default is not None and not _same_kind(default, value):
            raise PitboardError(
                f"{path}: [{where}] {key} = {value!r} should be {type(default).__name__}"
            )
        else:
            merged[key] = value
    return merged


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))
