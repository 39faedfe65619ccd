"""Sensitivity page: which inputs the answer hinges on, as a tornado (:func:`sim.sensitivity`, one-way)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

import sim
from dashboard import running, state
from dashboard.pages.analysis import difference, has_scenario
from dashboard.pages.common import chart
from sim import charts
from sim.analysis import sensitivity
from sim.analysis.sensitivity import base_value
from sim.charts.sensitivity import tornado_chart, tornado_frame
from sim.config.errors import ScenarioError, ScenarioErrors, UsageError
from sim.config.scenario import RESOURCES, Scenario, programmes

# KPIs a user may draw; the run tabulates them all, so switching KPI afterwards needs no new run.
KPIS = tuple(dict.fromkeys(("p_dose_postponed", "days_referral_to_first_dose_mean", "util_observation_beds",
                            "cost_per_patient_started", *charts.CAPACITY_KPIS, *charts.COMPARE_KPIS)))
# The default range of a parameter: this share either side of its current value (a starting point to edit).
SPREAD = 0.25


def candidates(scenario: Scenario) -> dict[str, str]:
    """Parameters offered, ``{dotted key: label}``: the drug's CRS rate, each prophylaxis relative risk,
    the monitoring hours of each rule that sets them, referrals, growth and every capacity; only those
    the scenario holds a number for. A centre offers each programme's (``programmes.<name>.``...)."""
    out: dict[str, str] = {}
    for name, view in programmes(scenario):
        prefix, who = (f"programmes.{name}.", f"{name}: ") if scenario.programmes else ("", "")
        out[f"{prefix}drug.crs.rate"] = f"{who}CRS rate (share of patients)"
        for timing in (view.drug.prophylaxis or {}):
            when = timing.replace("_", " ")
            out[f"{prefix}drug.prophylaxis.{timing}.crs_relative_risk"] = (f"{who}Prophylaxis ({when}): CRS "
                                                                           "relative risk")
        for i, rule in enumerate(view.strategy.monitoring):
            out[f"{prefix}strategy.monitoring.{i}.hours"] = f"{who}Monitoring hours, rule {i + 1} ({rule.place})"
        for i, block in enumerate(view.drug.schedule):
            out[f"{prefix}drug.schedule.{i}.monitor_hours"] = f"{who}Monitoring hours after {block.label}"
        out[f"{prefix}demand.patients_per_week"] = f"{who}Referrals per week"
    out.update({f"capacity.{r}": charts.RESOURCE_LABELS[r] for r in RESOURCES})
    return {k: v for k, v in out.items() if math.isfinite(base_value(scenario, k))}


def default_params(scenario: Scenario, offered: dict[str, str]) -> list[str]:
    """The parameters ticked at first: CRS rate, the prophylaxis relative risk (when the strategy gives
    prophylaxis), the first monitoring hours, demand and observation beds (those the scenario has)."""
    wanted = ["rate", "hours", "patients_per_week", "capacity.observation_beds"]
    if scenario.strategy.prophylaxis is not None:
        wanted.insert(1, "crs_relative_risk")
    firsts: dict[str, str] = {}
    for key in offered:
        kind = key if key.startswith("capacity.") else key.rsplit(".", 1)[-1].removeprefix("monitor_")
        if kind in wanted:
            firsts.setdefault(kind, key)
    return sorted(firsts.values(), key=lambda k: wanted.index(
        k if k.startswith("capacity.") else k.rsplit(".", 1)[-1].removeprefix("monitor_")))


def _end(scenario: Scenario, key: str, value: float, sign: int) -> float:
    """One end of a parameter's default range: :data:`SPREAD` away from ``value``, or half, or a tenth of
    it, whichever the scenario accepts first (monitoring hours below a rule's threshold, say, would send
    the dose to a place that cannot hold it); ``value`` itself when none is."""
    for share in (SPREAD, SPREAD / 2, SPREAD / 10):
        if key.startswith("capacity."):
            x = float(value + sign * max(1, round(share * value)))   # whole places, at least one apart
        else:
            x = float(f"{value * (1 + sign * share):.3g}")
        try:
            sim.vary(scenario, {key: int(x) if key.startswith("capacity.") else x})
        except (ScenarioError, ScenarioErrors, UsageError):
            continue
        return x
    return float(value)


def default_range(scenario: Scenario, key: str) -> tuple[float, float]:
    """Low and high a parameter starts with (the user edits them), remembered per scenario and key."""
    memo = st.session_state.setdefault("sens_ranges", {})
    token = (state.scenario_hash(scenario), key)
    if token not in memo:
        value = base_value(scenario, key)
        memo[token] = (_end(scenario, key, value, -1), _end(scenario, key, value, +1))
    return memo[token]


def sensitivity_page(scenario: Scenario | None) -> None:
    """The tornado of one KPI over the chosen parameters, and its table with 95% CIs."""
    st.header("Sensitivity: which inputs the answer hinges on")
    st.caption("Runs the scenario in the sidebar at its baseline and with each parameter at its low and its high "
               "value in turn (the others at baseline), every run on the same seed, so the same simulated "
               "patients meet each setting and a difference is the parameter's, not chance's.")
    if not has_scenario(scenario, "the sensitivity"):
        return
    params, kpi, reps, clicked = _inputs(scenario)
    key = state.run_key(scenario, reps, "sensitivity", sorted(params.items()))
    partial = st.empty()   # the tornado of the parameters done so far, while the others run
    table = running.recall_or_run("sensitivities", key, clicked, lambda: running.sensitivity(
        scenario, params, [k for k in KPIS if k in charts.KPI_INFO], reps, f"Sensitivity of '{scenario.name}'",
        on_point=_filling(partial, scenario, params, kpi)), "sensitivity")
    partial.empty()
    if table is not None:
        _answer(table, kpi, candidates(scenario), scenario.costs.currency, scenario.name)


