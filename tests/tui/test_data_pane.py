"""The Data pane: versions, schema, histogram (or why there is none), paging, filtering, validation."""

from __future__ import annotations

import pytest
from textual.widgets import TabbedContent

from core.data import datasets
from core.store.database import Store
from tui.panes.data import PAGE_ROWS
from tui.widgets.histogram import Histogram, histogram_bars, histogram_note
from tui.widgets.table import FilterTable

from .conftest import screen_lines, settle

pytestmark = pytest.mark.anyio


def refs(app) -> list[str]:
    table = app.query_one("#versions", FilterTable).table
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def column(app, table_id: str, index: int) -> list[str]:
    table = app.query_one(f"#{table_id}", FilterTable).table
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


async def test_lists_every_version_and_shows_the_first(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert refs(app) == ["credit@1", "credit@2", "prices@1"]
        pane = app.current_pane
        assert pane.detail.version.ref == "credit@1"
        assert column(app, "schema-table", 0) == ["applicant_id", "income", "debt_to_income", "employment", "home", "term", "default"]
        assert column(app, "schema-table", 1) == ["id", "numeric", "numeric", "categorical", "categorical", "numeric", "target"]
        assert "credit@1  400 rows × 7 columns  target default" in str(app.query_one("#version-summary").content)


async def test_moving_down_loads_that_version(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j")
        await settle(pilot)
        assert app.current_pane.detail.version.ref == "prices@1"
        assert column(app, "schema-table", 0) == ["area", "rooms", "price"]
        assert column(app, "rows-table", 0)[:3] == ["1", "2", "3"]


async def test_histogram_follows_the_schema_cursor(make_app, app_db):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s", "j")  # schema tab, then down to `income`
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert app.query_one("#data-tabs", TabbedContent).active == "histogram"
        plot = app.query_one(Histogram)
        with Store.open(app_db) as store:
            income = next(c for c in datasets.columns(store, datasets.resolve(store, "credit@1")) if c["name"] == "income")
        labels, counts = histogram_bars(income["profile"])
        assert sum(counts) == income["profile"]["count"] == 393
        assert "income · 393 values · 7 missing" in plot.render().plain


def test_histogram_bars_of_categories_are_the_top_values():
    profile = {"count": 10, "top": [["salaried", 7], ["self-employed", 2], ["unemployed", 1]]}
    assert histogram_bars(profile) == (["salaried", "self-employed", "unemployed"], [7, 2, 1])


async def test_paging_reads_one_page_at_a_time(make_app, app_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "r")  # prices@1: 120 rows
        await settle(pilot)
        table = app.query_one("#rows-table", FilterTable).table
        assert table.row_count == PAGE_ROWS
        await pilot.press("n")
        await settle(pilot)
        assert table.row_count == 20
        assert column(app, "rows-table", 0)[0] == "101"
        with Store.open(app_db) as store:
            _, expected = datasets.read_page(store, datasets.resolve(store, "prices@1"), 100, 1)
        assert column(app, "rows-table", 1)[0] == str(expected[0][0])
        assert "rows 101–120 of 120" in str(app.query_one("#page-note").content)
        await pilot.press("n")  # already on the last page
        await settle(pilot)
        assert column(app, "rows-table", 0)[0] == "101"
        await pilot.press("p")
        await settle(pilot)
        assert column(app, "rows-table", 0)[:2] == ["1", "2"] and table.row_count == PAGE_ROWS


async def test_slash_filters_the_focused_table_and_escape_clears(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        versions = app.query_one("#versions", FilterTable)
        await pilot.press("slash", *"pri")
        assert refs(app) == ["prices@1"]
        await pilot.press("enter")
        assert versions.table.has_focus and versions.filter_text == "pri"
        await settle(pilot)
        assert app.current_pane.detail.version.ref == "prices@1"
        await pilot.press("slash", "escape")
        assert refs(app) == ["credit@1", "credit@2", "prices@1"]
        assert versions.table.has_focus


async def test_empty_database_names_the_command(tmp_path, monkeypatch):
    from core.store.clock import fixed_clock
    from tests.conftest import T0
    from tui.app import PitboardApp

    monkeypatch.chdir(tmp_path)
    Store.open("empty.db").close()
    app = PitboardApp("empty.db", clock=fixed_clock(T0))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        empty = app.query_one("#data-empty")
        assert empty.display and not app.query_one("#data-main").display
        assert "pitboard data add NAME PATH" in str(empty.content)


async def test_recorded_report_shows_failed_checks_first_in_words(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "c")  # credit@2, validated against credit@1 when the fixture was built
        await settle(pilot)
        note = str(app.query_one("#checks-note").content)
        assert note.startswith("FAILED against credit@1 at 2026-01-02 00:00:00")
        results = column(app, "checks-table", 0)
        severities = column(app, "checks-table", 1)
        failed = [(sev, name) for res, sev, name in zip(results, severities, column(app, "checks-table", 2)) if res == "FAIL"]
        assert results[: len(failed)] == ["FAIL"] * len(failed)  # failed checks first
        assert failed[0][0] == "error"
        shifted = {col for res, name, col in zip(results, column(app, "checks-table", 2), column(app, "checks-table", 3))
                   if res == "FAIL" and name == "distribution_shift"}
        assert {"income", "debt_to_income"} <= shifted


async def test_validate_against_a_chosen_version_records_a_report(make_app, app_db):
    def reports() -> list[tuple]:
        with Store.open(app_db) as store:
            return [tuple(r) for r in store.rows(
                "SELECT v.version, a.version, r.ok FROM validation_reports r JOIN dataset_versions v ON v.id = r.version_id"
                " LEFT JOIN dataset_versions a ON a.id = r.against_id ORDER BY r.id")]

    before = reports()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        assert app.screen.query_one("OptionList").option_count == 3
        await pilot.press("escape")  # cancelling writes nothing
        await settle(pilot)
        assert reports() == before
        await pilot.press("v", "enter")  # credit@1 against itself
        await settle(pilot)
        assert app.query_one("#data-tabs", TabbedContent).active == "checks"
        assert str(app.query_one("#checks-note").content).startswith("OK against credit@1")
        assert "FAIL" not in [r for r, s in zip(column(app, "checks-table", 0), column(app, "checks-table", 1)) if s == "error"]
    assert reports() == [*before, (1, 1, 1)]
    with Store.open(app_db) as store:
        assert store.value("SELECT count(*) FROM audit WHERE action = 'data.validate' AND object = 'credit@1'") == 1


async def test_g_on_an_id_column_says_why_there_is_no_histogram(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s", "g")  # the schema's first column: applicant_id, the id
        await settle(pilot)
        note = app.query_one("#histogram-note")
        assert note.display and str(note.content) == "applicant_id is an id column: no histogram (every value names one row)."
        assert not any(plot.display for plot in app.query(Histogram))
        await pilot.press("s", "j", "g")  # income has bins: the plot comes back
        await settle(pilot)
        assert not note.display and app.query_one(Histogram).display


def test_a_column_without_values_has_no_histogram_and_says_so():
    assert histogram_note("notes", "text", {"count": 0, "missing": 12}) == "notes has no values to draw: 12 missing of 12."
    assert histogram_note("income", "numeric", {"count": 2, "histogram": {"edges": [0, 1, 2], "counts": [1, 1]}}) is None


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_version_list_shows_long_names_and_whole_row_counts(make_app, app_db, size):
    from tests.tui.fixture_db import credit_frame

    with Store.open(app_db) as store:
        datasets.add_frame(store, "credit-risk-retrain", credit_frame(14_428, seed=4), source="retrain rows", target="default")
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        lines = [line for line in screen_lines(app) if "credit-risk-retrain@1" in line]
        assert lines and "14,428" in lines[0]


async def test_at_80x24_the_highlighted_checks_message_is_written_whole(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "c")  # credit@2's recorded report
        await settle(pilot)
        checks = app.current_pane.checks
        first = app.query_one("#checks-table", FilterTable).table.render_line(1).text
        assert checks[0].message not in first and first.rstrip().endswith("…")  # cut at 80 columns ...
        await pilot.press("j")
        detail = str(app.query_one("#check-detail").content)
        assert detail.startswith(f"{checks[1].name} · {checks[1].column} · value")
        assert detail.endswith(checks[1].message)  # ... so it is written out under it
