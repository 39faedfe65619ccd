"""Issue 15 on the dashboard's analysis panels: the Capacity page offers start-day levelling (:func:`sim.level`)
and the sensitivity page offers a centre's parameters per programme, through Streamlit's AppTest."""

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


def test_sensitivity_offers_a_centres_parameters_per_programme():
    import sim
    from dashboard.pages.sensitivity import candidates, default_params

    centre = sim.load("centre_myeloma")
    offered = candidates(centre)
    assert not [k for k in offered if k.split(".")[0] in ("drug", "strategy", "demand", "population")]
    for name in centre.programmes:
        assert f"programmes.{name}.demand.patients_per_week" in offered
        assert offered[f"programmes.{name}.drug.crs.rate"].startswith(f"{name}: ")
    # every offered key varies the scenario (a centre refuses its top-level copies)
    for key in default_params(centre, offered):
        value = sim.analysis.sensitivity.base_value(centre, key)
        sim.vary(centre, {key: value * 1.1 if value else 1})
