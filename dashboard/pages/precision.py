"""Replications page: how many replications give the chosen KPIs a given precision
(:func:`sim.run_to_precision`, Hoad, Robinson and Davies 2010)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import running, state
from dashboard.pages.analysis import amount, difference, has_scenario
from sim import charts
from sim.analysis.precision import Assessment
from sim.config.scenario import Scenario

DEFAULT_KPIS = ("crs_rate", "util_observation_beds", "cost_per_patient_started")
KPIS = tuple(dict.fromkeys((*DEFAULT_KPIS, *charts.CAPACITY_KPIS, *charts.COMPARE_KPIS, *charts.KPI_INFO)))


def precision_page(scenario: Scenario | None) -> None:
    """Relative precision and KPIs in; replications needed out, with the table filling batch by batch."""
    st.header("Replications: how many are enough")
    st.caption("Adds replications in batches until each chosen KPI's 95% confidence interval is within the "
               "precision of its mean, and stays there for a few more (the look-ahead of Hoad, Robinson and "
               "Davies 2010, J. Oper. Res. Soc. 61:1632-1644). Rare events (a mean near 0) can need far more.")
    if not has_scenario(scenario, "the search for the replications needed"):
        return
    c1, c2, c3 = st.columns([3, 1, 1])
    kpis = c1.multiselect("KPIs", [k for k in KPIS if k in charts.KPI_INFO], default=list(DEFAULT_KPIS),
                          format_func=lambda k: charts.kpi_info(k).label, key="prec_kpis")
    target = c2.number_input("Precision, ± % of the mean", 0.5, 50.0, 5.0, step=0.5, key="prec_target") / 100
    most = int(c3.number_input("At most (replications)", 10, 5000, 500, step=50, key="prec_max"))
    key = state.run_key(scenario, most, "precision", tuple(kpis), target)
    clicked = st.button("Find the replications needed", key="prec_run", type="primary", disabled=not kpis)
    partial = st.empty()   # the table after each batch while the replications run
    done = running.recall_or_run("precisions", key, clicked, lambda: running.to_precision(
        scenario, kpis, target, most, f"Replications for '{scenario.name}'",
        on_batch=lambda a: partial.dataframe(assessment_table(a, scenario.costs.currency), hide_index=True))[1],
        "replications")
    partial.empty()
    if done is not None:
        _answer(done, target, scenario.costs.currency)


def _use(n: int) -> None:
    st.session_state["reps"] = n


def _answer(a: Assessment, target: float, currency: str) -> None:
    if a.done:
        st.success(f"**{a.n_needed} replications** give every KPI chosen a 95% CI within ±{100 * target:g}% of "
                   f"its mean (ran {a.replications_run}: the look-ahead needs the extra).")
        st.button(f"Use {max(2, a.n_needed)} replications for runs", key="prec_use", on_click=_use,
                  args=(max(2, a.n_needed),), help="Sets Replications in the sidebar.")
    else:
        st.warning(f"Not every KPI reached ±{100 * target:g}% within {a.replications_run} replications; the "
                   "table shows the precision these replications give. Raise the most replications, relax the "
                   "precision, or leave out KPIs of rare events.")
    st.dataframe(assessment_table(a, currency), hide_index=True)


def assessment_table(a: Assessment, currency: str) -> pd.DataFrame:
    """Per KPI: the mean, the 95% CI half-width, the precision reached and the replications it needs."""
    rows = []
    for s in a.solutions:
        info = charts.kpi_info(s.kpi, currency)
        rows.append({"KPI": info.label, "Mean": amount(s.kpi, s.mean, currency),
                     "95% CI ±": difference(s.kpi, s.half_width, currency, signed=False),
                     "Precision (± % of mean)": "n/a" if s.precision != s.precision or s.precision == float("inf")
                     else f"{100 * s.precision:.1f}%",
                     "Replications needed": str(s.n_solution) if s.n_solution is not None else "not yet"})
    return pd.DataFrame(rows)
