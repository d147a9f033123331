"""`pitboard predict` on a file names the real cell at fault: line, column and value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def test_one_bad_cell_is_named_by_its_line_and_value_not_the_whole_column(served, pitboard, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("income,debt_ratio,purpose\n41.5,0.62,car\n38.0,0.41,home\n52.25,high,car\n40.0,0.3,car\n")
    out = tmp_path / "out.csv"
    done = pitboard("predict", "scoring@1", source, "-o", out)
    assert done.exit_code == 2
    assert done.stderr.strip() == f"Error: {source}: line 4.debt_ratio: expected a finite number, got 'high'"
    assert not out.exists()


def test_every_bad_cell_is_counted_and_the_first_named(served, pitboard, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("income,debt_ratio,purpose\nlots,0.62,car\n38.0,0.41,home\n52.25,n/a?,car\n")
    done = pitboard("predict", "scoring@1", source, "-o", tmp_path / "out.csv")
    assert done.stderr.strip() == f"Error: {source}: line 2.income: expected a finite number, got 'lots' (and 1 more)"


def test_a_parquet_file_names_rows(served, pitboard, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pd.DataFrame({"income": ["41.5", "x"], "debt_ratio": [0.6, 0.1], "purpose": ["car", "home"]}).to_parquet(source)
    done = pitboard("predict", "scoring@1", source, "-o", tmp_path / "out.csv")
    assert done.stderr.strip() == f"Error: {source}: row 2.income: expected a finite number, got 'x'"


def test_numbers_written_as_text_still_score(served, pitboard, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pd.DataFrame({"income": ["41.5", None], "debt_ratio": [0.62, 0.1], "purpose": ["car", "home"]}).to_parquet(source)
    out = tmp_path / "out.csv"
    assert pitboard("predict", "scoring@1", source, "-o", out).exit_code == 0
    numeric = tmp_path / "numeric.csv"
    pd.DataFrame({"income": [41.5, None], "debt_ratio": [0.62, 0.1], "purpose": ["car", "home"]}).to_csv(numeric, index=False)
    assert pitboard("predict", "scoring@1", numeric, "-o", tmp_path / "expected.csv").exit_code == 0
    assert pd.read_csv(out)["proba_1"].tolist() == pd.read_csv(tmp_path / "expected.csv")["proba_1"].tolist()
