"""Compare strategies page (quality teams): two to six scenarios on the same seeds, each strategy's paired
difference from a base with its 95% CI, and whether it is distinguishable and whether it matters."""

from __future__ import annotations

import streamlit as st

import sim
from dashboard import running, state
from dashboard.pages.common import CURRENT, chart
from sim import charts, metrics
from sim.analysis import views
from sim.analysis.compare import compare, judge, unique_names
from sim.charts import report
from sim.charts.compare import MATTERS_NOTE
from sim.config import matters
from sim.config.errors import ScenarioError, ScenarioErrors
from sim.config.matters import Threshold
from sim.config.scenario import Scenario

MAX_OTHERS = 5   # a base and up to five others: six strategies, one colour each in the forest plot


def _resolve(option: str, current: Scenario | None) -> tuple[Scenario | None, str]:
    if option == CURRENT:
        return current, "" if current is not None else "the sidebar scenario has problems to fix"
    try:
        return sim.load(option), ""
    except (ScenarioError, ScenarioErrors) as exc:
        return None, str(exc)


def _default_other(current_label: str, options: list[str]) -> str:
    """The sidebar preset's inpatient/outpatient counterpart when there is one, else the first option."""
    name = current_label.removeprefix("preset ")
    for a, b in (("_outpatient", "_inpatient"), ("_inpatient", "_outpatient")):
        if a in name and name.replace(a, b) in options:
            return name.replace(a, b)
    return options[0]


def compare_page(scenario: Scenario | None) -> None:
    """For quality teams: up to six strategies on the same patients, differences from a base with 95% CIs."""
    st.header("Compare strategies: safety, bed use and cost")
    st.caption("Every strategy is run on the same seed and replications: replication r of each sees the same "
               "referrals, patients and toxicity draws (common random numbers), so each difference from the base "
               "is measured on the same patients and its confidence interval is narrow.")
    chosen_inputs = _compare_inputs(scenario)
    if chosen_inputs is None:
        return
    scenarios, reps, chosen = chosen_inputs
    base, *others = scenarios.values()
    thresholds = _thresholds(chosen, base.costs.currency)
    key = state.run_key(base, reps, "vs", *map(state.scenario_hash, others))
    runs = state.recall("comparisons", key)
    if st.button("Run comparison", type="primary", key="cmp_run"):
        done = running.compare_views(scenarios, reps, f"Comparing {len(scenarios)} strategies")
        runs = dict(zip(scenarios, done))
        state.remember("comparisons", key, runs)
    if runs is None:
        st.info("Choose a base and the strategies to compare with it, and press **Run comparison**.")
        return
    _compare_results(runs, chosen, thresholds)


def _strategy_options() -> tuple[str, list[str]]:
    """The base and the others the user picked (options: the sidebar scenario and the presets)."""
    options = [CURRENT] + state.presets()
    c1, c2 = st.columns([1, 2])
    base_opt = c1.selectbox("Base strategy (the others are measured against it)", options, index=0, key="cmp_base")
    rest = [o for o in options if o != base_opt]
    ss = st.session_state
    if "cmp_others" in ss:   # the new base cannot also be one of the others
        ss["cmp_others"] = [o for o in ss["cmp_others"] if o in rest]
    default = None if "cmp_others" in ss else [_default_other(ss["base_label"], rest)]
    others = c2.multiselect("Strategies to compare with the base (one to five)", rest, max_selections=MAX_OTHERS,
                            default=default, key="cmp_others")
    return base_opt, others


