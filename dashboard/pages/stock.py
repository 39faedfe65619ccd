"""Tocilizumab stock page (pharmacy): stock over time, weekly use, and the stock-out curve over stock levels."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import sim
from dashboard import fields, running, state
from dashboard.pages.common import chart, exports, kpi_cards, page_view
from sim import charts
from sim.analysis import views
from sim.analysis.stats import wilson
from sim.analysis.stock import smallest_meeting, stock_param
from sim.config.errors import ScenarioError, ScenarioErrors
from sim.config.scenario import Scenario
from sim.config.units import WEEKS_PER_YEAR


def toci_page(scenario: Scenario | None) -> None:
    """For pharmacy planners: tocilizumab use, stock over time, stock-outs, and the stock-level curve.

    The stock-level panel works on the sidebar's scenario, with or without a main run.
    """
    st.header("Tocilizumab stock: how much to hold")
    view = page_view(scenario)
    if view is not None:
        _results(view)
    if scenario is not None and getattr(scenario, "pharmacy", None) is not None:
        stock_panel(scenario)
    if view is not None:
        exports(view, key="toci")


def _results(view: views.RunView) -> None:
    """The main run's policy line, cards, what they mean, and the stock and use charts."""
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
    summ = view.summary.set_index("kpi")["mean"]
    if {"p_stockout", "toci_doses_delayed"} <= set(summ.index):
        st.info(stockout_vs_delayed(summ["p_stockout"], summ["toci_doses_delayed"], s.run.horizon_weeks))
    if view.on_hand is not None:
        chart(charts.stock_over_time_chart(charts.stock_over_time_frame(view.on_hand, view.stockouts),
                                           views.policy_level(s)), s.name)
    if view.toci_week is not None:
        chart(charts.toci_weekly_chart(charts.toci_weekly_frame(view.toci_week)), s.name)


def stockout_vs_delayed(p_stockout: float, doses_delayed: float, weeks: int) -> str:
    """One plain sentence on why a high chance of a stock-out can sit beside few delayed doses."""
    per_year = doses_delayed * WEEKS_PER_YEAR / weeks if weeks else float("nan")
    return (f"**{charts.format_value('p_stockout', p_stockout)} chance of a stock-out** is the share of simulated "
            f"years with at least one moment when a request found too little on the shelf, however brief or "
            f"for whichever service; **{per_year:,.1f} patient doses delayed a year** is how many doses for these "
            "patients actually had to wait for stock, on average: so a stock-out in most years can still delay "
            "only a few doses.")


DEFAULT_TARGET_PERCENT = 5.0   # the pharmacy planner's usual question: P(stock-out) below 5%


# Session-state keys of the stock panel: whether it is open, and the inputs of the curve last shown.
STOCK_OPEN, STOCK_SHOWN = "stock_open", "stock_shown"


def stock_panel(scenario: Scenario) -> None:
    """P(stock-out) against the stock level, each level run on the same seed (:func:`sim.stock_curve`).

    As the sizing panel: its open state and its last curve live in the session (issue 16, bug 2).
    """
    param = stock_param(scenario)
    name = param.removeprefix("pharmacy.")
    current = float(getattr(scenario.pharmacy, name))
    with st.expander("Stock-out probability against the stock level", expanded=True, key=STOCK_OPEN,
                     on_change="rerun"):
        st.caption(f"Runs the current scenario (the sidebar's inputs; no main run needed) with `{param}` at each "
                   "level on the same seed (same patients and the same toxicity), and picks the smallest level "
                   "whose upper 95% bound on the chance of a stock-out meets the target.")
        default = ", ".join(f"{max(0.0, round(current * f / 100) * 100):g}" for f in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0))
        c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
        text = c1.text_input(f"{name.replace('_', ' ').capitalize()}: levels to try (mg)", value=default,
                             key="stock_levels")
        target = c2.number_input("Target P(stock-out), %", 0.1, 100.0, DEFAULT_TARGET_PERCENT, step=1.0,
                                 key="stock_target") / 100
        reps = int(c3.number_input("Replications per level", 5, 2000, _round_up(replications_needed(
            DEFAULT_TARGET_PERCENT / 100), 5), step=5, key="stock_reps"))
        _warn_if_too_few(reps, target)
        try:
            levels = sorted(set(fields.parse_list(text, "float_list")))[:10]
        except ValueError as exc:
            st.error(str(exc))
            return
        key = state.run_key(scenario, reps, "stock", param, tuple(levels))
        clicked = c4.button("Run levels", key="stock_run", width="stretch", disabled=not levels)
        slot = st.container()   # the progress bar's place, drawn always so the answer below never moves
        if clicked:
            todo = _valid_levels(scenario, param, levels)
            if todo:
                with slot:
                    curve = running.stock_curve(scenario, todo, param, reps, "Stock levels")
                state.remember("stock_curves", key, curve)
                st.session_state[STOCK_SHOWN] = key
        curve = state.recall("stock_curves", key)
        if curve is None and state.recall("stock_curves", st.session_state.get(STOCK_SHOWN)) is not None:
            curve = state.recall("stock_curves", st.session_state[STOCK_SHOWN])
            st.caption("The curve below is for the inputs as they were when it ran; press **Run levels** to run "
                       "the levels above.")
        if curve is not None:
            _stock_answer(curve, param, target, current, scenario)


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