def _inputs(scenario: Scenario) -> tuple[dict[str, tuple[float, float]], str, int, bool]:
    offered = candidates(scenario)
    c1, c2 = st.columns([1, 2])
    kpi = c1.selectbox("Result to explain", [k for k in KPIS if k in charts.KPI_INFO], key="sens_kpi",
                       format_func=lambda k: charts.kpi_info(k).label)
    chosen = c2.multiselect("Parameters", list(offered), default=default_params(scenario, offered), key="sens_params",
                            format_func=offered.get)
    params: dict[str, tuple[float, float]] = {}
    for k in chosen:
        base = base_value(scenario, k)
        low, high = default_range(scenario, k)
        a, b, c = st.columns([2, 1, 1])
        a.markdown(f"**{offered[k]}**  \nnow {base:g}")
        lo = b.number_input("Low", value=low, format="%g", key=f"sens_low_{k}")
        hi = c.number_input("High", value=high, format="%g", key=f"sens_high_{k}")
        params[k] = (lo, hi)
    c1, c2 = st.columns([1, 2])
    reps = int(c1.number_input("Replications per setting", 2, 500, 20, step=5, key="sens_reps"))
    c2.caption(f"{1 + 2 * len(params)} settings × {reps} replications = {(1 + 2 * len(params)) * reps:,} "
               "simulated years.")
    clicked = st.button("Run sensitivity", key="sens_run", type="primary", disabled=not params)
    return params, kpi, reps, clicked


def _filling(box, scenario: Scenario, params: dict[str, tuple[float, float]], kpi: str):
    """An ``on_point`` that redraws, in ``box``, the tornado of every parameter whose low and high have
    both finished (the baseline runs first), so the answer fills in while the rest run."""
    frames: dict[tuple, pd.DataFrame] = {}
    labels = candidates(scenario)
    currency = scenario.costs.currency

    def heard(point, kpis: pd.DataFrame) -> None:
        frames[tuple(point.items())] = kpis
        done = [sensitivity.param(k, lohi) for k, lohi in params.items()
                if all(((k, v),) in frames for v in lohi)]
        if () not in frames or not done:
            return
        table = sensitivity.tornado_table(done, frames[()], [frames[((p.name, p.low),)] for p in done],
                                          [frames[((p.name, p.high),)] for p in done], [kpi],
                                          [base_value(scenario, p.name) for p in done])
        with box.container():
            st.caption(f"{len(done)} of {len(params)} parameters done; the others are running.")
            # a partial tornado, redrawn as runs finish: no download button (its key would repeat)
            st.altair_chart(tornado_chart(tornado_frame(table, kpi, labels, currency), kpi, currency),
                            width="content")

    return heard


def _answer(table: pd.DataFrame, kpi: str, labels: dict[str, str], currency: str, name: str) -> None:
    """The tornado and the table of the KPI drawn (``name``: the scenario, for the chart's file name)."""
    frame = tornado_frame(table, kpi, labels, currency)
    chart(tornado_chart(frame, kpi, currency), name)
    st.dataframe(sensitivity_table(table, kpi, labels, currency), hide_index=True, width="stretch")
    st.caption("Difference: the KPI at the parameter's high value minus at its low value, paired over the same "
               "replications, with its 95% CI; an interval that excludes 0 is more than run-to-run noise.")


def sensitivity_table(table: pd.DataFrame, kpi: str, labels: dict[str, str], currency: str) -> pd.DataFrame:
    """One row per parameter, largest swing first: its range, the KPI at low, baseline and high with 95%
    CIs, and the paired difference high minus low with its CI."""
    unit = charts.kpi_info(kpi, currency).unit
    rows = []
    for r in table[table["kpi"] == kpi].sort_values("rank").itertuples(index=False):
        rows.append({
            "Rank": int(r.rank), "Parameter": labels.get(r.param, r.param),
            "Low to high": f"{r.low:g} to {r.high:g} (now {r.base:g})",
            f"At low ({unit})": f"{charts.format_value(kpi, r.value_low, currency)} "
                                f"({charts.format_ci(kpi, r.value_low_ci_low, r.value_low_ci_high, currency)})",
            f"At baseline ({unit})": charts.format_value(kpi, r.value_base, currency),
            f"At high ({unit})": f"{charts.format_value(kpi, r.value_high, currency)} "
                                 f"({charts.format_ci(kpi, r.value_high_ci_low, r.value_high_ci_high, currency)})",
            "Difference, high − low (95% CI)": f"{difference(kpi, r.diff_high_minus_low, currency)} "
                                              f"({difference(kpi, r.diff_ci_low, currency)} to "
                                              f"{difference(kpi, r.diff_ci_high, currency)})"})
    return pd.DataFrame(rows)
