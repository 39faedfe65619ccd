"""Capacity page (administrators): service level, occupancy, peaks, hospital use, dosing calendar, sizing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import sim
from dashboard import running, state
from dashboard.pages.common import chart, exports, kpi_cards, page_view
from dashboard.pages.levelling import levelling_panel
from sim import charts
from sim.analysis import views
from sim.config import registry
from sim.config.errors import ScenarioError, ScenarioErrors, UsageError
from sim.config.scenario import RESOURCES, Scenario


def capacity_page(scenario: Scenario | None) -> None:
    """For administrators: service level, occupancy, peaks, toxicity-driven use, dosing calendar, sizing.

    The sizing panel works on the sidebar's scenario, with or without a main run.
    """
    st.header("Capacity: beds, chairs and service level")
    view = page_view(scenario)
    if view is not None:
        _results(view)
    if scenario is not None:
        sizing_panel(scenario)
        levelling_panel(scenario)
    if view is not None:
        with st.expander("All KPIs with 95% CIs"):
            st.dataframe(charts.summary_table(view.summary, view.currency).drop(columns=["column"]),
                         hide_index=True, width="stretch")
        exports(view)


def _results(view: views.RunView) -> None:
    """The main run's cards and charts."""
    kpi_cards(view, charts.CAPACITY_KPIS)
    cap = views.capacity_of(view.scenario)
    name = view.scenario.name
    st.subheader("When places are used")
    chart(charts.occupancy_heatmap(charts.hour_of_week_frame(view.hour_of_week, cap)), name)
    chart(charts.daily_peak_chart(charts.daily_peak_frame(view.daily_peak, cap)), name)
    if not view.peaks_exact:
        st.caption("Daily peaks from hourly means: short peaks are understated.")
    st.subheader("Toxicity and unplanned hospital use")
    # one under the other: side by side, each was wider than its half of a 1280 px window
    use = charts.hospital_use_frame(view.kpis)
    if len(use):
        chart(charts.hospital_use_chart(use), name)
    if view.grades is not None:
        chart(charts.toxicity_grade_chart(charts.toxicity_grade_frame(view.grades)), name)
    cost = charts.cost_breakdown_frame(view.kpis)
    if len(cost):
        st.subheader("What it costs")
        chart(charts.cost_breakdown_chart(cost, view.currency), name)
        st.caption("Operating cost by resource; chair revenue forgone (chair_opportunity_cost) is not included.")
    st.subheader("Dosing calendar for a sample of patients")
    gantt = charts.dosing_calendar(view.dose_calendar)   # the stays replication 0 recorded
    if len(gantt):
        chart(charts.dosing_gantt(gantt), name)
        st.caption("The first patients who start after warm-up in replication 0: planned monitoring stays by "
                   "place; admissions caused by toxicity are not drawn.")
    else:
        st.caption("No patient started after warm-up in replication 0.")


SIZING_KPIS = ("p_dose_postponed", "days_referral_to_first_dose_mean", "patients_diverted", "icu_boarding_hours",
               "wait_ed_bays_hours_mean", "wait_icu_beds_hours_mean", "wait_ward_beds_hours_mean")


# Session-state keys of the sizing panel: whether it is open, and the inputs of the answer last shown.
SIZING_OPEN, SIZING_SHOWN = "size_open", "size_shown"


def _keep_open(key: str) -> None:
    # a click inside a panel keeps it open on the rerun it causes, whatever else moved on the page
    st.session_state[key] = True


