"""The five pages. Each lays out charts from :mod:`sim.charts` and numbers from the session's runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import sim
from dashboard import fields, running, state
from sim import __version__, charts, metrics
from sim.analysis import views
from sim.analysis.compare import paired_differences
from sim.analysis.stock import smallest_meeting, stock_param
from sim.charts import report
from sim.config import loader
from sim.config.errors import ScenarioError, ScenarioErrors, UsageError
from sim.config.params import iter_sourced
from sim.config.scenario import RESOURCES, Scenario

PAGES = ("Capacity", "Tocilizumab stock", "Compare strategies", "Drug library", "About the model")
CURRENT = "Current scenario (sidebar)"


# --------------------------------------------------------------------------- shared pieces

def card_value(kpi: str, value: float, currency: str) -> str:
    """The big number of a KPI card, with its unit."""
    info = charts.kpi_info(kpi, currency)
    text = charts.format_value(kpi, value, currency)
    if info.kind == "share" or text == "n/a":
        return text
    if info.kind == "money":
        return f"{currency} {text}"
    unit = info.unit.split(" (")[0]
    return f"{text} {unit}"


def kpi_cards(view: views.RunView, kpis: tuple[str, ...], per_row: int = 4) -> None:
    """One card per KPI: mean with unit, the 95% CI under it, the definition on hover."""
    summ = view.summary.set_index("kpi")
    shown = [k for k in kpis if k in summ.index]
    for start in range(0, len(shown), per_row):
        cols = st.columns(per_row)
        for col, kpi in zip(cols, shown[start:start + per_row]):
            r = summ.loc[kpi]
            info = charts.kpi_info(kpi, view.currency)
            ci = charts.format_ci(kpi, r["ci_low"], r["ci_high"], view.currency)
            col.metric(info.label, card_value(kpi, r["mean"], view.currency), delta=f"95% CI {ci}",
                       delta_color="off", delta_arrow="off", border=True,
                       help=f"{info.unit}. {info.help}".strip(". ") + f". Mean over {int(r['n'])} replications.")


def chart(c) -> None:
    """Show an Altair chart at the size it was built for."""
    st.altair_chart(c, width="content")


def run_header(view: views.RunView) -> None:
    """One line on what the results are: scenario, strategy, replications, seed, window, run time."""
    s = view.scenario
    st.caption(f"**{s.name}** · strategy *{s.strategy.name}* · {view.reps} replications · seed {view.seed} · "
               f"{s.run.horizon_weeks} weeks of statistics after {s.run.warmup_weeks} weeks of warm-up · "
               f"computed in {view.seconds:.1f} s at {view.finished}. Counts are totals over the "
               f"{s.run.horizon_weeks} weeks; every figure is a mean over replications with its 95% CI.")


def latest_view(scenario: Scenario | None) -> views.RunView | None:
    """The last run of this session, with a warning when the inputs have changed since."""
    key = st.session_state.get("last_run_key")
    view = state.recall("results", key)
    if view is None:
        return None
    if scenario is None or key != state.run_key(scenario, int(st.session_state.get("reps", state.DEFAULT_REPS))):
        st.warning(f"These results are for **{view.scenario.name}** as it was run at {view.finished} "
                   f"({view.reps} replications). The inputs have changed since: press **Run simulation** to update.")
    return view


def no_results(scenario: Scenario | None) -> None:
    """Before the first run: what to do, and the inputs that will be run."""
    st.info("No results yet: choose a preset or upload a scenario in the sidebar, adjust the inputs, and press "
            "**Run simulation**.")
    if scenario is not None:
        st.subheader(f"Scenario: {scenario.name}")
        st.write(scenario.description)
        st.dataframe(report.inputs_table(scenario), hide_index=True, width="stretch")
        st.markdown("**Monitoring rules** (tried in order)")
        st.dataframe(report.strategy_table(scenario), hide_index=True, width="stretch")


def exports(view: views.RunView, gantt: pd.DataFrame | None = None, key: str = "run") -> None:
    """CSV, TOML and HTML report downloads for one run, with date-stamped names."""
    s = view.scenario
    st.subheader("Export")
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button("KPIs per replication (CSV)", view.kpis.to_csv(index=False),
                       file_name=charts.stamped(f"{s.name}_kpis", "csv"), mime="text/csv", key=f"{key}_kpis_csv")
    c2.download_button("Summary with 95% CIs (CSV)", view.summary.to_csv(index=False),
                       file_name=charts.stamped(f"{s.name}_summary", "csv"), mime="text/csv", key=f"{key}_summary_csv")
    seeded = s if view.seed == s.run.seed else s.model_copy(
        update={"run": s.run.model_copy(update={"seed": view.seed})})
    c3.download_button("Scenario as run (TOML)", loader.to_toml(seeded), file_name=charts.stamped(s.name, "toml"),
                       mime="application/toml", key=f"{key}_toml")
    # built only when clicked: the report inlines ~1 MB of chart JavaScript
    c4.download_button("Report (HTML, works offline)", lambda: report.run_report(view, gantt),
                       file_name=charts.stamped(f"{s.name}_report", "html"), mime="text/html", key=f"{key}_html")
    mode = report.chart_mode()
    st.caption("The report holds the inputs, assumptions, charts, tables, version and seed in one file. "
               + ("Its charts are interactive and need no network." if mode == "vega" else
                  "Charts appear in it as data tables (install vl-convert-python for embedded charts)."))


# --------------------------------------------------------------------------- Capacity

def capacity_page(scenario: Scenario | None) -> None:
    """For administrators: service level, occupancy, peaks, toxicity-driven use, dosing calendar, sizing."""
    st.header("Capacity: beds, chairs and service level")
    view = latest_view(scenario)
    if view is None:
        no_results(scenario)
        return
    run_header(view)
    kpi_cards(view, charts.CAPACITY_KPIS)
    cap = views.capacity_of(view.scenario)
    st.subheader("When places are used")
    chart(charts.occupancy_heatmap(charts.hour_of_week_frame(view.hour_of_week, cap)))
    chart(charts.daily_peak_chart(charts.daily_peak_frame(view.daily_peak, cap)))
    if not view.peaks_exact:
        st.caption("Daily peaks from hourly means: short peaks are understated.")
    st.subheader("Toxicity and unplanned hospital use")
    c1, c2 = st.columns(2)
    use = charts.hospital_use_frame(view.kpis)
    with c1:
        if len(use):
            chart(charts.hospital_use_chart(use))
        if set(use["grade"]) == {"All grades"}:
            st.caption("The model does not yet record which toxicity grade caused each ED visit or admission, "
                       "so these are shown for all grades together.")
    with c2:
        if view.grades is not None:
            chart(charts.toxicity_grade_chart(charts.toxicity_grade_frame(view.grades)))
    cost = charts.cost_breakdown_frame(view.kpis)
    if len(cost):
        st.subheader("What it costs")
        chart(charts.cost_breakdown_chart(cost, view.currency))
        st.caption("Operating cost by resource; chair revenue forgone (chair_opportunity_cost) is not included.")
    st.subheader("Dosing calendar for a sample of patients")
    gantt = running.gantt_for(view)
    if len(gantt):
        chart(charts.dosing_gantt(gantt))
        st.caption("The first patients who start after warm-up in replication 0: planned monitoring stays by "
                   "place; admissions caused by toxicity are not drawn.")
    else:
        st.caption("No patient started after warm-up in replication 0.")
    if scenario is not None:
        sizing_panel(scenario)
    with st.expander("All KPIs with 95% CIs"):
        st.dataframe(charts.summary_table(view.summary, view.currency).drop(columns=["column"]),
                     hide_index=True, width="stretch")
    exports(view, gantt)


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
    chart(charts.capacity_curve_chart(curve, kpi, res, target, currency))
    shown_target = charts.format_value(kpi, target, currency)
    if not result.found:
        st.error(f"No capacity in the range meets {info.label} ≤ {shown_target} with 95% confidence: "
                 "try larger capacities or more replications.")
    else:
        st.success(f"Smallest {charts.RESOURCE_LABELS[res].lower()} meeting {info.label.lower()} ≤ "
                   f"{shown_target} with 95% confidence: **{result.answer[res]}** "
                   f"(current: {getattr(scenario.capacity, res)}).")
    st.dataframe(curve.assign(**{c: [charts.format_value(kpi, v, currency) for v in curve[c]]
                                 for c in ("mean", "ci_low", "ci_high")}), hide_index=True)


# --------------------------------------------------------------------------- Tocilizumab

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
    exports(view, None, key="toci")


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


# --------------------------------------------------------------------------- Compare

def _resolve(option: str, current: Scenario | None) -> tuple[Scenario | None, str]:
    if option == CURRENT:
        return current, "" if current is not None else "the sidebar scenario has problems to fix"
    try:
        return sim.load(option), ""
    except (ScenarioError, ScenarioErrors) as exc:
        return None, str(exc)


def _default_other(current_label: str, options: list[str]) -> int:
    name = current_label.removeprefix("preset ")
    for a, b in (("_outpatient", "_inpatient"), ("_inpatient", "_outpatient")):
        if a in name and name.replace(a, b) in options:
            return options.index(name.replace(a, b))
    return 1 if len(options) > 1 else 0


def compare_page(scenario: Scenario | None) -> None:
    """For quality teams: two strategies on the same patients, paired differences with 95% CIs."""
    st.header("Compare strategies: safety, bed use and cost")
    st.caption("Both strategies are run on the same seed and replications: replication r of each sees the same "
               "referrals, patients and toxicity draws (common random numbers), so the difference is measured on "
               "the same patients and its confidence interval is narrow.")
    chosen_inputs = _compare_inputs(scenario)
    if chosen_inputs is None:
        return
    sa, sb, reps, chosen = chosen_inputs
    key = state.run_key(sa, reps, "vs", state.scenario_hash(sb))
    pair = state.recall("comparisons", key)
    if st.button("Run comparison", type="primary", key="cmp_run"):
        pair = tuple(running.compare_views({"A": sa, "B": sb}, reps, "Comparing strategies A and B"))
        state.remember("comparisons", key, pair)
    if pair is None:
        st.info("Choose two strategies and press **Run comparison**.")
        return
    _compare_results(*pair, chosen, reps)


def _compare_inputs(scenario: Scenario | None) -> tuple[Scenario, Scenario, int, list[str]] | None:
    """Strategies A and B (B on A's seed), replications and measures; None while one cannot be loaded."""
    options = [CURRENT] + state.presets()
    c1, c2, c3 = st.columns([2, 2, 1])
    a_opt = c1.selectbox("Strategy A (reference)", options, index=0, key="cmp_a")
    b_opt = c2.selectbox("Strategy B", options, index=_default_other(st.session_state["base_label"], options),
                         key="cmp_b")
    reps = int(c3.number_input("Replications", 5, 2000, 50, step=10, key="cmp_reps"))
    all_kpis = [k for k in metrics.KPI_COLUMNS if k != "replication"]   # what a run reports
    chosen = st.multiselect("Measures", all_kpis, default=[k for k in charts.COMPARE_KPIS if k in all_kpis],
                            format_func=lambda k: charts.kpi_info(k).label, key="cmp_kpis")
    sa, err_a = _resolve(a_opt, scenario)
    sb, err_b = _resolve(b_opt, scenario)
    for opt, err in ((a_opt, err_a), (b_opt, err_b)):
        if err:
            st.error(f"{opt}: {err}")
    if sa is None or sb is None:
        return None
    seed = sa.run.seed
    sb = sb if sb.run.seed == seed else sb.model_copy(update={"run": sb.run.model_copy(update={"seed": seed})})
    if sa.run != sb.run or sa.demand != sb.demand:
        st.warning("A and B differ in run length or demand, so their replications do not see the same referrals; "
                   "the differences are still paired by replication, but less precisely.")
    return sa, sb, reps, chosen


def labelled(diffs: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Paired differences with each KPI's ``label`` and ``unit`` (what the forest plot and report show)."""
    infos = [charts.kpi_info(k, currency) for k in diffs["kpi"]]
    out = diffs.copy()
    out.insert(1, "label", [i.label for i in infos])
    out.insert(2, "unit", [i.unit for i in infos])
    return out


def _compare_results(va: views.RunView, vb: views.RunView, chosen: list[str], reps: int) -> None:
    """The forest plot, the table and the downloads of B minus A."""
    diffs = labelled(paired_differences(va.kpis, vb.kpis, chosen), va.currency)
    if diffs.empty:
        st.info("Choose at least one measure.")
        return
    st.subheader(f"B ({vb.scenario.name}) minus A ({va.scenario.name})")
    st.caption(f"{reps} paired replications, seed {va.seed}. Red: the 95% CI excludes 0 (a difference the "
               "simulation can tell apart from noise); grey: it includes 0.")
    chart(charts.forest_plot(diffs, "A", "B"))
    table = pd.DataFrame({
        "Measure": diffs["label"], "Unit": diffs["unit"],
        f"A: {va.scenario.name}": [charts.format_value(k, v, va.currency) for k, v in zip(diffs["kpi"], diffs["base_mean"])],
        f"B: {vb.scenario.name}": [charts.format_value(k, v, va.currency) for k, v in zip(diffs["kpi"], diffs["other_mean"])],
        "B - A": [f"{v:,.4g}" for v in diffs["diff_mean"]],
        "95% CI of B - A": [f"{lo:,.4g} to {hi:,.4g}" for lo, hi in zip(diffs["diff_ci_low"], diffs["diff_ci_high"])],
        "CI excludes 0": ["yes" if x else "no" for x in diffs["excludes_zero"]],
    })
    st.dataframe(table, hide_index=True, width="stretch")
    st.subheader("Export")
    e1, e2 = st.columns(2)
    e1.download_button("Comparison (CSV)", diffs.to_csv(index=False),
                       file_name=charts.stamped(f"{va.scenario.name}_vs_{vb.scenario.name}", "csv"), mime="text/csv",
                       key="cmp_csv")
    e2.download_button("Comparison report (HTML, works offline)", lambda: report.comparison_report(va, vb, diffs),
                       file_name=charts.stamped(f"{va.scenario.name}_vs_{vb.scenario.name}_report", "html"),
                       mime="text/html", key="cmp_html")


# --------------------------------------------------------------------------- Drug library

def _flag(verified: bool) -> str:
    return "verified" if verified else "⚠ unverified"


def _highlight(frame: pd.DataFrame):
    return frame.style.apply(lambda row: ["background-color: #fff4d6" if str(row.get("status", "")).startswith("⚠")
                                          else "" for _ in row], axis=1)


def drug_page(scenario: Scenario | None) -> None:
    """The drug's data with sources, unverified values flagged, and every drug file in the library."""
    st.header("Drug library: the data and its sources")
    s = scenario or st.session_state["base"]
    d = s.drug
    src = list(iter_sourced(s))
    n_unv = sum(1 for _, v in src if not v.verified)
    st.subheader(f"{d.name} ({d.brand}) in the current scenario")
    st.markdown(f"{d.indication} · route {d.route} · toxicity profile **{d.profile}**: {d.profile_description}")
    if n_unv:
        st.warning(f"{n_unv} of the scenario's {len(src)} sourced values are **not verified** against their source "
                   "(recalled, derived, assumed, or changed by you). They are marked ⚠ below and in the sidebar.")
    st.markdown(f"**Step-up schedule** ({d.step_up_doses} step-up doses; median time on therapy "
                f"{d.time_on_therapy_median_days.value:g} days)")
    st.dataframe(_highlight(_schedule_table(d)), hide_index=True, width="stretch")
    st.markdown("**Toxicity**")
    st.dataframe(_highlight(_toxicity_table(d)), hide_index=True, width="stretch")
    st.markdown("**Management by grade**")
    st.dataframe(_highlight(_management_table(d)), hide_index=True, width="stretch")
    st.subheader("Every sourced number in the scenario")
    only = st.checkbox("Show only unverified values", key="only_unverified")
    table = report.sourced_table(s).assign(status=lambda f: f["unverified"].map({True: "⚠ unverified",
                                                                                  False: "verified"}))
    table = table.drop(columns=["unverified"])
    if only:
        table = table[table["status"].str.startswith("⚠")]
    st.dataframe(_highlight(table), hide_index=True, width="stretch")
    _drug_files()


def _schedule_table(d) -> pd.DataFrame:
    return pd.DataFrame([{"block": b.label, "doses": "until time on therapy ends" if b.count == 0 else str(b.count),
                          "days after previous dose": str(b.gap_days) if b.gap_max_days in (None, b.gap_days)
                          else f"{b.gap_days}-{b.gap_max_days}",
                          "monitoring (h)": f"{b.monitor_hours.value:g}", "hydration": "yes" if b.hydration else "no",
                          "source": b.source, "status": _flag(b.verified and b.monitor_hours.verified)}
                         for b in d.schedule])


def _toxicity_table(d) -> pd.DataFrame:
    return pd.DataFrame([
        {"toxicity": kind, "rate": f"{100 * t.rate.value:.1f}%",
         "after dose 1, 2, ...": "" if t.by_dose is None else ", ".join(f"{x:.0%}" for x in t.by_dose.value),
         "grade 1-4 mix": ", ".join(f"{x:.1%}" for x in t.grade_mix.value),
         "onset median (h)": f"{t.onset_median_hours.value:g}",
         "duration median (h)": f"{t.duration_median_hours.value:g}",
         "source of rate": t.rate.source, "status": _flag(t.rate.verified and t.grade_mix.verified)}
        for kind, t in (("CRS", d.crs), ("ICANS", d.icans))])


def _management_table(d) -> pd.DataFrame:
    return pd.DataFrame([
        {"toxicity": kind, "grade": r.grade, "setting": r.setting, "min stay (h)": f"{r.min_stay_hours.value:g}",
         "P(tocilizumab)": f"{r.tocilizumab_probability.value:.0%}",
         "next dose monitored (h)": f"{r.next_dose_monitor_hours.value:g}", "withhold": "yes" if r.withhold else "no",
         "discontinue": "yes" if r.discontinue else ("if recurrent" if r.discontinue_if_recurrent else "no"),
         "source": r.source, "status": _flag(r.verified and r.tocilizumab_probability.verified)}
        for kind, rules in (("CRS", d.management.crs), ("ICANS", d.management.icans)) for r in rules])


def _drug_files() -> None:
    """Every drug file in the library, and the sourced values inside one of them."""
    st.subheader("All drug files")
    lib = drug_library()
    st.dataframe(lib, hide_index=True, width="stretch")
    st.caption("Drug files live in scenarios/drugs/; a scenario picks one with [drug] file = ... and a toxicity "
               "profile. Presets for each drug are in the sidebar.")
    if not len(lib):
        return
    pick = st.selectbox("Look inside a drug file", list(lib["file"]), key="drug_file")
    try:
        raw = loader.read_toml(loader.SCENARIO_DIR / "drugs" / pick)
    except ScenarioError as exc:
        st.error(str(exc))
        return
    rows = [{"field": p, "value": ", ".join(f"{x:g}" for x in v) if isinstance(v, list) else f"{v:g}",
             "source": src, "status": _flag(ok)} for p, v, src, ok in fields.sourced_in_raw(raw)]
    st.dataframe(_highlight(pd.DataFrame(rows, columns=["field", "value", "source", "status"])),
                 hide_index=True, width="stretch")


def drug_library() -> pd.DataFrame:
    """One row per drug file: name, brand, indication, route, profiles, sourced values and how many are unverified."""
    rows = []
    for path in sorted((loader.SCENARIO_DIR / "drugs").glob("*.toml")):
        try:
            data = loader.read_toml(path)
        except ScenarioError as exc:
            rows.append({"file": path.name, "drug": "", "brand": "", "indication": f"cannot be read: {exc}"})
            continue
        items = list(fields.sourced_in_raw(data))
        rows.append({"file": path.name, "drug": data.get("name", ""), "brand": data.get("brand", ""),
                     "sourced values": len(items), "unverified": sum(1 for *_, ok in items if not ok),
                     "toxicity profiles": ", ".join(sorted(data.get("toxicity", {}) or {})),
                     "route": data.get("route", ""), "indication": data.get("indication", "")})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- About

def about_page(scenario: Scenario | None) -> None:
    """Assumptions, limitations, version and how to cite."""
    st.header("About the model")
    st.markdown(
        f"**btce-sim {__version__}** is a discrete-event simulation (Python, SimPy) of the operations behind "
        "step-up dosing of bispecific T-cell engagers: patients are referred, booked, dosed on the drug's step-up "
        "schedule, monitored where the strategy says (ward bed, 22-24 h observation bed, infusion chair, or home), "
        "and drawn with cytokine release syndrome (CRS) and neurotoxicity (ICANS) from published rates; an onset "
        "at home is managed at home, in an oncology urgent-care bay, in the ED or by direct admission, as the "
        "strategy says for its toxicity and grade, and a toxicity admission lasts until the grade allows "
        "discharge. Each "
        "replication is one simulated period of the same centre with new random patients; results are means "
        "over replications with 95% confidence intervals.")
    st.markdown("| who | question | page |\n|---|---|---|\n"
                "| administrator | how many observation beds, chairs, ward and ICU beds, and what service level? | Capacity |\n"
                "| pharmacy planner | how much tocilizumab to hold so that no patient waits? | Tocilizumab stock |\n"
                "| quality team | is outpatient (or prophylactic tocilizumab) as safe, and cheaper? | Compare strategies |")
    st.subheader("Assumptions")
    st.markdown("\n".join(f"- {a}" for a in report.ASSUMPTIONS))
    st.subheader("Limitations")
    st.markdown("\n".join(f"- {a}" for a in report.LIMITATIONS))
    st.subheader("Version and how to cite")
    s = scenario or st.session_state["base"]
    view = state.recall("results", st.session_state.get("last_run_key"))
    cite = report.citation(view.scenario, view.seed, view.reps) if view else report.citation(s)
    st.code(cite, language=None, wrap_lines=True)
    st.markdown("To reproduce a result: download the scenario as TOML (sidebar, or *Export* under the results) "
                "and run `python -m sim run FILE --reps N --seed S`; the same seed gives the same numbers, "
                "serial or parallel.")
    st.caption(f"Package version {__version__}. All data shown here stay in this browser session: nothing is "
               "written to the server's disk, and other users of the dashboard do not see your inputs or results.")
