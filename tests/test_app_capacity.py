"""Issue 16 for the administrator and the pharmacy planner, through Streamlit's AppTest: the first sizing
after a main run shows its answer in one open panel (bug 2), the panels run without a main run, and the
sidebar reads referrals a year and holidays as dates while the scenario keeps per week and day numbers."""

from __future__ import annotations

import datetime as dt

from dashboard import fields
from tests.test_app import new_app, run, shorten

SIZING_TITLE = "Find the smallest capacity that meets a target"


def sizing_panels(at):
    return [e for e in at.main.expander if e.label == SIZING_TITLE]


def place(at) -> int:
    """Where the sizing panel sits among the page's top-level elements (the browser places it by this)."""
    return next(i for i, e in at.main.children.items() if getattr(e, "label", None) == SIZING_TITLE)


def ask_sizing(at, top: int = 4) -> None:
    at.session_state["size_open"] = True   # the user opens the panel
    at.run()
    at.selectbox(key="size_res").set_value("observation_beds").run()
    at.slider(key="size_range_observation_beds").set_value((1, top))
    at.number_input(key="size_reps").set_value(5)
    at.number_input(key="size_target_p_dose_postponed").set_value(50.0)
    at.run()


def test_first_sizing_after_a_main_run_shows_its_answer_in_one_open_panel():
    """Bug 2: the first Run sizing after a main run used to close the panel, show it twice while running,
    and hide the answer until the panel was reopened."""
    at = new_app()
    shorten(at)
    at.session_state["size_open"] = True
    run(at)
    after_run = place(at)
    ask_sizing(at)
    at.button(key="size_run").click().run()
    assert not at.exception, at.exception
    (panel,) = sizing_panels(at)
    # the same place as on the main run's rerun (a moved panel was drawn twice, and afresh closed)
    assert place(at) == after_run
    assert panel.proto.expanded and at.session_state["size_open"] is True
    assert any("Smallest observation beds" in s.value for s in panel.success), [s.value for s in at.success]
    # the next rerun keeps the panel open, in its place, with the answer shown
    at.run()
    (panel,) = sizing_panels(at)
    assert place(at) == after_run and panel.proto.expanded
    assert any("Smallest observation beds" in s.value for s in panel.success)


def test_sizing_runs_without_a_main_run_and_warns_at_the_top_of_the_range():
    at = new_app()
    shorten(at)
    assert at.session_state["last_run_key"] is None
    ask_sizing(at, top=1)
    at.number_input(key="size_target_p_dose_postponed").set_value(100.0).run()
    at.button(key="size_run").click().run()
    assert not at.exception, at.exception
    (panel,) = sizing_panels(at)
    assert any("**1**" in s.value for s in panel.success), [s.value for s in panel.success]
    assert any("top of the range searched" in w.value and "widen the range" in w.value for w in panel.warning)


def test_stock_panel_runs_without_a_main_run_and_explains_the_two_stock_out_figures():
    at = new_app()
    shorten(at)
    at.radio(key="page").set_value("Tocilizumab stock").run()
    at.text_input(key="stock_levels").set_value("0, 100000")
    at.number_input(key="stock_reps").set_value(5)
    at.number_input(key="stock_target").set_value(50.0).run()
    at.button(key="stock_run").click().run()
    assert not at.exception, at.exception
    assert any("Smallest order up to" in s.value and "100,000 mg" in s.value for s in at.success)
    assert any("highest level tried" in w.value and "widen the range" in w.value for w in at.main.warning)
    assert any("chance of a stock-out" in c.value and "patient doses delayed a year" in c.value for c in at.caption)


def test_referrals_are_entered_a_year_and_kept_a_week():
    at = new_app()
    at.sidebar.selectbox(key="section").set_value("Demand").run()
    key = f"w{at.session_state['gen']}:demand.patients_per_week"
    box = at.sidebar.number_input(key=key)
    assert box.value == 200.0 and "patients per year" in box.label     # 3.846 a week reads 200 a year
    box.set_value(312.0).run()
    assert at.session_state["overrides"]["demand.patients_per_week"] == 312.0 / 52   # 6 a week underneath
    scenario = fields.validate(at.session_state["base_dump"], at.session_state["overrides"])[0]
    assert scenario.demand.patients_per_week == 6.0
    assert fields.per_year(scenario.demand.patients_per_week) == 312.0


def test_holidays_are_entered_as_dates_and_kept_as_day_numbers():
    at = new_app()
    at.sidebar.selectbox(key="section").set_value("Calendar").run()
    day0 = at.session_state["calendar_day0"]
    assert day0.weekday() == 0
    key = f"w{at.session_state['gen']}:calendar.holidays:{day0.isoformat()}"
    christmas, new_year = day0 + dt.timedelta(days=354), day0 + dt.timedelta(days=361)
    at.sidebar.text_input(key=key).set_value(f"{new_year.isoformat()}, {christmas.isoformat()}").run()
    assert not at.exception, at.exception
    assert at.session_state["overrides"]["calendar.holidays"] == [354, 361]
    scenario = fields.validate(at.session_state["base_dump"], at.session_state["overrides"])[0]
    assert scenario.calendar.holidays == (354, 361)
    assert fields.format_dates(list(scenario.calendar.holidays), day0) == f"{christmas}, {new_year}"
    at.sidebar.text_input(key=key).set_value("25 December").run()
    assert any("'25' is not a date" in e.value for e in at.sidebar.error), [e.value for e in at.sidebar.error]
