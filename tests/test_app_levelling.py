"""Issue 15: the Capacity page offers start-day levelling (:func:`sim.level`), through Streamlit's AppTest."""

from __future__ import annotations

from dashboard.pages.levelling import LEVEL_OPEN
from tests.test_app import new_app, shorten

TITLE = "Level the start days of the programmes"


def test_levelling_runs_from_the_capacity_page_and_shows_the_days_and_the_paired_gain():
    at = new_app()
    shorten(at)
    at.session_state[LEVEL_OPEN] = True   # the user opens the panel
    at.run()
    at.selectbox(key="level_res").set_value("observation_beds")
    at.number_input(key="level_reps").set_value(2)
    at.run()
    at.button(key="level_run").click().run()
    assert not at.exception, at.exception
    (panel,) = [e for e in at.main.expander if e.label == TITLE]
    verdicts = [m.value for m in list(panel.success) + list(panel.info)]
    assert len(verdicts) == 1 and ("start weekdays" in verdicts[0] or "assignment" in verdicts[0]), verdicts
    days, gains = panel.dataframe[0].value, panel.dataframe[1].value
    assert list(days["Programme"]) == ["tarlatamab"]
    assert days.loc[0, "Own"] == "Mon Tue Wed Thu"
    assert list(gains["Measure"]) == ["Doses postponed (a year)", "Doses postponed (%)",
                                      "95th percentile of the daily peak (places)"]
    assert set(gains["Distinguishable"]) <= {"yes", "no"}
    # the answer stays on the next rerun
    at.run()
    (panel,) = [e for e in at.main.expander if e.label == TITLE]
    assert len(panel.dataframe) == 2
