"""The Capacity page's start-day levelling panel: which start weekdays spread a centre's load (:func:`sim.level`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import running, state
from sim import charts
from sim.analysis.levelling import LevellingResult, weekday_names
from sim.config.errors import ScenarioError, ScenarioErrors, UsageError
from sim.config.scenario import RESOURCES, Scenario
from sim.metrics.formats import format_diff, format_diff_ci, format_value

# Session-state keys: whether the panel is open, and the inputs of the answer last shown.
LEVEL_OPEN, LEVEL_SHOWN = "level_open", "level_shown"
MEASURES = {"doses_postponed": "Doses postponed (a year)", "p_dose_postponed": "Doses postponed (%)",
            "daily_peak_p95": "95th percentile of the daily peak (places)"}


def _keep_open() -> None:
    st.session_state[LEVEL_OPEN] = True


def levelling_panel(scenario: Scenario) -> None:
    """Search each programme's start weekdays (within what its label allows) for the assignment with the fewest
    postponed doses, then the lowest 95th percentile of a resource's daily peak, on common random numbers."""
    with st.expander("Level the start days of the programmes", key=LEVEL_OPEN, on_change="rerun"):
        st.caption("Tries, programme by programme, every set of start weekdays its label allows (each step-up "
                   "dose on an open day within its window), the others fixed, on the same patients; keeps the "
                   "assignment with the fewest postponed doses, then the lowest 95th percentile of the daily "
                   "peak, and shows its gain against the scenario's own start days with paired 95% CIs.")
        with_places = [r for r in RESOURCES if getattr(scenario.capacity, r) > 0]
        c1, c2, c3 = st.columns(3)
        default = "observation_beds" if "observation_beds" in with_places else with_places[0]
        res = c1.selectbox("Resource to level", with_places, index=with_places.index(default),
                           format_func=charts.RESOURCE_LABELS.get, key="level_res")
        reps = int(c2.number_input("Replications per assignment", 2, 200, 20, step=2, key="level_reps"))
        clicked = c3.button("Level start days", key="level_run", width="stretch", on_click=_keep_open)
        key = state.run_key(scenario, reps, "level", res)
        slot = st.container()
        if clicked:
            try:
                with slot:
                    result = running.level(scenario, res, reps, "Levelling start days")
            except (ScenarioError, ScenarioErrors, UsageError) as exc:
                st.error(f"The levelling did not run: {exc}")
                return
            state.remember("levellings", key, result)
            st.session_state[LEVEL_SHOWN] = key
        result = state.recall("levellings", key) or state.recall("levellings", st.session_state.get(LEVEL_SHOWN))
        if result is not None:
            if state.recall("levellings", key) is None:
                st.caption("The answer below is for the inputs as they were when it ran.")
            _answer(result, scenario.costs.currency)


def _answer(result: LevellingResult, currency: str) -> None:
    """The verdict, the start days per programme (own and best) and the paired differences."""
    (st.success if result.improved else st.info)(result.message[0].upper() + result.message[1:] + ".")
    st.dataframe(pd.DataFrame({
        "Programme": list(result.allowed),
        "Start days the label allows": [weekday_names(d) or "none" for d in result.allowed.values()],
        "Own": [weekday_names(result.own.assignment[n]) for n in result.allowed],
        "Best found": [weekday_names(result.best.assignment[n]) for n in result.allowed]}), hide_index=True)
    rows = []
    for r in result.differences.itertuples(index=False):
        rows.append({"Measure": MEASURES.get(r.kpi, r.kpi),
                     "Own": format_value(r.kpi, r.base_mean, currency),
                     "Best": format_value(r.kpi, r.other_mean, currency),
                     "Best - own": format_diff(r.kpi, r.diff_mean, currency),
                     "95% CI": format_diff_ci(r.kpi, r.diff_ci_low, r.diff_ci_high, currency),
                     "Distinguishable": "yes" if r.excludes_zero else "no"})
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(f"{len(result.evaluations)} assignments tried on the same {result.reps} replications; the best is "
               "picked on them, so a gain near the edge of its interval deserves a confirming run.")
    for note in result.notes:
        st.caption(note)
