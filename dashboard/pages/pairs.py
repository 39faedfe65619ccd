"""Cheapest pair page: the cheapest numbers of two resources that together meet a service target
(:func:`sim.size` with two resources and their unit costs)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import sim
from dashboard import running, state
from dashboard.pages.analysis import has_scenario
from dashboard.pages.capacity import SIZING_KPIS
from dashboard.pages.common import chart
from sim import charts
from sim.analysis.sizing import default_unit_costs
from sim.charts.pairs import pair_chart, pair_frame
from sim.config.scenario import RESOURCES, Scenario

DEFAULT_PAIR = ("observation_beds", "chairs")


def pair_page(scenario: Scenario | None) -> None:
    """Two resources, their ranges and unit costs, a target: the cheapest feasible pair and the frontier."""
    st.header("Cheapest pair of resources")
    st.caption("Finds the cheapest numbers of two resources that together meet a service target with 95% "
               "confidence: for each number of the first, the fewest of the second that meets it (bisection on "
               "the same simulated patients), then the pair with the lowest capacity cost.")
    if not has_scenario(scenario, "the search"):
        return
    pick = _inputs(scenario)
    if pick is None:
        return
    resources, low, high, costs, kpi, target, reps, clicked = pick
    key = state.run_key(scenario, reps, "pair", resources, sorted(low.items()), sorted(high.items()),
                        sorted(costs.items()), kpi, target)
    result = running.recall_or_run("pair_sizings", key, clicked, lambda: running.size_pair(
        scenario, resources, sim.Target(kpi, "<=", target), reps, low, high, costs, "Searching pairs"), "search")
    if result is not None:
        _answer(scenario, result, kpi, target)


def _inputs(scenario: Scenario):
    """The page's widgets; None when the same resource is picked twice."""
    currency = scenario.costs.currency
    c1, c2 = st.columns(2)
    ra = c1.selectbox("First resource", RESOURCES, index=RESOURCES.index(DEFAULT_PAIR[0]),
                      format_func=charts.RESOURCE_LABELS.get, key="pair_a")
    rb = c2.selectbox("Second resource", RESOURCES, index=RESOURCES.index(DEFAULT_PAIR[1]),
                      format_func=charts.RESOURCE_LABELS.get, key="pair_b")
    if ra == rb:
        st.error(f"Both resources are {charts.RESOURCE_LABELS[ra].lower()}; allowed: two different resources.")
        return None
    unit = default_unit_costs(scenario)
    low, high, costs = {}, {}, {}
    for col, r in ((c1, ra), (c2, rb)):
        cur = int(getattr(scenario.capacity, r))
        top = max(cur + 10, 2 * cur)
        low[r], high[r] = col.slider(f"{charts.RESOURCE_LABELS[r]}: numbers to search", 1, top,
                                     (max(1, cur - 2), min(top, cur + 4)), key=f"pair_range_{r}")
        costs[r] = col.number_input(f"{charts.RESOURCE_LABELS[r]}: cost of one place over the "
                                    f"{scenario.run.horizon_weeks} weeks ({currency})", min_value=0.0,
                                    value=float(round(unit[r])), step=1000.0, format="%.0f", key=f"pair_cost_{r}",
                                    help="Default: its price per use times the hours one is available in the "
                                         "statistics window. Only the ratio of the two costs matters.")
    c3, c4, c5 = st.columns(3)
    kpi = c3.selectbox("Service measure", SIZING_KPIS, format_func=lambda k: charts.kpi_info(k).label,
                       key="pair_kpi")
    info = charts.kpi_info(kpi, currency)
    share = info.kind == "share"
    target = c4.number_input(f"Target: at most ({'%' if share else info.unit})", min_value=0.0,
                             value=2.0 if share else 1.0, step=0.5, key=f"pair_target_{kpi}")
    reps = int(c5.number_input("Replications per pair", 2, 500, 20, step=5, key="pair_reps"))
    clicked = st.button("Find the cheapest pair", key="pair_run", type="primary")
    return (ra, rb), low, high, costs, kpi, target / 100 if share else target, reps, clicked


def _answer(scenario: Scenario, result: sim.SizingResult, kpi: str, target: float) -> None:
    """The answer, a warning when it sits at the top of a range, the chart and the frontier table."""
    ra, rb = result.resources
    currency = scenario.costs.currency
    info = charts.kpi_info(kpi, currency)
    shown = charts.format_value(kpi, target, currency)
    if result.answer is None:
        st.error(f"No pair in the ranges searched meets {info.label.lower()} ≤ {shown} with 95% confidence: "
                 "raise the upper ends of the ranges or relax the target.")
    else:
        a, b = result.answer[ra], result.answer[rb]
        st.success(f"Cheapest pair meeting {info.label.lower()} ≤ {shown} with 95% confidence: "
                   f"**{a} {charts.RESOURCE_LABELS[ra].lower()}** and **{b} {charts.RESOURCE_LABELS[rb].lower()}**, "
                   f"capacity cost {currency} {result.cost(result.answer):,.0f} (now {getattr(scenario.capacity, ra)} "
                   f"and {getattr(scenario.capacity, rb)}).")
        for r in (ra, rb):
            if result.answer[r] == result.bounds[r][1]:
                st.warning(f"{charts.RESOURCE_LABELS[r]} = {result.answer[r]} is the top of the range searched: "
                           "a cheaper pair may need more of it. Raise the upper end of its range and search again.")
            elif result.answer[r] == result.bounds[r][0]:
                st.caption(f"{charts.RESOURCE_LABELS[r]} = {result.answer[r]} is the bottom of the range searched: "
                           "fewer were not tried.")
    for note in result.notes:
        st.caption(f"Note: {note}")
    frontier = pd.DataFrame([{"a": int(f[ra]), "b": int(f[rb])} for f in result.frontier], columns=["a", "b"])
    table = result.table()
    chart(pair_chart(pair_frame(table, (ra, rb), currency), frontier, (ra, rb)), scenario.name)
    st.markdown("**The frontier**: for each number of the first resource, the fewest of the second that meets "
                "the target")
    st.dataframe(frontier_table(result, currency), hide_index=True)


def frontier_table(result: sim.SizingResult, currency: str) -> pd.DataFrame:
    """The frontier in words: both numbers, the capacity cost with its currency, and the cheapest marked."""
    ra, rb = result.resources
    return pd.DataFrame([{charts.RESOURCE_LABELS[ra]: int(f[ra]), charts.RESOURCE_LABELS[rb]: int(f[rb]),
                          f"Capacity cost ({currency})": f"{f['capacity_cost']:,.0f}",
                          "Cheapest": "yes" if result.answer == {ra: int(f[ra]), rb: int(f[rb])} else ""}
                         for f in result.frontier])