def sizing_panel(scenario: Scenario) -> None:
    """The smallest capacity of one resource whose 95% CI meets a service target (:func:`sim.size`).

    The panel's open state and its last answer live in the session, so the rerun a click causes neither
    closes the panel nor hides the answer (issue 16, bug 2).
    """
    ss = st.session_state
    with st.expander("Find the smallest capacity that meets a target", key=SIZING_OPEN, on_change="rerun"):
        st.caption("Runs the current scenario (the sidebar's inputs; no main run needed) at a few capacities on "
                   "the same seed (same patients), bracketing and bisecting the range, and picks the smallest "
                   "capacity whose whole 95% confidence interval meets the target.")
        asked = _sizing_inputs(scenario)
        clicked = asked.pop("clicked")
        key = state.run_key(scenario, asked["reps"], "size", *asked.values())
        slot = st.container()   # the progress bar's place, drawn always so the answer below never moves
        if clicked:
            try:
                with slot:
                    result = running.size(scenario, asked["res"], sim.Target(asked["kpi"], "<=", asked["target"]),
                                          asked["reps"], asked["lo"], asked["hi"],
                                          f"Sizing {charts.RESOURCE_LABELS[asked['res']]}")
            except (ScenarioError, ScenarioErrors, UsageError) as exc:
                st.error(f"The sizing did not run: {exc}")
                return
            state.remember("sizings", key, (result, asked))
            ss[SIZING_SHOWN] = key
        shown = state.recall("sizings", key) or state.recall("sizings", ss.get(SIZING_SHOWN))
        if shown is not None:
            result, was = shown
            if state.recall("sizings", key) is None:
                st.caption("The answer below is for the inputs as they were when it ran; press **Run sizing** "
                           "to size with the inputs above.")
            _sizing_answer(scenario, result, was["kpi"], was["target"], was["hi"])


def _sizing_inputs(scenario: Scenario) -> dict:
    """The sizing panel's widgets: resource, range, service measure, target (as a KPI value), replications,
    and whether Run sizing was clicked."""
    c1, c2, c3 = st.columns(3)
    res = c1.selectbox("Resource", RESOURCES, index=1, format_func=charts.RESOURCE_LABELS.get, key="size_res")
    cur = int(getattr(scenario.capacity, res))
    top = max(cur + 10, 2 * cur)
    lo, hi = c2.slider("Capacities to search", 1, top, (max(1, cur - 2), min(top, max(cur + 3, 3))),
                       key=f"size_range_{res}", help="The search tries only a few capacities in this range.")
    kpi = c3.selectbox("Service measure", SIZING_KPIS, format_func=lambda k: charts.kpi_info(k).label,
                       key="size_kpi")
    info = charts.kpi_info(kpi, scenario.costs.currency)
    c4, c5, c6 = st.columns(3)
    share = info.kind == "share"
    target = c4.number_input(f"Target: at most ({'%' if share else info.unit})", min_value=0.0,
                             value=2.0 if share else 1.0, step=0.5, key=f"size_target_{kpi}")
    reps = int(c5.number_input("Replications per capacity", 5, 500, 30, step=5, key="size_reps"))
    clicked = c6.button("Run sizing", key="size_run", width="stretch", on_click=_keep_open, args=(SIZING_OPEN,))
    return {"res": res, "lo": lo, "hi": hi, "kpi": kpi, "target": target / 100 if share else target, "reps": reps,
            "clicked": clicked}


def _sizing_answer(scenario: Scenario, result: sim.SizingResult, kpi: str, target: float, high: int) -> None:
    """The capacity curve of the capacities tried, the answer (with a warning when it is the top of the
    range searched, ``high``), and the table."""
    (res,) = result.resources
    currency = scenario.costs.currency
    info = charts.kpi_info(kpi, currency)
    curve = result.curve(kpi)
    chart(charts.capacity_curve_chart(curve, kpi, res, target, currency), f"{scenario.name}_sizing_{res}")
    shown_target = charts.format_value(kpi, target, currency)
    if not result.found:
        st.error(f"No capacity up to {high} meets {info.label} ≤ {shown_target} with 95% confidence: "
                 "widen the range (raise its top) or add replications.")
    else:
        st.success(f"Smallest {charts.RESOURCE_LABELS[res].lower()} meeting {info.label.lower()} ≤ "
                   f"{shown_target} with 95% confidence: **{result.answer[res]}** "
                   f"(current: {getattr(scenario.capacity, res)}).")
        if result.answer[res] >= high:
            st.warning(f"{result.answer[res]} is the top of the range searched, so nothing above it was tried: "
                       "widen the range to see how much margin a larger capacity gives.")
    st.dataframe(pd.DataFrame({
        f"{charts.RESOURCE_LABELS[res]} ({registry.resource(res).unit})": curve["capacity"].astype(int),
        f"{info.label} ({info.unit}), mean": [charts.format_value(kpi, v, currency) for v in curve["mean"]],
        "95% CI": [charts.format_ci(kpi, lo, hi, currency) for lo, hi in zip(curve["ci_low"], curve["ci_high"])],
        "Replications": curve["n"].astype(int)}), hide_index=True)