def _compare_inputs(scenario: Scenario | None) -> tuple[dict[str, Scenario], int, list[str]] | None:
    """The strategies by name (the base first, every one on its seed), replications and measures; None
    while fewer than two can be loaded."""
    base_opt, other_opts = _strategy_options()
    c1, c2 = st.columns([1, 4])
    reps = int(c1.number_input("Replications", 2, 2000, 50, step=10, key="cmp_reps"))
    all_kpis = [k for k in metrics.KPI_COLUMNS if k != "replication"]   # what a run reports
    chosen = c2.multiselect("Measures", all_kpis, default=[k for k in charts.COMPARE_KPIS if k in all_kpis],
                            format_func=lambda k: charts.kpi_info(k).label, key="cmp_kpis")
    if not other_opts:
        st.info("Choose one or more strategies to compare with the base.")
        return None
    resolved = [(opt, *_resolve(opt, scenario)) for opt in [base_opt, *other_opts]]
    for opt, _, err in resolved:
        if err:
            st.error(f"{opt}: {err}")
    if any(s is None for _, s, _ in resolved):
        return None
    picked = [s for _, s, _ in resolved]
    seed = picked[0].run.seed
    picked = [s if s.run.seed == seed else s.model_copy(update={"run": s.run.model_copy(update={"seed": seed})})
              for s in picked]
    differ = [s.name for s in picked[1:] if s.run != picked[0].run or s.demand != picked[0].demand]
    if differ:
        st.warning(f"{', '.join(differ)} differ(s) from the base in run length or demand, so their replications "
                   "do not see the same referrals; the differences are still paired by replication, but less "
                   "precisely.")
    return dict(zip(unique_names([s.name for s in picked]), picked)), reps, chosen


def _thresholds(chosen: list[str], currency: str) -> dict[str, Threshold]:
    """The minimum difference that matters per measure, set by the user (defaults: sim/config/matters.toml)."""
    out = {}
    with st.expander("Minimum difference that matters, per measure"):
        st.caption(f"A difference matters when its whole 95% CI lies beyond this. Defaults: "
                   f"{matters.source()}; change them to your service's own.")
        cols = st.columns(3)
        for i, kpi in enumerate(chosen):
            default = matters.threshold(kpi)
            value = cols[i % 3].number_input(
                f"{charts.kpi_info(kpi, currency).label} ({default.unit(kpi, currency)})", min_value=0.0,
                value=default.value, step=max(default.value / 5, 0.1), format="%g", key=f"cmp_matters:{kpi}")
            out[kpi] = Threshold(float(value), default.rule)
    return out


def _compare_results(runs: dict[str, views.RunView], chosen: list[str], thresholds: dict[str, Threshold]) -> None:
    """The forest plot, the table and the downloads: every strategy minus the base."""
    if not chosen:
        st.info("Choose at least one measure.")
        return
    base, ref = next(iter(runs.items()))
    judged = judge(compare({n: v.kpis for n, v in runs.items()}, base=base, kpis=chosen), base, thresholds)
    n_matter = int((judged["matters"] == "matters").sum())
    st.subheader(f"{len(runs) - 1} strateg{'y' if len(runs) == 2 else 'ies'} against the base, {base}")
    st.caption(f"{ref.reps} paired replications, seed {ref.seed}. Differences of shares are in percentage points "
               f"(pp): 20% against 30% is -10 pp. {MATTERS_NOTE} Here {int(judged['distinguishable'].sum())} of "
               f"{len(judged)} differences are distinguishable and {n_matter} matter.")
    stem = f"{base}_vs_{len(runs) - 1}_strategies"
    chart(charts.forest_plot(judged, base, ref.currency), stem)
    # a static table: its long cells wrap in the column, where a data grid would hide columns to the right
    st.table(charts.comparison_table(judged, base, ref.currency), hide_index=True, border="horizontal")
    st.subheader("Export")
    e1, e2 = st.columns(2)
    e1.download_button("Comparison (CSV)", charts.comparison_csv(judged, base, ref.currency),
                       file_name=charts.stamped(stem, "csv"), mime="text/csv", key="cmp_csv")
    e2.download_button("Comparison report (HTML, works offline)", lambda: report.comparison_report(runs, base, judged),
                       file_name=charts.stamped(f"{stem}_report", "html"), mime="text/html", key="cmp_html")
