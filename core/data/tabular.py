"""Reading CSV and Parquet files into a canonical DataFrame, refusing bad input clearly.

Everything that takes a user's file (dataset import, monitoring batches, `pitboard predict`)
goes through `read_tabular`, so every entry point rejects the same bad files with the same
one-line message naming the file and what is wrong with it.

The result is canonical so that the same table always looks the same whatever its file
format: the column dtypes are only ever int64, float64, bool, boolean (bool with missing
values), str and datetime64[ns]. Columns of ISO 8601 dates or times are parsed as
datetimes, time zones are converted to UTC, integers with missing values become float64
(as pandas reads them from CSV), and categoricals become str.
"""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from core.store.errors import PitboardError

PARQUET_SUFFIXES = (".parquet", ".pq")
_DELIMITERS = {".tsv": "\t"}
_OTHER_DELIMITERS = (";", "\t", "|")
_HEAD_BYTES = 64 * 1024
_ISO_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)
_DATE_SAMPLE = 200


def read_tabular(path: str | Path) -> pd.DataFrame:
    """Read a CSV (`.tsv`: tab-separated) or Parquet file into a canonical DataFrame."""
    path = Path(path)
    if not path.exists():
        raise PitboardError(f"{path}: no such file")
    if not path.is_file():
        raise PitboardError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise PitboardError(f"{path}: empty file")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame = _read_parquet(path)
    else:
        frame = _read_csv(path, _DELIMITERS.get(path.suffix.lower(), ","))
    return normalize_frame(frame, str(path))


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise PitboardError(f"{path}: not a Parquet file ({_first_line(exc)})") from exc
    check_column_names(list(table.column_names), str(path))
    try:
        return table.to_pandas()
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise PitboardError(f"{path}: cannot convert Parquet data ({_first_line(exc)})") from exc


def _read_csv(path: Path, sep: str) -> pd.DataFrame:
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    nul = head.find(b"\x00")
    if nul >= 0:
        raise PitboardError(f"{path}: binary data (NUL byte at offset {nul}), not a CSV text file")
    if not head.strip():
        raise PitboardError(f"{path}: empty file (only blank lines)")
    header = _header(path, sep)
    check_column_names(header, str(path))
    try:
        with warnings.catch_warnings():
            # Columns of mixed numbers and text become text in normalize_frame anyway.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            frame = pd.read_csv(path, sep=sep, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PitboardError(_utf8_error(path)) from exc
    except pd.errors.EmptyDataError as exc:
        raise PitboardError(f"{path}: empty file (no columns)") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise PitboardError(f"{path}: cannot parse CSV ({_first_line(exc)})") from exc
    if frame.shape[1] == 1:
        _refuse_wrong_delimiter(path, str(frame.columns[0]), sep)
    return frame


def _header(path: Path, sep: str) -> list[str]:
    """The header as written (pandas renames duplicates, so read it ourselves first)."""
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle, delimiter=sep), [])
    except UnicodeDecodeError as exc:
        raise PitboardError(_utf8_error(path)) from exc
    except csv.Error as exc:
        raise PitboardError(f"{path}: cannot parse the CSV header ({exc})") from exc


def _utf8_error(path: Path) -> str:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}); save the file as UTF-8"
    return f"{path}: not UTF-8 text; save the file as UTF-8"


def _refuse_wrong_delimiter(path: Path, column: str, sep: str) -> None:
    for other in _OTHER_DELIMITERS:
        if other != sep and other in column:
            shown = {"\t": "tab", ";": "';'", "|": "'|'"}[other]
            expected = "comma" if sep == "," else "tab"
            raise PitboardError(
                f"{path}: found one column {column[:60]!r}: the file looks {shown}-separated; "
                f"pitboard reads {expected}-separated files"
            )


