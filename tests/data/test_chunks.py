"""Columnar chunks: compact exact column types, and values read back as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data import chunks
from core.data.chunks import compact_column, decode, encode_frame, pandas_column, python_rows
from core.data.tabular import normalize_frame


def round_trip(frame: pd.DataFrame) -> pa.Table:
    """Encode a canonical frame into chunks and decode them back into one table."""
    return pa.concat_tables([decode(chunk.data.to_pybytes()) for chunk in encode_frame(frame)])


def restored(frame: pd.DataFrame) -> pd.DataFrame:
    table = round_trip(frame)
    return pd.DataFrame({name: pandas_column(table.column(name), table.schema.field(name)) for name in frame.columns})


def stored_type(values: object) -> str:
    field, _ = compact_column("v", pd.Series(values))
    return str(field.type)


def test_integers_take_the_narrowest_type_that_holds_their_range() -> None:
    assert stored_type(np.array([-128, 127])) == "int8"
    assert stored_type(np.array([-129, 0])) == "int16"
    assert stored_type(np.array([0, 2**15])) == "int32"
    assert stored_type(np.array([0, 2**31])) == "int64"
    extremes = pd.DataFrame({"v": np.array([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max])})
    pd.testing.assert_frame_equal(restored(extremes), extremes)


def test_decimal_floats_are_stored_as_scaled_integers_only_when_exact() -> None:
    field, array = compact_column("v", pd.Series([1.5, -2.25, np.nan, 0.125]))
    assert (str(field.type), field.metadata[b"decimals"]) == ("int16", b"3")
    assert array.to_pylist() == [1500, -2250, None, 125]
    assert str(compact_column("v", pd.Series([0.1, 1 / 3]))[0].type) == "double"  # 1/3 has no short decimal form
    assert str(compact_column("v", pd.Series([1.0, np.inf]))[0].type) == "double"
    assert str(compact_column("v", pd.Series([0.5] * 1_500 + [0.1234567]))[0].type) == "double"  # past the sample
    floats = pd.DataFrame({"v": [0.1, 0.2, 0.3, 1e15, -7.0, 2.0**52, np.nan]})
    assert restored(floats)["v"].to_numpy().tobytes() == floats["v"].to_numpy().tobytes()


def test_negative_zero_comes_back_as_zero_as_in_the_content_hash() -> None:
    field, _ = compact_column("v", pd.Series([-0.0, 1.5]))
    assert field.metadata[b"decimals"] == b"1"
    assert np.signbit(restored(pd.DataFrame({"v": [-0.0, 1.5]}))["v"]).tolist() == [False, False]


def test_text_becomes_a_dictionary_only_for_categories() -> None:
    categories = pd.Series(["red", "green", None, "red"] * 500, dtype="str")
    assert stored_type(categories) == "dictionary<values=large_string, indices=int8, ordered=0>"
    assert stored_type(pd.Series([f"id{i}" for i in range(3_000)], dtype="str")) == "large_string"
    looks_categorical = pd.Series(["a"] * 1_000 + [f"u{i}" for i in range(5_000)], dtype="str")
    assert stored_type(looks_categorical) == "large_string"  # the sample says categories, the column does not
    frame = pd.DataFrame({"colour": categories, "many": pd.Series([f"x{i % 300}" for i in range(2_000)], dtype="str")})
    assert stored_type(frame["many"]) == "dictionary<values=large_string, indices=int16, ordered=0>"
    pd.testing.assert_frame_equal(restored(frame), frame)
    pieces = pa.chunked_array([pa.array(["a", None, "b"] * 400, pa.large_string()), pa.array(["c", "a"], pa.large_string())])
    read_in_pieces = pd.DataFrame({"v": pd.array(pieces, dtype="str")})  # as a large CSV may come out of pandas
    assert stored_type(read_in_pieces["v"]).startswith("dictionary")
    pd.testing.assert_frame_equal(restored(read_in_pieces), read_in_pieces)


def test_datetimes_use_the_coarsest_unit_that_loses_nothing() -> None:
    def column(*texts: str | None) -> pd.Series:
        return pd.Series(pd.to_datetime(list(texts), format="ISO8601")).astype("datetime64[ns]")

    assert stored_type(column("2025-01-01", None, "2025-02-03")) == "date32[day]"
    assert stored_type(column("2025-01-01T10:00:01", "2025-01-02")) == "timestamp[s]"
    assert stored_type(column("2025-01-01T10:00:00.5")) == "timestamp[us]"
    assert stored_type(column("2025-01-01T10:00:00.000000001")) == "timestamp[ns]"
    frame = pd.DataFrame({"d": column("2025-01-01", None), "ns": column("2025-01-01T10:00:00.000000001", None)})
    pd.testing.assert_frame_equal(restored(frame), frame)
    assert python_rows(round_trip(frame)) == [("2025-01-01", "2025-01-01T10:00:00.000000001"), (None, None)]


def test_python_rows_are_what_the_sqlite_tables_gave() -> None:
    frame = normalize_frame(pd.DataFrame({
        "i": [3, -1, 7],
        "f": [0.25, np.nan, 2.0],
        "raw": [1 / 3, np.nan, 1.0],
        "b": [True, False, True],
        "nb": pd.array([True, None, False], dtype="boolean"),
        "s": pd.Series(["x", None, "y"], dtype="str"),
        "t": pd.to_datetime(["2024-05-01T08:30:00", None, "2024-05-02"], format="ISO8601"),
    }), "test")
    rows = python_rows(round_trip(frame))
    assert rows == [(3, 0.25, 1 / 3, 1, 1, "x", "2024-05-01T08:30:00"),
                    (-1, None, None, 0, None, None, None),
                    (7, 2.0, 1.0, 1, 0, "y", "2024-05-02T00:00:00")]
    assert [type(v) for v in rows[0]] == [int, float, float, int, int, str, str]
    pd.testing.assert_frame_equal(restored(frame), frame)


def test_a_frame_is_cut_into_chunks_of_a_fixed_number_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "ROWS_PER_CHUNK", 4)
    frame = pd.DataFrame({"v": np.arange(10)})
    encoded = encode_frame(frame)
    assert [(c.index, c.first_row, c.n_rows) for c in encoded] == [(0, 0, 4), (1, 4, 4), (2, 8, 2)]
    assert decode(encoded[1].data.to_pybytes()).column("v").to_pylist() == [4, 5, 6, 7]


frames = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.fixed_dictionaries({
        "i": st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n),
        "f": st.lists(st.one_of(st.none(), st.floats(allow_nan=False), st.integers(-10**6, 10**6).map(lambda v: v / 100)),
                      min_size=n, max_size=n),
        "s": st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c"]), st.text(max_size=4)), min_size=n, max_size=n),
        "b": st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n),
        "t": st.lists(st.one_of(st.none(), st.integers(-(2**62), 2**62)), min_size=n, max_size=n),
    })
)


@settings(max_examples=60)
@given(frames)
def test_every_canonical_frame_comes_back_exactly(columns: dict[str, list]) -> None:
    frame = pd.DataFrame({
        "i": np.array(columns["i"], dtype=np.int64),
        "f": np.array([np.nan if v is None else v for v in columns["f"]], dtype=np.float64) + 0.0,
        "s": pd.Series(columns["s"], dtype="str"),
        "b": pd.array(columns["b"], dtype="boolean"),
        "t": pd.Series(np.array([np.datetime64("NaT") if v is None else v for v in columns["t"]], dtype="datetime64[ns]")),
    })
    back = restored(frame)
    pd.testing.assert_frame_equal(back, frame)
    assert back["f"].to_numpy().tobytes() == frame["f"].to_numpy().tobytes()  # bit for bit (-0.0 was made 0.0)
