"""Any CSV cell at predict time gives scored rows or one clean line (exit 2), never a traceback."""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

cells = st.one_of(st.text(max_size=12), st.sampled_from(["", "NaN", "inf", "-1e309", "1e3", " 41.5 ", "car", "home",
                                                          "TRUE", "0x10", "1,5", "\u00a0", "=1+1", "\"quoted\""]))


def test_any_cells_score_or_fail_in_one_line(served, pitboard, tmp_path: Path) -> None:
    @settings(max_examples=40, deadline=None)
    @given(rows=st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=4))
    def check(rows: list[tuple[str, str, str]]) -> None:
        source, out = tmp_path / "in.csv", tmp_path / "out.csv"
        out.unlink(missing_ok=True)
        with source.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["income", "debt_ratio", "purpose"])
            writer.writerows(rows)
        done = pitboard("predict", "scoring@1", source, "-o", out)
        assert done.exit_code in (0, 2), done.stderr
        if done.exit_code == 2:
            assert done.stderr.startswith("Error: ") and len(done.stderr.strip().splitlines()) == 1, done.stderr
            assert not out.exists()
        else:
            assert out.exists()

    check()
