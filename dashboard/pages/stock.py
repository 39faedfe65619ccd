"""Tocilizumab stock page (pharmacy): stock over time, weekly use, and the stock-out curve over stock levels."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import sim
from dashboard import fields, running, state
from dashboard.pages.common import (
    chart,
    exports,
    kpi_cards,
    latest_view,
    no_results,
    run_header,
)
from sim import charts
from sim.analysis import views
from sim.analysis.stock import smallest_meeting, stock_param
from sim.config.errors import ScenarioError, ScenarioErrors
from sim.config.scenario import Scenario


def toci_page(scenario: Scenario | None) -> None:
    """For pharmacy planners: tocilizumab use, stock over time, stock-outs, and the stock-level curve."""
    st.header("Tocilizumab stock: how much to hold")
    view = latest_view(scenario)
    if view is None:
        no_results(scenario)
        return
    run_header(view)
    s = view.scenario
    if getattr(s, "pharmacy", None) is None:
        st.info("This scenario has no [pharmacy] section, so stock is unlimited: only the tocilizumab used is "
                "shown. Add a [pharmacy] section (see scenarios/base.toml) to simulate stock and stock-outs.")
    else:
        ph = s.pharmacy
        rule = (f"order up to {ph.order_up_to:,.0f} mg every {ph.review_days} days" if ph.policy == "periodic" else
                f"order {ph.order_quantity:,.0f} mg when stock falls to {ph.reorder_point:,.0f} mg")
        st.caption(f"Stock policy: {rule}; lead time {ph.lead_time_days_min.value:g}-{ph.lead_time_days_max.value:g} "
                   f"days; {ph.background_doses_per_week.value:g} "
                   f"dose{'' if ph.background_doses_per_week.value == 1 else 's'} a week used by other services.")
    kpi_cards(view, charts.TOCI_KPIS)
    if view.on_hand is not None:
        chart(charts.stock_over_time_chart(charts.stock_over_time_frame(view.on_hand, view.stockouts),
                                           views.policy_level(s)))
    if view.toci_week is not None:
        chart(charts.toci_weekly_chart(charts.toci_weekly_frame(view.toci_week)))
    if scenario is not None and getattr(scenario, "pharmacy", None) is not None:
        stock_panel(scenario)
    exports(view, key="toci")


def stock_panel(scenario: Scenario) -> None:
    """P(stock-out) against the stock level, each level run on the same seed (:func:`sim.stock_curve`)."""
    param = stock_param(scenario)
    name = param.removeprefix("pharmacy.")
    current = float(getattr(scenario.pharmacy, name))
    with st.expander("Stock-out probability against the stock level", expanded=True):
        st.caption(f"Runs the current scenario with `{param}` at each level on the same seed (same "
                   "patients and the same toxicity), and picks the smallest level whose upper 95% bound on the "
                   "chance of a stock-out meets the target.")
        default = ", ".join(f"{max(0.0, round(current * f / 100) * 100):g}" for f in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0))
        c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
        text = c1.text_input(f"Levels of {name.replace('_', ' ')} to try (mg)", value=default, key="stock_levels")
        target = c2.number_input("Target P(stock-out), %", 0.0, 100.0, 5.0, step=1.0, key="stock_target") / 100
        reps = int(c3.number_input("Replications per level", 5, 500, 30, step=5, key="stock_reps"))
        try:
            levels = sorted(set(fields.parse_list(text, "float_list")))[:10]
        except ValueError as exc:
            st.error(str(exc))
            return
        key = state.run_key(scenario, reps, "stock", param, tuple(levels))
        curve = state.recall("stock_curves", key)
        if c4.button("Run levels", key="stock_run", width="stretch", disabled=not levels):
            todo = _valid_levels(scenario, param, levels)
            if todo:
                curve = running.stock_curve(scenario, todo, param, reps, "Stock levels")
                state.remember("stock_curves", key, curve)
        if curve is not None:
            _stock_answer(curve, param, target, current)


def _valid_levels(scenario: Scenario, param: str, levels: list[float]) -> list[float]:
    """The levels the scenario can take; the others are skipped with a warning saying why."""
    ok = []
    for lvl in levels:
        try:
            sim.vary(scenario, {param: lvl})
        except (ScenarioError, ScenarioErrors) as exc:
            st.warning(f"{lvl:g} mg skipped: {exc}")
        else:
            ok.append(lvl)
    return ok


def _stock_answer(curve: pd.DataFrame, param: str, target: float, current: float) -> None:
    """The stock-out curve chart, the smallest level meeting the target, and the table."""
    name = param.removeprefix("pharmacy.").replace("_", " ")
    shown = curve.rename(columns={param: "stock_mg", "p_stockout_ci_low": "ci_low", "p_stockout_ci_high": "ci_high",
                                  "replications": "n"})
    shown = shown[["stock_mg", "p_stockout", "ci_low", "ci_high", "n", *charts.STOCK_CURVE_KPIS]]
    chart(charts.stock_curve_chart(shown, target, f"{name.capitalize()} (mg)"))
    best = smallest_meeting(curve, param, target)
    if best is None:
        st.error(f"No level tried keeps P(stock-out) ≤ {100 * target:g}% with 95% confidence.")
    else:
        st.success(f"Smallest {name} with P(stock-out) ≤ {100 * target:g}% (upper 95% bound): "
                   f"**{best:,.0f} mg** (current: {current:,.0f} mg).")
    st.dataframe(shown, hide_index=True)
