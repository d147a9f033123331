"""`monitor segments`: the slice that broke comes first, through the real ingest and command."""

from __future__ import annotations

import json

from core.monitoring.ingest import ingest_files
from tests.monitoring.conftest import MODEL, month

REF = f"{MODEL}@champion"


def test_a_shift_confined_to_one_region_ranks_first(served, pitboard, tmp_path):
    (served.db.parent / "pitboard.toml").write_text(
        '[monitoring]\nwindow_rows = 5000\nsegments = ["region", "income"]\n')
    data = month(1).copy()
    west = data["region"] == "west"
    data.loc[west, "income"] = data.loc[west, "income"] * 0.6  # only the west's incomes fall
    path = tmp_path / "west.csv"
    data.to_csv(path, index=False)
    store = served.open()
    (window_id,) = ingest_files(store, REF, [str(path)], labels="default").windows
    result = pitboard("monitor", "segments", MODEL, "--json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["window"] == window_id
    first = found["segments"][0]
    assert (first["column"], first["segment"]) == ("region", "west")
    assert first["flagged"][0] == "income" and first["rows"] == int(west.sum())
    assert [(r["column"], r["segment"]) for r in found["segments"] if r["flagged"] and r["column"] == "region"] == [
        ("region", "west")]
    assert "roc_auc" in first["metrics"]
    income_slices = [r for r in found["segments"] if r["column"] == "income" and r["judged"]]
    assert len(income_slices) == 4  # reference quartiles (and unjudged rows missing an income)
    text = pitboard("monitor", "segments", MODEL, str(window_id))
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0].startswith(f"window {window_id} of {MODEL}: {len(data)} rows; flagged at false")


def test_a_segment_column_the_model_does_not_have_is_named_and_nothing_is_written(served, pitboard):
    config = served.db.parent / "pitboard.toml"
    config.write_text('[monitoring]\nsegments = ["regoin"]\n')
    store = served.open()
    before = store.value("SELECT COUNT(*) FROM monitor_windows")
    result = pitboard("monitor", "ingest", REF, str(month_path()))
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(f"Error: {config}: [monitoring] segments: 'regoin' is not a feature of {MODEL}@1;")
    assert store.value("SELECT COUNT(*) FROM monitor_windows") == before
    assert store.value("SELECT COUNT(*) FROM monitor_reference_segments") == 0


def test_segments_before_any_are_kept_say_how_to_get_them(served, pitboard):
    result = pitboard("monitor", "segments", MODEL)
    assert result.exit_code == 2
    assert "no window has segments yet; set [monitoring] segments" in result.stderr


def month_path():
    from tests.monitoring.conftest import PRODUCTION

    return PRODUCTION / "month_01.csv"