def replications_needed(target: float, level: float = 0.95) -> int:
    """The fewest replications for which even no stock-out in any of them gives an upper Wilson bound
    at or below ``target`` (0-1): with fewer, no stock level can be shown to meet the target.

    With no stock-outs in n replications the upper bound is z² / (n + z²), so n ≥ z² (1 - target) / target
    (about 73 for 5% at 95%); found here with :func:`sim.analysis.stats.wilson` itself, so it agrees
    with the bound the answer is judged on.
    """
    if not 0 < target < 1:
        raise ValueError(f"target = {target!r}; allowed: a share between 0 and 1, exclusive")
    low, high = 1, 2
    while wilson(0, high, level)[1] > target:
        low, high = high, 2 * high
    while low < high:   # the bound falls as n grows: bisect for the first n that meets the target
        mid = (low + high) // 2
        low, high = (mid + 1, high) if wilson(0, mid, level)[1] > target else (low, mid)
    return low


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


def _warn_if_too_few(reps: int, target: float) -> None:
    """Say, before anything runs, when no level could meet the target with these replications."""
    if target < 1 and reps < replications_needed(target):
        st.warning(_too_few(reps, target))


def _too_few(reps: int, target: float) -> str:
    upper = wilson(0, reps)[1]
    return (f"With {reps} replications per level, even a level with no stock-out in any replication has an upper "
            f"95% bound of {charts.format_value('p_stockout', upper)}, above the "
            f"{charts.format_value('p_stockout', target)} target, so no level can meet it: add replications "
            f"(at least **{replications_needed(target)}** per level for this target).")


def _stock_answer(curve: pd.DataFrame, param: str, target: float, current: float, scenario: Scenario) -> None:
    """The stock-out curve chart, the smallest level meeting the target (with a warning when it is the
    highest level tried), what the two stock-out figures mean, and the table."""
    currency = scenario.costs.currency
    name = param.removeprefix("pharmacy.").replace("_", " ")
    label = f"{name.capitalize()} (mg)"
    shown = curve.rename(columns={param: "stock_mg", "p_stockout_ci_low": "ci_low", "p_stockout_ci_high": "ci_high",
                                  "replications": "n"})
    shown = shown[["stock_mg", "p_stockout", "ci_low", "ci_high", "n", *charts.STOCK_CURVE_KPIS]]
    chart(charts.stock_curve_chart(shown, target, label, currency), f"{name}_levels")
    best = smallest_meeting(curve, param, target)
    shown_target = charts.format_value("p_stockout", target)
    tried = sorted(float(v) for v in curve[param])
    if best is None:
        reps = int(curve["replications"].min())
        why = (_too_few(reps, target) if target < 1 and reps < replications_needed(target) else
               f"Widen the range: add levels above {tried[-1]:,.0f} mg.")
        st.error(f"No level tried keeps P(stock-out) ≤ {shown_target} with 95% confidence (upper bound). {why}")
    else:
        st.success(f"Smallest {name} with P(stock-out) ≤ {shown_target} (upper 95% bound): "
                   f"**{best:,.0f} mg** (current: {current:,.0f} mg).")
        if best >= tried[-1] and len(tried) > 1:
            st.warning(f"{best:,.0f} mg is the highest level tried, so the answer may lie anywhere between "
                       f"{tried[-2]:,.0f} and {best:,.0f} mg: widen the range of levels (add some between them).")
        row = curve[curve[param] == best].iloc[0]
        st.caption(stockout_vs_delayed(row["p_stockout"], row["toci_doses_delayed"], scenario.run.horizon_weeks))
    st.dataframe(charts.stock_table(curve, param, target, currency, label), hide_index=True, width="stretch")
