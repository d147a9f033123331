"""Key remapping from the [keys] section of pitboard.toml."""

from __future__ import annotations

import pytest

from core.store.database import Store
from core.store.errors import PitboardError
from tests.conftest import file_bytes
from tui.keys import DEFAULTS, keymap


def remap_from(db_path, toml: str) -> dict[str, str]:
    (db_path.parent / "pitboard.toml").write_text(toml)
    with Store.open(db_path) as store:
        return keymap(store.settings("keys", DEFAULTS), store.config_path)


def test_defaults_give_an_empty_keymap(db_path):
    assert remap_from(db_path, "") == {}


def test_changed_keys_are_returned(db_path):
    assert remap_from(db_path, '[keys]\npane_jobs = "f5"\nquit = "f10,ctrl+x"\n') == {"pane_jobs": "f5", "quit": "f10,ctrl+x"}


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[keys]\npane_jobz = "f5"\n', "unknown key 'pane_jobz' in [keys]"),
        ("[keys]\npane_jobs = 5\n", "[keys] pane_jobs = 5 should be str"),
        ('[keys]\npane_jobs = " "\n', "[keys] pane_jobs = ' ' names no key"),
        ('[keys]\npane_jobs = "j"\n', "[keys] down and pane_jobs both use 'j'"),
        ('[keys]\nhelp = "?"\nquit = "question_mark"\n', "both use 'question_mark'"),
        ('[keys]\ndata_validate = "q"\n', "[keys] data_validate and quit both use 'q'"),
    ],
)
def test_bad_keys_are_one_line_errors_naming_the_file(db_path, toml, message):
    with pytest.raises(PitboardError) as error:
        remap_from(db_path, toml)
    assert message in str(error.value)
    assert str(db_path.parent / "pitboard.toml") in str(error.value)
    assert "\n" not in str(error.value)


def test_same_key_in_two_panes_is_allowed(db_path):
    """Pane keys are only live in their own pane: `p` may mean different things in two panes."""
    assert remap_from(db_path, '[keys]\ndata_validate = "x"\n') == {"data_validate": "x"}


def test_pitboard_refuses_to_open_with_a_clash_and_leaves_the_db(pitboard, db_path):
    Store.open(db_path).close()
    before = file_bytes(db_path)
    (db_path.parent / "pitboard.toml").write_text('[keys]\npane_data = "2"\n')
    result = pitboard()
    assert result.exit_code == 2
    assert "pane_experiments and pane_data both use '2'" in result.stderr
    assert file_bytes(db_path) == before


@pytest.mark.anyio
async def test_remapped_key_switches_pane_and_old_key_does_not(make_app):
    app = make_app(remap={"pane_jobs": "f5"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        assert app.current_pane.pane_id == "data"
        await pilot.press("f5")
        assert app.current_pane.pane_id == "jobs"
