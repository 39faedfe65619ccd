"""Saved runs in the dashboard (dashboard.saved): a finished run saved under a name reads back exactly
(KPIs, summary and every chart series), is listed with its name, scenario, date and replications, and
reopens in another session with its scenario in the sidebar and its results shown without running."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import saved
from sim.storage import runs
from tests.test_app import new_app, run, shorten


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(saved.RUNS_ENV, str(tmp_path / "runs"))
    return tmp_path / "runs"


def cards(at) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.main.metric]


def test_a_saved_run_reopens_in_a_new_session_without_running(runs_dir, monkeypatch):
    at = new_app()
    shorten(at)
    run(at)
    shown = cards(at)
    assert len(shown) >= 8
    at.sidebar.text_input(key="save_name").input("short year, 3 reps").run()
    at.sidebar.button(key="save_run").click().run()
    assert [s.value for s in at.sidebar.success] == [s.value for s in at.sidebar.success if "Saved as" in s.value] != []
    [folder] = list(runs_dir.iterdir())
    table = saved.saved_list(runs_dir)
    assert table[["Name", "Scenario", "Replications"]].values.tolist() == [
        ["short year, 3 reps", at.session_state["base"].name, 3]]

    # a new session: nothing run, the saved run opened from the list
    other = new_app()
    from sim.analysis import runner
    monkeypatch.setattr(runner, "run", lambda *a, **k: pytest.fail("opening a saved run ran the simulation"))
    assert not other.main.metric
    other.sidebar.selectbox(key="open_id").set_value(folder.name).run()
    other.sidebar.button(key="open_run").click().run()
    assert not other.exception, other.exception
    assert cards(other) == shown
    assert other.session_state["base"].run.horizon_weeks == 8     # the short year, back in the sidebar
    assert other.sidebar.number_input(key="reps").value == 3
    assert not other.main.warning    # the results are for the scenario the sidebar shows


def test_a_view_reads_back_exactly(runs_dir):
    at = new_app()
    shorten(at)
    run(at)
    view = at.session_state["results"][at.session_state["last_run_key"]]
    folder = saved.save_view(view, "exact", runs_dir)
    back = saved.view_from_saved(folder, view.scenario)
    pd.testing.assert_frame_equal(back.kpis, view.kpis.reset_index(drop=True))
    pd.testing.assert_frame_equal(back.summary, view.summary.reset_index(drop=True))
    for name in saved.SERIES:
        a, b = getattr(view, name), getattr(back, name)
        assert (a is None and b is None) or (a.dtype == b.dtype and np.array_equal(a, b)), name
    assert back.dose_calendar.dtype == view.dose_calendar.dtype and np.array_equal(back.dose_calendar, view.dose_calendar)
    assert runs.read_manifest(folder)["label"] == "exact"     # the library's own reader accepts it


def test_a_run_needs_a_name(runs_dir):
    at = new_app()
    shorten(at)
    run(at)
    view = at.session_state["results"][at.session_state["last_run_key"]]
    with pytest.raises(saved.UsageError, match="name = '  '; allowed: 1 to 80 characters"):
        saved.save_view(view, "  ", runs_dir)
    assert not runs_dir.exists() or not list(runs_dir.iterdir())
