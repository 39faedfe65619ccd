"""Capacity page (administrators): service level, occupancy, peaks, hospital use, dosing calendar, sizing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import sim
from dashboard import running, state
from dashboard.pages.common import chart, exports, kpi_cards, page_view
from sim import charts
from sim.analysis import views
from sim.config import registry
from sim.config.errors import ScenarioError, ScenarioErrors, UsageError
from sim.config.scenario import RESOURCES, Scenario


def capacity_page(scenario: Scenario | None) -> None:
    """For administrators: service level, occupancy, peaks, toxicity-driven use, dosing calendar, sizing."""
    st.header("Capacity: beds, chairs and service level")
    view = page_view(scenario)
    if view is None:
        return
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
    if scenario is not None:
        sizing_panel(scenario)
    with st.expander("All KPIs with 95% CIs"):
        st.dataframe(charts.summary_table(view.summary, view.currency).drop(columns=["column"]),
                     hide_index=True, width="stretch")
    exports(view)


SIZING_KPIS = ("p_dose_postponed", "days_referral_to_first_dose_mean", "patients_diverted", "icu_boarding_hours",
               "wait_ed_bays_hours_mean", "wait_icu_beds_hours_mean", "wait_ward_beds_hours_mean")


def sizing_panel(scenario: Scenario) -> None:
    """The smallest capacity of one resource whose 95% CI meets a service target (:func:`sim.size`)."""
    with st.expander("Find the smallest capacity that meets a target", expanded=False):
        st.caption("Runs the current scenario at a few capacities on the same seed (same patients), bracketing "
                   "and bisecting the range, and picks the smallest capacity whose whole 95% confidence "
                   "interval meets the target.")
        res, lo, hi, kpi, target, reps, clicked = _sizing_inputs(scenario)
        key = state.run_key(scenario, reps, "size", res, lo, hi, kpi, target)
        result = state.recall("sizings", key)
        if clicked:
            try:
                result = running.size(scenario, res, sim.Target(kpi, "<=", target), reps, lo, hi,
                                      f"Sizing {charts.RESOURCE_LABELS[res]}")
            except (ScenarioError, ScenarioErrors, UsageError) as exc:
                st.error(f"The sizing did not run: {exc}")
                return
            state.remember("sizings", key, result)
        if result is not None:
            _sizing_answer(scenario, result, kpi, target)


def _sizing_inputs(scenario: Scenario) -> tuple[str, int, int, str, float, int, bool]:
    """The sizing panel's widgets: resource, range, service measure, target (as a KPI value), replications."""
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
    clicked = c6.button("Run sizing", key="size_run", width="stretch")
    return res, lo, hi, kpi, target / 100 if share else target, reps, clicked


def _sizing_answer(scenario: Scenario, result: sim.SizingResult, kpi: str, target: float) -> None:
    """The capacity curve of the capacities tried, the answer, and the table."""
    (res,) = result.resources
    currency = scenario.costs.currency
    info = charts.kpi_info(kpi, currency)
    curve = result.curve(kpi)
    chart(charts.capacity_curve_chart(curve, kpi, res, target, currency), f"{scenario.name}_sizing_{res}")
    shown_target = charts.format_value(kpi, target, currency)
    if not result.found:
        st.error(f"No capacity in the range meets {info.label} ≤ {shown_target} with 95% confidence: "
                 "try larger capacities or more replications.")
    else:
        st.success(f"Smallest {charts.RESOURCE_LABELS[res].lower()} meeting {info.label.lower()} ≤ "
                   f"{shown_target} with 95% confidence: **{result.answer[res]}** "
                   f"(current: {getattr(scenario.capacity, res)}).")
    st.dataframe(pd.DataFrame({
        f"{charts.RESOURCE_LABELS[res]} ({registry.resource(res).unit})": curve["capacity"].astype(int),
        f"{info.label} ({info.unit}), mean": [charts.format_value(kpi, v, currency) for v in curve["mean"]],
        "95% CI": [charts.format_ci(kpi, lo, hi, currency) for lo, hi in zip(curve["ci_low"], curve["ci_high"])],
        "Replications": curve["n"].astype(int)}), hide_index=True)
