"""Pieces every page uses: KPI cards, the run header, the latest run of the session, exports."""

from __future__ import annotations

import streamlit as st

from dashboard import fields, running, state
from sim import charts
from sim.analysis import views
from sim.charts import report
from sim.config import loader
from sim.config.scenario import Scenario

CURRENT = "Current scenario (sidebar)"


def card_value(kpi: str, value: float, currency: str) -> str:
    """The big number of a KPI card, with its unit."""
    info = charts.kpi_info(kpi, currency)
    text = charts.format_value(kpi, value, currency)
    if info.kind in ("share", "money") or text == "n/a":   # "12.3%", "USD 13,238": the unit is in the text
        return text
    unit = info.unit.split(" (")[0]
    return f"{text} {unit}"


# Card titles wrap instead of being cut ("Patient doses delayed by a s..."): the full label is the title.
_WRAP_TITLES = ("<style>[data-testid='stMetricLabel'] *{white-space:normal !important;overflow:visible !important;"
                "text-overflow:clip !important}</style>")


def kpi_cards(view: views.RunView, kpis: tuple[str, ...], per_row: int = 4) -> None:
    """One card per KPI: mean with unit, the 95% CI under it, the definition on hover."""
    st.html(_WRAP_TITLES)
    summ = view.summary.set_index("kpi")
    shown = [k for k in kpis if k in summ.index]
    for start in range(0, len(shown), per_row):
        cols = st.columns(per_row)
        for col, kpi in zip(cols, shown[start:start + per_row]):
            r = summ.loc[kpi]
            info = charts.kpi_info(kpi, view.currency)
            ci = charts.format_ci(kpi, r["ci_low"], r["ci_high"], view.currency)
            words = fields.explain_abbreviations(f"{info.label} {info.help}")
            col.metric(info.label, card_value(kpi, r["mean"], view.currency), delta=f"95% CI {ci}",
                       delta_color="off", delta_arrow="off", border=True,
                       help=f"{info.unit}. {info.help}".strip(". ") + f". Mean over {int(r['n'])} replications."
                       + (f"  \n{words}." if words else ""))
    running.cards_first()


def chart(c, name: str) -> None:
    """Show an Altair chart at the size it was built for, with a PNG download named after ``name`` (the
    scenario or analysis) and the chart's title; the image is drawn only when the button is pressed."""
    st.altair_chart(c, width="content")
    file_name = charts.export.file_name(c, name, "png")
    if report.chart_mode() == "vega":   # vl-convert is installed: it renders the PNG
        st.download_button("Download this chart (PNG)", lambda: charts.export.png(c), file_name=file_name,
                           mime="image/png", key=f"png_{file_name}", type="tertiary", icon=":material/download:")


def run_header(view: views.RunView) -> None:
    """One line on what the results are: scenario, strategy, replications, seed, window, run time."""
    s = view.scenario
    # a centre's top-level strategy is only its first programme's: name each programme's
    how = (f"strategy *{s.strategy.name}*" if not s.programmes else "programmes " + ", ".join(
        f"{name} (*{p.strategy.name}*)" for name, p in s.programmes.items()))
    st.caption(f"**{s.name}** · {how} · {view.reps} replications · seed {view.seed} · "
               f"{s.run.horizon_weeks} weeks of statistics after {s.run.warmup_weeks} weeks of warm-up · "
               f"computed in {view.seconds:.1f} s at {view.finished}. Counts are totals over the "
               f"{s.run.horizon_weeks} weeks; every figure is a mean over replications with its 95% CI.")


def latest_view(scenario: Scenario | None) -> views.RunView | None:
    """The last run of this session, with a warning when the inputs have changed since."""
    key = st.session_state.get("last_run_key")
    view = state.recall("results", key)
    if view is None:
        return None
    reps = st.session_state.get("reps")
    if scenario is None or reps is None or key != state.run_key(scenario, int(reps)):
        st.warning(f"These results are for **{view.scenario.name}** as it was run at {view.finished} "
                   f"({view.reps} replications). The inputs have changed since: press **Run simulation** to update.")
    return view


def page_view(scenario: Scenario | None) -> views.RunView | None:
    """The session's latest run under its header line; None (and what to do first) before any run."""
    view = latest_view(scenario)
    if view is None:
        no_results(scenario)
        return None
    run_header(view)
    trust_notes(view.scenario)
    return view


def trust_notes(scenario: Scenario) -> None:
    """Beside the results: the assumptions they rest on, and what the model is and is not validated against."""
    c1, c2 = st.columns(2)
    with c1.expander("Assumptions behind these results"):
        st.markdown("\n".join(f"- {a}" for a in report.assumptions(scenario) + report.LIMITATIONS))
    with c2.expander("Validation: what these results can be trusted for"):
        st.markdown("\n".join(f"- {a}" for a in report.VALIDATION))


def no_results(scenario: Scenario | None) -> None:
    """Before the first run: what to do, and the inputs that will be run."""
    st.info("No results yet: choose a preset or upload a scenario in the sidebar, adjust the inputs, and press "
            "**Run simulation**.")
    if scenario is not None:
        st.subheader(f"Scenario: {scenario.name}")
        st.write(scenario.description)
        words = fields.explain_abbreviations(f"{scenario.name} {scenario.description}")
        if words:
            st.caption(words)
        st.dataframe(report.inputs_table(scenario), hide_index=True, width="stretch")
        st.markdown("**Monitoring rules** (tried in order)")
        st.dataframe(report.strategy_table(scenario), hide_index=True, width="stretch")


def exports(view: views.RunView, key: str = "run") -> None:
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
    c4.download_button("Report (HTML, works offline)", lambda: report.run_report(view),
                       file_name=charts.stamped(f"{s.name}_report", "html"), mime="text/html", key=f"{key}_html")
    mode = report.chart_mode()
    st.caption("The report holds the inputs, assumptions, charts, tables, version and seed in one file. "
               + ("Its charts are interactive and need no network." if mode == "vega" else
                  "Charts appear in it as data tables (install vl-convert-python for embedded charts)."))
