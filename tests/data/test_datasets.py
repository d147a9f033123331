"""Datasets: import, canonical content hash, versions, roles, profiles, storage and paging."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.data import chunks
from core.data.chunks import decode
from core.data.content_hash import content_hash
from core.data.datasets import (
    add_dataset,
    add_frame,
    columns,
    list_datasets,
    list_versions,
    load_frame,
    read_page,
    read_tabular,
    resolve,
)
from core.data.tabular import normalize_frame
from core.store.database import Store
from core.store.errors import NotFound, PitboardError

from tests.conftest import T0

CSV = (
    "loan_id,opened,amount,rate,grade,flag,note,default\n"
    "L1,2025-01-02,1000,0.05,A,true,first loan,0\n"
    "L2,2025-01-03,2500,,B,false,,1\n"
    "L3,2025-01-04,1200,0.07,A,true,third,0\n"
    "L4,2025-01-05,900,0.061,A,false,fourth one,0\n"
    "L5,2025-01-06,3000,0.09,B,true,fifth,1\n"
    "L6,2025-01-07,1500,0.05,A,true,sixth,0\n"
)


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def counts(store: Store) -> dict[str, int]:
    tables = [r["name"] for r in store.rows("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: store.value(f'SELECT count(*) FROM "{t}"') for t in tables}


def test_add_dataset_records_version_schema_and_rows(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "loans.csv", CSV)
    dv, created = add_dataset(store, "loans", path, target="default", time_column="opened")
    assert created
    assert (dv.ref, dv.id, dv.version, dv.n_rows, dv.n_columns) == ("loans@1", 1, 1, 6, 8)
    assert (dv.target, dv.time_column, dv.id_column, dv.source) == ("default", "opened", None, str(path))
    assert dv.created_at == T0
    assert dv.sha256 == content_hash(read_tabular(path))
    schema = {c["name"]: (c["dtype"], c["role"]) for c in columns(store, dv)}
    assert schema == {
        "loan_id": ("str", "id"), "opened": ("datetime64[ns]", "datetime"), "amount": ("int64", "numeric"),
        "rate": ("float64", "numeric"), "grade": ("str", "categorical"), "flag": ("bool", "boolean"),
        "note": ("str", "text"), "default": ("int64", "target"),
    }
    assert store.value("SELECT table_name FROM dataset_versions") == "dataset_chunks:1"
    chunk = store.row("SELECT chunk_index, first_row, n_rows, data FROM dataset_chunks WHERE version_id = 1")
    assert tuple(chunk)[:3] == (0, 0, 6)
    stored = {field.name: str(field.type) for field in decode(chunk["data"]).schema}
    assert stored == {"loan_id": "large_string", "opened": "date32[day]", "amount": "int16", "rate": "int8",
                      "grade": "dictionary<values=large_string, indices=int8, ordered=0>", "flag": "bool",
                      "note": "large_string", "default": "int8"}
    assert store.value("SELECT count(*) FROM sqlite_master WHERE name LIKE 'ds%'") == 0
    audit = store.row("SELECT action, object, ts FROM audit")
    assert tuple(audit) == ("data.add", "loans@1", T0)


def test_load_frame_restores_the_imported_dtypes_and_values(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "loans.csv", CSV)
    dv, _ = add_dataset(store, "loans", path)
    pd.testing.assert_frame_equal(load_frame(store, dv), read_tabular(path))
    subset = load_frame(store, dv, ["rate", "grade"])
    assert list(subset.columns) == ["rate", "grade"]
    assert subset["rate"].isna().tolist() == [False, True, False, False, False, False]
    with pytest.raises(PitboardError, match="loans@1: no column 'nope'"):
        load_frame(store, dv, ["nope"])


def test_same_content_returns_the_existing_version_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    first, _ = add_dataset(store, "loans", write(tmp_path / "a.csv", CSV), target="default")
    before = counts(store)
    # The same table written differently: CRLF, a BOM, quotes, trailing zeros, and no
    # --target (inherited from the latest version).
    reformatted = "\ufeff" + CSV.replace("0.05,", "0.0500,").replace(",A,", ',"A",').replace("\n", "\r\n")
    again, created = add_dataset(store, "loans", write(tmp_path / "b.csv", reformatted))
    assert not created
    assert again == first
    assert counts(store) == before


def test_parquet_of_the_same_frame_has_the_same_hash(store: Store, tmp_path: Path) -> None:
    csv_path = write(tmp_path / "loans.csv", CSV)
    frame = read_tabular(csv_path)
    frame.to_parquet(tmp_path / "loans.parquet")
    from_csv, _ = add_dataset(store, "loans", csv_path)
    from_parquet, created = add_dataset(store, "loans", tmp_path / "loans.parquet")
    assert not created and from_parquet == from_csv


def test_changed_content_or_roles_give_new_versions(store: Store, tmp_path: Path) -> None:
    add_dataset(store, "loans", write(tmp_path / "a.csv", CSV), target="default")
    changed, created = add_dataset(store, "loans", write(tmp_path / "b.csv", CSV.replace("L6,", "L7,")))
    assert created and changed.version == 2 and changed.target == "default"
    retargeted, created = add_dataset(store, "loans", tmp_path / "b.csv", target="flag")
    assert created and retargeted.version == 3 and retargeted.sha256 == changed.sha256
    assert [v.ref for v in list_versions(store, "loans")] == ["loans@1", "loans@2", "loans@3"]
    assert resolve(store, "loans") == retargeted
    assert resolve(store, "loans@2") == changed
    listed = list_datasets(store)
    assert [(d["name"], d["latest"], d["versions"], d["rows"], d["target"]) for d in listed] == [("loans", 3, 3, 6, "flag")]


def test_resolve_errors_name_what_exists(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"dataset 'loans' not found; no datasets yet"):
        resolve(store, "loans")
    add_dataset(store, "loans", write(tmp_path / "a.csv", CSV))
    with pytest.raises(NotFound, match=r"dataset 'other' not found; datasets: loans"):
        resolve(store, "other")
    with pytest.raises(NotFound, match=r"loans@4 not found; loans has versions 1$"):
        resolve(store, "loans@4")
    with pytest.raises(PitboardError, match=r"loans@latest: a dataset version is a number"):
        resolve(store, "loans@latest")


def test_profiles_match_numpy_and_pandas(store: Store) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(50, 10, 2_000)
    values[::50] = np.nan
    frame = pd.DataFrame({
        "score": values,
        "count": rng.integers(0, 6, 2_000),
        "city": rng.choice(["oslo", "rome", "lima"], 2_000, p=[0.5, 0.3, 0.2]),
        "label": rng.integers(0, 2, 2_000),
    })
    dv, _ = add_frame(store, "synthetic", frame, source="test", target="label")
    profiles = {c["name"]: c["profile"] for c in columns(store, dv)}
    score = profiles["score"]
    present = values[~np.isnan(values)]
    assert (score["count"], score["missing"], score["missing_rate"], score["unique"]) == (1960, 40, 0.02, 1960)
    assert score["mean"] == pytest.approx(present.mean(), rel=1e-12)
    assert score["std"] == pytest.approx(present.std(ddof=1), rel=1e-12)
    expected = np.quantile(present, [0.05, 0.25, 0.5, 0.75, 0.95])
    assert [score[k] for k in ("p5", "p25", "p50", "p75", "p95")] == pytest.approx(expected, rel=1e-12)
    assert (score["min"], score["max"]) == (present.min(), present.max())
    edges = np.array(score["histogram"]["edges"])
    assert len(edges) == 21
    assert score["histogram"]["counts"] == np.histogram(present, bins=edges)[0].tolist()
    small = profiles["count"]  # integers with a small range: one bin per value
    assert small["histogram"]["edges"] == [-0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    assert small["histogram"]["counts"] == np.bincount(frame["count"]).tolist()
    city = profiles["city"]
    assert city["kind"] == "categorical"
    assert city["top"] == [[k, v] for k, v in frame["city"].value_counts().items()]
    assert profiles["label"]["kind"] == "boolean"
    assert profiles["label"]["top"] == [[int(k), int(v)] for k, v in frame["label"].value_counts().items()]


def test_profiles_of_every_compact_form_match_pandas(store: Store) -> None:
    # Profiles read the stored compact columns: scaled decimals with missing values, narrow
    # integers (sorted by radix), floats with infinities, categories by dictionary index,
    # free text and booleans with missing values must all profile as pandas sees them.
    rng = np.random.default_rng(5)
    n = 3_000
    money = rng.normal(500, 80, n).round(2)
    money[::30] = np.nan
    ratio = rng.normal(0, 1, n)
    ratio[::100] = np.inf
    frame = pd.DataFrame({
        "money": money,
        "small": rng.integers(-50, 50, n),  # int8
        "wide": rng.integers(0, 30_000, n),  # int16
        "ratio": ratio,
        "grade": pd.array(rng.choice(["a", "b", "c", None], n, p=[0.5, 0.3, 0.15, 0.05]), dtype="str"),
        "words": [f"w{int(i)}" for i in rng.integers(0, 2_500, n)],
        "ok": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
    })
    dv, _ = add_frame(store, "forms", frame, source="test")
    profiles = {c["name"]: c["profile"] for c in columns(store, dv)}
    for name in ("money", "small", "wide", "ratio"):
        values = frame[name].to_numpy(dtype=np.float64)
        present = values[~np.isnan(values)]
        finite = present[np.isfinite(present)]
        profile = profiles[name]
        assert (profile["count"], profile["unique"]) == (len(present), frame[name].nunique()), name
        assert profile["mean"] == pytest.approx(finite.mean(), rel=1e-12)
        quantiles = [profile[k] for k in ("p5", "p25", "p50", "p75", "p95")]
        assert quantiles == pytest.approx(np.quantile(finite, [0.05, 0.25, 0.5, 0.75, 0.95]), rel=1e-12), name
    assert profiles["ratio"]["unique"] == len(np.unique(ratio))  # infinity counted once
    for name in ("grade", "words"):
        counts = frame[name].value_counts()
        assert profiles[name]["unique"] == len(counts)
        top = profiles[name]["top"]
        assert [count for _, count in top] == counts.to_numpy()[:len(top)].tolist()
        assert all(counts[value] == count for value, count in top)
    assert profiles["ok"]["top"] == [[bool(k), int(v)] for k, v in frame["ok"].value_counts().items()]
    assert profiles["ok"]["missing"] == int(frame["ok"].isna().sum())


def test_role_rules(store: Store) -> None:
    n = 300
    frame = pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(n)],
        "row_id": np.arange(n),
        "ref": [f"R{i}" for i in range(n)],  # unique text without an id-like name
        "flag01": np.arange(n) % 2,
        "size": np.arange(n) * 1.5,
        "colour": np.array(["red", "green"])[np.arange(n) % 2],
        "seen": pd.to_datetime("2025-01-01") + pd.to_timedelta(np.arange(n), unit="h"),
        "ok": np.arange(n) % 3 == 0,
    })
    dv, _ = add_frame(store, "roles", frame, source="test", id_column="ref")
    roles = {c["name"]: c["role"] for c in columns(store, dv)}
    assert roles == {"customer_id": "id", "row_id": "id", "ref": "id", "flag01": "boolean", "size": "numeric",
                     "colour": "categorical", "seen": "datetime", "ok": "boolean"}
    kinds = {c["name"]: c["profile"]["kind"] for c in columns(store, dv)}
    assert kinds["ref"] == "text"
    seen = {c["name"]: c["profile"] for c in columns(store, dv)}["seen"]
    assert (seen["min"], seen["max"]) == ("2025-01-01", "2025-01-13T11:00:00")


def test_read_page_gives_rows_as_stored(store: Store, tmp_path: Path) -> None:
    dv, _ = add_dataset(store, "loans", write(tmp_path / "a.csv", CSV))
    names, rows = read_page(store, dv, 0, 2)
    assert names[:3] == ["loan_id", "opened", "amount"]
    assert rows == [("L1", "2025-01-02", 1000, 0.05, "A", 1, "first loan", 0),
                    ("L2", "2025-01-03", 2500, None, "B", 0, None, 1)]
    assert [r[0] for r in read_page(store, dv, 4, 10)[1]] == ["L5", "L6"]
    assert read_page(store, dv, 6, 10)[1] == []
    assert read_page(store, dv, 2, 0)[1] == []
    assert [r[0] for r in read_page(store, dv, -3, 1)[1]] == ["L1"]


def test_pages_across_chunk_boundaries_match_the_frame(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "ROWS_PER_CHUNK", 500)
    n = 1_234  # not a multiple of the chunk size: the last chunk is short
    frame = pd.DataFrame({"a": np.arange(n), "b": np.linspace(0, 1, n), "c": np.array(list("xyz"))[np.arange(n) % 3]})
    dv, _ = add_frame(store, "big", frame, source="test")
    layout = [tuple(r) for r in store.rows(
        "SELECT chunk_index, first_row, n_rows FROM dataset_chunks WHERE version_id = ? ORDER BY chunk_index", (dv.id,))]
    assert layout == [(0, 0, 500), (1, 500, 500), (2, 1000, 234)]
    pd.testing.assert_frame_equal(load_frame(store, dv), frame)
    expected = list(zip(frame["a"].tolist(), frame["b"].tolist(), frame["c"].tolist()))
    for offset, limit in [(0, 100), (450, 100), (499, 2), (950, 600), (1_200, 100), (0, 5_000), (1_234, 10)]:
        assert read_page(store, dv, offset, limit)[1] == expected[offset : offset + limit], (offset, limit)
    assert list(load_frame(store, dv, ["c", "a", "c"]).columns) == ["c", "a"]


def test_a_failure_inside_the_import_leaves_nothing_behind(store: Store, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "a.csv", CSV)
    before = counts(store)

    def refuse(*args: object, **kwargs: object) -> int:
        raise sqlite3.OperationalError("disk I/O error (injected)")

    monkeypatch.setattr(store, "audit", refuse)  # the last write of the transaction fails
    with pytest.raises(sqlite3.OperationalError):
        add_dataset(store, "loans", path)
    assert counts(store) == before
    assert before["dataset_chunks"] == 0


def test_a_failure_in_a_worker_thread_leaves_nothing_behind(store: Store, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import core.data.profiling

    before = counts(store)

    def broken(*args: object, **kwargs: object) -> None:
        raise MemoryError("profile failed (injected)")

    monkeypatch.setattr(core.data.profiling, "profile_column", broken)  # runs after the chunks were written
    with pytest.raises(MemoryError, match="injected"):
        add_dataset(store, "loans", write(tmp_path / "a.csv", CSV))
    assert counts(store) == before
    assert not store.in_transaction


def test_declared_columns_are_checked(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", CSV)
    with pytest.raises(PitboardError, match=r"a\.csv: --target 'nope' is not a column; columns: loan_id, opened"):
        add_dataset(store, "loans", path, target="nope")
    with pytest.raises(PitboardError, match=r"--time-column 'grade' does not hold ISO 8601 dates .*first value 'A'"):
        add_dataset(store, "loans", path, time_column="grade")
    with pytest.raises(PitboardError, match="must name different columns"):
        add_dataset(store, "loans", path, target="loan_id", id_column="loan_id")
    with pytest.raises(PitboardError, match="invalid dataset name"):
        add_dataset(store, "bad name", path)
    assert counts(store)["dataset_versions"] == 0


def test_add_frame_normalizes_index_and_dtypes(store: Store) -> None:
    frame = pd.DataFrame(
        {"n": pd.array([1, None, 3], dtype="Int64"), "k": pd.Categorical(["a", "b", "a"]), "t": ["x", "y", "z"]},
        index=[10, 20, 30],
    )
    dv, _ = add_frame(store, "framed", frame, source="retrain")
    loaded = load_frame(store, dv)
    assert [str(t) for t in loaded.dtypes] == ["float64", "str", "str"]
    assert loaded["n"].isna().tolist() == [False, True, False]
    assert loaded["k"].tolist() == ["a", "b", "a"]


def test_datetimes_keep_their_precision(store: Store) -> None:
    moments = pd.to_datetime(["2025-03-01 10:00:00.123456", "2025-03-02 00:00:00", None], format="ISO8601")
    seconds = pd.to_datetime(["2025-03-01 10:00:05", None, "2025-03-02"], format="ISO8601")
    dv, _ = add_frame(store, "times", pd.DataFrame({"at": moments, "s": seconds}), source="test")
    assert read_page(store, dv, 0, 3)[1] == [("2025-03-01T10:00:00.123456", "2025-03-01T10:00:05"),
                                             ("2025-03-02T00:00:00.000000", None), (None, "2025-03-02T00:00:00")]
    pd.testing.assert_series_equal(load_frame(store, dv)["at"], pd.Series(moments, name="at").astype("datetime64[ns]"))


frames = st.integers(min_value=1, max_value=30).flatmap(
    lambda n: st.fixed_dictionaries({
        "i": st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n),
        "f": st.lists(st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False)), min_size=n, max_size=n),
        "s": st.lists(st.one_of(st.none(), st.text("abcé,\"\n ", min_size=1, max_size=6)), min_size=n, max_size=n),
    })
)


@settings(max_examples=40)
@given(frames)
def test_hash_and_storage_survive_csv_parquet_and_sqlite_round_trips(tmp_path_factory: pytest.TempPathFactory,
                                                                    columns_: dict[str, list]) -> None:
    assume(any(v is not None for v in columns_["s"]))  # an all-missing column reads back as numbers
    folder = tmp_path_factory.mktemp("roundtrip")
    frame = normalize_frame(pd.DataFrame({
        "i": np.array(columns_["i"], dtype=np.int64),
        "f": np.array([np.nan if v is None else v for v in columns_["f"]], dtype=np.float64),
        "s": pd.Series(columns_["s"], dtype="str"),
    }), "generated")
    frame.to_csv(folder / "t.csv", index=False)
    frame.to_parquet(folder / "t.parquet")
    from_csv, from_parquet = read_tabular(folder / "t.csv"), read_tabular(folder / "t.parquet")
    assert content_hash(from_csv) == content_hash(from_parquet) == content_hash(frame)
    with Store.open(folder / "t.db") as store:
        dv, _ = add_frame(store, "t", frame, source="generated")
        pd.testing.assert_frame_equal(load_frame(store, dv), frame)