def check_column_names(names: list[object], where: str) -> None:
    """Refuse no columns, unnamed columns and duplicates (SQLite ignores case in names)."""
    if not names:
        raise PitboardError(f"{where}: no columns")
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if not isinstance(name, str):
            raise PitboardError(f"{where}: column {position} name {name!r} is not a string")
        if not name.strip():
            raise PitboardError(f"{where}: column {position} has no name (a saved index? export without it)")
        key = name.casefold()
        if key in seen:
            first = names[seen[key] - 1]
            same = "" if first == name else f" (same as {first!r}: names are case-insensitive)"
            raise PitboardError(
                f"{where}: duplicate column name {name!r}{same} at columns {seen[key]} and {position}"
            )
        seen[key] = position


def normalize_frame(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The canonical form of a table: checked names, a fresh index and canonical dtypes.

    Only columns whose dtype changes are replaced, so a frame that is already canonical
    (the usual CSV case) is not copied column by column.
    """
    check_column_names(list(frame.columns), where)
    if len(frame) == 0:
        raise PitboardError(f"{where}: has a header ({frame.shape[1]} columns) but no data rows")
    canonical = frame.reset_index(drop=True) if not _default_index(frame) else frame.copy(deep=False)
    for name in frame.columns:
        replacement = _canonical_column(canonical[name], name, where)
        if replacement is not None:
            canonical[name] = replacement
    return canonical


def _default_index(frame: pd.DataFrame) -> bool:
    index = frame.index
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _canonical_column(values: pd.Series, name: str, where: str) -> pd.Series | None:
    """The column converted to its canonical dtype, or None when it already has it."""
    dtype = values.dtype
    if str(dtype) in ("int64", "float64", "bool", "boolean", "datetime64[ns]"):
        return None
    if isinstance(dtype, pd.CategoricalDtype):
        values = values.astype(object)
        dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return values.astype("boolean") if values.isna().any() else values.astype(bool)
    if pd.api.types.is_integer_dtype(dtype):
        if values.isna().any():
            return values.astype("float64")
        if str(dtype) in ("uint64", "UInt64") and values.max() > np.iinfo(np.int64).max:
            return values.astype("float64")
        return values.astype("int64")
    if pd.api.types.is_float_dtype(dtype):
        return values.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _naive_utc(values).astype("datetime64[ns]")
    if pd.api.types.is_string_dtype(dtype) or dtype == object:
        return _text_column(values, name, where)
    raise PitboardError(f"{where}: column {name!r} has unsupported type {dtype}")


def _text_column(values: pd.Series, name: str, where: str) -> pd.Series:
    if values.dtype == object:
        present = values.dropna()
        kinds = set(present.map(type))
        if kinds and kinds <= {bool, np.bool_}:
            return values.astype("boolean")
        odd = kinds & {bytes, list, dict, tuple, set}
        if odd:
            raise PitboardError(f"{where}: column {name!r} holds {odd.pop().__name__} values, not text")
    if str(values.dtype) != "str":
        values = values.astype("str")
    parsed = _as_datetime(values)
    return values if parsed is None else parsed


def _as_datetime(text: pd.Series) -> pd.Series | None:
    """The column as datetimes if every value is an ISO 8601 date or time, else None."""
    present = text.dropna()
    if not len(present) or not present.iloc[:_DATE_SAMPLE].str.fullmatch(_ISO_TIME).all():
        return None
    codes, uniques = pd.factorize(text)
    if not pd.Series(uniques).str.fullmatch(_ISO_TIME).all():
        return None
    parsed = None
    for utc in (False, True):  # mixed UTC offsets only parse when converted to UTC
        try:
            parsed = _naive_utc(pd.to_datetime(pd.Series(uniques), format="ISO8601", utc=utc))
            parsed = parsed.astype("datetime64[ns]")
            break
        except (ValueError, OverflowError):
            parsed = None
    if parsed is None:
        return None
    values = parsed.to_numpy()[codes]
    values[codes < 0] = np.datetime64("NaT")
    return pd.Series(values, index=text.index, dtype="datetime64[ns]")


def _naive_utc(values: pd.Series) -> pd.Series:
    if getattr(values.dtype, "tz", None) is not None:
        return values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
