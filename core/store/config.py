"""`pitboard.toml`, the optional configuration file beside the database.

Each engine module owns one section, its defaults and the ranges of its numeric settings
(`core.data.validation.DEFAULTS` and `RANGES` for `[validation]`, and so on) and reads it
with `Store.settings(section, defaults, ranges)`. Keys are checked against the defaults
and values against the ranges when the file is read: a typo, a value of the wrong type or
one out of range (a negative interval that would spin a server at 100% CPU) is an error
that names the file, the key and what is allowed, never a silently ignored setting.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.store.errors import PitboardError


@dataclass(frozen=True)
class Range:
    """The values a numeric setting may take: finite, from `low` (excluded when `open_low`)
    up to `high`, never one of `excluded`; whole numbers when the default is an int."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    excluded: tuple[float, ...] = ()

    def problem(self, value: float) -> str | None:
        """Why `value` is out of range, or None."""
        if not math.isfinite(value):
            return "must be a finite number"
        too_low = self.low is not None and (value <= self.low if self.open_low else value < self.low)
        too_high = self.high is not None and value > self.high
        if too_low or too_high or value in self.excluded:
            return f"must be {self.describe()}"
        return None

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            text = f"between {_number(self.low)} and {_number(self.high)}"
            if self.open_low:
                text = f"greater than {_number(self.low)} and at most {_number(self.high)}"
        elif self.low is not None:
            text = f"{'greater than' if self.open_low else 'at least'} {_number(self.low)}"
        else:
            text = f"at most {_number(self.high)}" if self.high is not None else "a finite number"
        if self.excluded:
            text += f", not {', '.join(_number(x) for x in self.excluded)}"
        return text


def at_least(low: float, high: float | None = None) -> Range:
    """`low` <= value (<= `high`)."""
    return Range(low, high)


def above(low: float, high: float | None = None) -> Range:
    """`low` < value (<= `high`)."""
    return Range(low, high, open_low=True)


SHARE = Range(0.0, 1.0)  # a fraction of rows, features or requests


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def load_config(path: Path) -> dict[str, Any]:
    """The parsed file, or an empty configuration when it does not exist."""
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise PitboardError(f"{path}: invalid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise PitboardError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except RecursionError as exc:
        raise PitboardError(f"{path}: invalid TOML (arrays or tables nested too deeply)") from exc
    except OSError as exc:
        raise PitboardError(f"{path}: cannot read ({exc.strerror})") from exc


def merge_section(config: dict[str, Any], section: str, defaults: dict[str, Any], path: Path,
                  ranges: Mapping[str, Range] | None = None) -> dict[str, Any]:
    """`defaults` overridden by `config[section]`, after checking every key, type and range.

    Dotted sections (`models.credit-risk`) look up nested tables. A default of None
    accepts any value; nested dict defaults are merged recursively. Every numeric default
    must have its range in `ranges` (a programming error otherwise, caught by the tests).
    """
    unbounded = sorted(key for key, value in defaults.items() if _numeric(value) and key not in (ranges or {}))
    if unbounded:
        raise TypeError(f"[{section}] numeric settings without a range: {', '.join(unbounded)}")
    found: Any = config
    for part in section.split("."):
        found = found.get(part, {}) if isinstance(found, dict) else {}
    if not isinstance(found, dict):
        raise PitboardError(f"{path}: [{section}] must be a table")
    return _merge(found, defaults, section, path, ranges or {})


def _merge(found: dict[str, Any], defaults: dict[str, Any], where: str, path: Path,
           ranges: Mapping[str, Range]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in found.items():
        if key not in defaults:
            valid = ", ".join(sorted(defaults)) or "(none)"
            raise PitboardError(f"{path}: unknown key {key!r} in [{where}]; valid keys: {valid}")
        default = defaults[key]
        if isinstance(default, dict) and isinstance(value, dict):
            merged[key] = _merge(value, default, f"{where}.{key}", path, {})
        elif default is not None and not _same_kind(default, value):
            raise PitboardError(
                f"{path}: [{where}] {key} = {value!r} should be {type(default).__name__}"
            )
        elif key in ranges and _numeric(value):
            merged[key] = _checked(value, default, ranges[key], f"{path}: [{where}] {key} = {value!r}")
        else:
            merged[key] = value
    return merged


def _checked(value: float, default: Any, allowed: Range, said: str) -> float:
    problem = allowed.problem(value)
    if problem is None and isinstance(default, int) and not float(value).is_integer():
        problem = "must be a whole number"
    if problem:
        raise PitboardError(f"{said} {problem}")
    return int(value) if isinstance(default, int) else value


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))
