"""Compare strategies page (quality teams): two scenarios on the same seeds, paired differences with CIs."""

from __future__ import annotations

import streamlit as st

import sim
from dashboard import running, state
from dashboard.pages.common import CURRENT, chart
from sim import charts, metrics
from sim.analysis import views
from sim.analysis.compare import paired_differences
from sim.charts import report
from sim.config.errors import ScenarioError, ScenarioErrors
from sim.config.scenario import Scenario


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


def _compare_results(va: views.RunView, vb: views.RunView, chosen: list[str], reps: int) -> None:
    """The forest plot, the table and the downloads of B minus A."""
    diffs = paired_differences(va.kpis, vb.kpis, chosen)
    if diffs.empty:
        st.info("Choose at least one measure.")
        return
    currency = va.currency
    col_a, col_b = f"A: {va.scenario.name}", f"B: {vb.scenario.name}"
    st.subheader(f"B ({vb.scenario.name}) minus A ({va.scenario.name})")
    st.caption(f"{reps} paired replications, seed {va.seed}. Blue: the 95% CI excludes 0 (a difference the "
               "simulation can tell apart from noise); grey: it includes 0. Differences of shares are in "
               "percentage points (pp): 20% against 30% is -10 pp.")
    chart(charts.forest_plot(diffs, "A", "B", currency), f"{va.scenario.name}_vs_{vb.scenario.name}")
    st.dataframe(charts.comparison_table(diffs, col_a, col_b, currency), hide_index=True, width="stretch")
    st.subheader("Export")
    e1, e2 = st.columns(2)
    e1.download_button("Comparison (CSV)", charts.comparison_csv(diffs, col_a, col_b, currency),
                       file_name=charts.stamped(f"{va.scenario.name}_vs_{vb.scenario.name}", "csv"), mime="text/csv",
                       key="cmp_csv")
    e2.download_button("Comparison report (HTML, works offline)", lambda: report.comparison_report(va, vb, diffs),
                       file_name=charts.stamped(f"{va.scenario.name}_vs_{vb.scenario.name}_report", "html"),
                       mime="text/html", key="cmp_html")
