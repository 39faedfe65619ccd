"""A self-contained HTML report of a run or a comparison, that opens offline.

Charts are the Altair charts of :mod:`sim.charts`, embedded as Vega-Lite specifications. The Vega,
Vega-Lite and vega-embed JavaScript is inlined from the ``vl-convert-python`` package when it is
installed (it ships the bundle, so nothing is fetched); without it every chart is replaced by the
table of its data, and the report says so. Either way the file loads nothing from the network.

No streamlit here: the dashboard calls these functions and offers the result as a download.
"""

from __future__ import annotations

import datetime as _dt
import html
import importlib.util
import json
from typing import Mapping, NamedTuple

import altair as alt
import pandas as pd

from sim import __version__, charts
from sim.analysis import views
from sim.charts.compare import MATTERS_NOTE
from sim.config import citations, loader, matters
from sim.config.params import iter_sourced
from sim.config.scenario import RESOURCES, Scenario, programmes
from sim.metrics import formats

# The model's assumptions in plain words (``{start}`` is how a run starts: see :func:`assumptions`); the
# dashboard's About page shows the same list.
ASSUMPTIONS = (
    "Referrals arrive as a Poisson process at the scenario's weekly rate (optionally growing each year); "
    "each patient's first dose is booked after the lead time, on a permitted weekday, where the "
    "monitoring place for the step-up doses can be booked, and slips day by day otherwise.",
    "The step-up doses of a patient are booked together, as centres do; maintenance doses are booked "
    "a dose interval ahead. A patient not started within the maximum start delay is referred elsewhere.",
    "Each dose takes an infusion chair for premedication and infusion (and hydration in cycle 1), or a bed "
    "when monitored in the ward or observation unit. Monitoring place and length follow the strategy's "
    "rules, tried in order; a dose after a toxicity that needs extended monitoring follows the "
    "after-toxicity rule.",
    "CRS and ICANS occur per patient at the drug profile's rates, split over doses by the published "
    "shares, with grade, onset and duration drawn from the profile. Prophylactic tocilizumab lowers the "
    "probability by its relative risk; the random draws are the same in every strategy (common random "
    "numbers), so strategy differences are paired.",
    "An onset at home is managed where the strategy's onset-at-home table says for its toxicity and grade: "
    "at home (phone and oral dexamethasone), in an oncology urgent-care bay (the ED outside its hours), in "
    "the ED, or by direct admission; after urgent care or the ED the label's management rules send the "
    "patient home, to the ward or the ICU. In a bed the patient is managed there or transferred; a planned "
    "ward stay lasts until the grade allows discharge (a stay prolonged by toxicity). A toxicity admission "
    "lasts its own length of stay, not the whole episode. A full ICU makes the patient board where they "
    "are. Tocilizumab is given per grade with repeat doses. A strategy may plan follow-up clinic visits after "
    "the first dose (DeLLphi-300 Part F: days 2, 3, 5, 9, 16 and 22), each booked in a clinic room; they take "
    "room time and cost but change no patient's course.",
    "Costs are operating costs (bed-days, visits and chair-hours at their prices, and tocilizumab), shown "
    "by resource; chair revenue forgone is reported apart and is not part of the total.",
    "Time on therapy is exponential with the drug's median; the step-up doses are always given first. "
    "{start}; patients started late are followed for the follow-up weeks so their toxicity is counted.",
    "Counts (ED visits, admissions, doses, bed-days) are totals over the statistics window; rates are per "
    "patient started in the window. Each figure is the mean over replications with a Student-t 95% "
    "confidence interval of that mean.",
    "Every clinical and cost number comes from a data file with its source; numbers marked unverified were "
    "recalled, derived or assumed rather than read in the cited source, and are flagged.",
)
LIMITATIONS = (
    "Where onsets at home are managed is a centre's practice (the defaults follow the label and the "
    "Crombie et al. 2024 consensus); lengths of stay of toxicity admissions are partly transferred from "
    "another drug or assumed, and flagged.",
    "Staff, pharmacy preparation time and transport are not modelled; a free place is assumed staffed.",
)

# What the model has been checked against, and what it has not (the README's "Verification and
# validation"), in a planner's words; the dashboard shows the same list beside the results.
VALIDATION = (
    ("Verified: patients are conserved, no place is ever used beyond its capacity, the queues agree with "
     "Little's law and with Erlang B and C where those apply, and the same seed gives the same numbers on one "
     "core, on several, or on a cluster."),
    ("Validated: run as the DeLLphi-300 Part F trial ran (every patient with a caregiver), tarlatamab's CRS "
     "incidence and hospitalisation (including ED visits) in cycle 1 fall within the published confidence "
     "intervals in both the outpatient and the inpatient arm, and so does the difference between the arms; "
     "it is also checked against the real-world and prophylaxis figures of Joshi et al. 2025 and the label's "
     "share of grade 3 or worse."),
    ("Not validated: how hospital use splits between ED visits, urgent-care visits and admissions depends on "
     "where the strategy manages an onset at home (a centre's practice; the defaults follow the label and "
     "the Crombie et al. 2024 consensus)."),
    ("Not validated: the lengths of stay of tarlatamab toxicity admissions are transferred from teclistamab "
     "(Sandahl et al. 2025) or assumed, and flagged as unverified in the drug file."),
    ("Other drugs' figures are checked only against their own inputs (simulated incidence within a binomial "
     "interval of the drug file's rate), not against published capacity outcomes."),
)


START = {
    True: "Each replication starts warm, with the patients a steady state would have (on maintenance, part-way "
          "through the step-up, waiting for a first dose); statistics cover the horizon after {warmup} weeks of "
          "warm-up",
    False: "Each replication starts from an empty centre; statistics cover the horizon after {warmup} weeks of "
           "warm-up",
}


def assumptions(scenario: Scenario) -> tuple[str, ...]:
    """:data:`ASSUMPTIONS` as they hold for ``scenario``: its warm or empty start and its warm-up length."""
    start = START[bool(scenario.run.warm_start)].format(warmup=scenario.run.warmup_weeks)
    return tuple(a.replace("{start}", start) for a in ASSUMPTIONS)


def citation(scenario: Scenario | None = None, seed: int | None = None, reps: int | None = None) -> str:
    """How to cite a result: package, version, and the scenario, seed and replications that reproduce it."""
    text = (f"btce-sim {__version__}: discrete-event capacity simulation of bispecific T-cell engager "
            f"step-up dosing.")
    if scenario is not None:
        text += f" Scenario '{scenario.name}'"
        if seed is not None:
            text += f", seed {seed}"
        if reps is not None:
            text += f", {reps} replications"
        text += "."
    return text


class Figure(NamedTuple):
    """A chart with its title, caption and the table of its data (shown when charts cannot be embedded)."""

    title: str
    chart: alt.TopLevelMixin
    data: pd.DataFrame
    caption: str = ""


# --------------------------------------------------------------------------- JavaScript

def javascript_bundle() -> str | None:
    """The vega-embed + Vega-Lite + Vega bundle from ``vl-convert-python``, or None when it is not installed."""
    try:
        import vl_convert
    except ImportError:
        return None
    version = _vl_version(vl_convert)
    return vl_convert.javascript_bundle(vl_version=version) if version else vl_convert.javascript_bundle()


def _vl_version(vl_convert) -> str | None:
    """The Vega-Lite version Altair writes, if the bundle offers it (major.minor)."""
    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    try:
        return wanted if wanted in vl_convert.get_vegalite_versions() else None
    except Exception:  # an older vl-convert without the query: take its default
        return None


def chart_mode() -> str:
    """How charts are embedded: ``"vega"`` (interactive, inline JavaScript) or ``"tables"``."""
    return "vega" if importlib.util.find_spec("vl_convert") is not None else "tables"


def _json_for_script(obj) -> str:
    # "</" would end the <script> element early; "<!--" could open a comment in it.
    return json.dumps(obj).replace("</", "<\\/").replace("<!--", "<\\!--")


# --------------------------------------------------------------------------- building blocks

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;
color:#1f2430;line-height:1.45;padding:0 1rem}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{border-bottom:2px solid #e6e8ee;padding-bottom:.2rem;margin-top:2.2rem}
h3{margin-bottom:.3rem}.meta{color:#555;font-size:.92rem}
table{border-collapse:collapse;font-size:.86rem;margin:.6rem 0}th,td{border:1px solid #d9dce3;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f4f7}td.num{text-align:right}
.unverified{background:#fff4d6}.flag{color:#9a5b00;font-weight:600}.note{color:#555;font-size:.88rem}
.chart{margin:.8rem 0 1.6rem}figcaption{color:#555;font-size:.88rem}pre{background:#f6f7f9;padding:.8rem;
overflow:auto;font-size:.8rem;max-height:32rem}.cards{display:flex;flex-wrap:wrap;gap:.6rem}
.card{border:1px solid #d9dce3;border-radius:6px;padding:.5rem .8rem;min-width:13rem}
.card .v{font-size:1.4rem;font-weight:600}.card .l{font-size:.85rem;color:#444}.card .ci{font-size:.8rem;color:#666}
"""


def _table(frame: pd.DataFrame, highlight: str | None = None) -> str:
    """An escaped HTML table; rows where column ``highlight`` is True get the 'unverified' class."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns if c != highlight)
    body = []
    for _, row in frame.iterrows():
        cls = ' class="unverified"' if highlight and bool(row[highlight]) else ""
        cells = []
        for c in frame.columns:
            if c == highlight:
                continue
            v = row[c]
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            text = charts.plain(v) if isinstance(v, float) else str(v)   # never 1e-05 in a report
            cells.append(f'<td{" class=num" if num else ""}>{html.escape(text)}</td>')
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figures_html(figures: list[Figure], mode: str) -> tuple[str, list[str]]:
    parts, scripts = [], []
    for n, fig in enumerate(figures):
        cap = f"<figcaption>{html.escape(fig.caption)}</figcaption>" if fig.caption else ""
        if mode == "vega":
            div = f"chart{n}"
            spec = fig.chart.to_dict()
            scripts.append(f"vegaEmbed('#{div}', {_json_for_script(spec)}, "
                           "{actions:false, renderer:'svg'}).catch(function(e){"
                           f"document.getElementById('{div}').textContent='Chart failed to render: '+e;}});")
            parts.append(f'<figure class="chart"><h3>{html.escape(fig.title)}</h3>'
                         f'<div id="{div}" class="vega-chart"></div>{cap}</figure>')
        else:
            parts.append(f'<figure class="chart"><h3>{html.escape(fig.title)}</h3>'
                         '<p class="note">Chart not embedded (install vl-convert-python for offline charts); '
                         f'its data:</p>{_table(fig.data.head(400))}{cap}</figure>')
    return "".join(parts), scripts


def sourced_table(scenario: Scenario) -> pd.DataFrame:
    """Every sourced number of a scenario: field, value, source, note, unverified flag."""
    rows = []
    for path, item in iter_sourced(scenario):
        value = item.value
        shown = ", ".join(f"{x:g}" for x in value) if isinstance(value, tuple) else f"{value:g}"
        rows.append({"field": path, "value": shown, "source": citations.for_display(item.source),
                     "note": citations.for_display(item.note),
                     "unverified": not item.verified})
    return pd.DataFrame(rows, columns=["field", "value", "source", "note", "unverified"])


def inputs_table(scenario: Scenario) -> pd.DataFrame:
    """The inputs a planner changes most: demand, capacity, calendar, run length; a centre's per programme."""
    s = scenario
    # a centre's rows name their programme; a single-drug scenario's need not
    named = [(f"{name}: " if s.programmes else "", view) for name, view in programmes(s)]
    rows = []
    for who, view in named:
        rows += [(f"{who}Referrals", formats.yearly_rate(view.demand.patients_per_week, "patients")),
                 (f"{who}Growth of referrals per year", f"{100 * view.demand.growth_per_year:g}%")]
    rows += [(f"Capacity: {charts.RESOURCE_LABELS[r]}", str(getattr(s.capacity, r))) for r in RESOURCES]
    rows += [("Ward beds kept for unplanned admissions", str(s.booking.ward_beds_reserved_for_unplanned)),
             ("Infusion centre hours", f"{s.calendar.open_hour:g}:00 to {s.calendar.close_hour:g}:00"),
             ("Open weekdays", ", ".join(charts.DAY_NAMES[d] for d in s.calendar.open_weekdays)),
             ("Lead time, referral to earliest first dose", f"{s.calendar.lead_time_days} days")]
    for who, view in named:
        rows += [(f"{who}First doses on", ", ".join(charts.DAY_NAMES[d] for d in view.calendar.start_weekdays)),
                 (f"{who}Drug", f"{view.drug.name} ({view.drug.brand}), toxicity profile '{view.drug.profile}'"),
                 (f"{who}Strategy", f"{view.strategy.name}: {view.strategy.description}")]
    rows += [("Statistics window", f"{s.run.horizon_weeks} weeks after {s.run.warmup_weeks} weeks of warm-up "
                                   f"(+{s.run.follow_up_weeks} weeks follow-up)")]
    return pd.DataFrame(rows, columns=["input", "value"])


def strategy_table(scenario: Scenario) -> pd.DataFrame:
    """The strategy's monitoring rules, in the order they are tried; a centre's, programme by programme
    (a ``programme`` column first)."""
    frames = []
    for name, view in programmes(scenario):
        frame = _rules_table(view)
        if scenario.programmes:
            frame.insert(0, "programme", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _rules_table(scenario: Scenario) -> pd.DataFrame:
    """One single-drug scenario's monitoring rules and prophylaxis."""
    rows = []
    for n, r in enumerate(scenario.strategy.monitoring, start=1):
        rows.append({"rule": str(n), "doses": "any" if r.doses is None else ", ".join(map(str, r.doses)),
                     "required monitoring": "any" if r.min_required_hours is None else f">= {r.min_required_hours:g} h",
                     "risk": r.risk, "eligible for outpatient": {None: "any", True: "yes", False: "no"}[r.eligible],
                     "after toxicity": {None: "any", True: "yes", False: "no"}[r.after_toxicity],
                     "place": r.place + (f", one admission through dose {r.stay_through_dose}"
                                         if r.stay_through_dose else ""),
                     "hours": "as the drug requires" if r.hours is None else f"{r.hours:g}"})
    p = scenario.strategy.prophylaxis
    if p is not None:
        rows.append({"rule": "prophylaxis", "doses": ", ".join(map(str, p.doses)), "required monitoring": "",
                     "risk": p.patients, "eligible for outpatient": "", "after toxicity": "",
                     "place": "tocilizumab before the dose", "hours": f"{p.chair_hours.value:g}"})
    return pd.DataFrame(rows)


def run_figures(view: views.RunView) -> list[Figure]:
    """The charts of one run, in report order."""
    cap = views.capacity_of(view.scenario)
    how = charts.hour_of_week_frame(view.hour_of_week, cap)
    peaks = charts.daily_peak_frame(view.daily_peak, cap)
    figs = [Figure("Occupancy by hour of the week", charts.occupancy_heatmap(how), how,
                   "Mean places in use as a share of capacity, averaged over weeks and replications."),
            Figure("Daily peak occupancy", charts.daily_peak_chart(peaks), peaks,
                   "Share of days on which the highest number in use reached each level"
                   + ("" if view.peaks_exact else " (from hourly means: understates short peaks)") + ".")]
    use = charts.hospital_use_frame(view.kpis)
    if len(use):
        figs.append(Figure("ED visits and unplanned admissions", charts.hospital_use_chart(use), use,
                           "Totals over the statistics window, mean and 95% CI."))
    cost = charts.cost_breakdown_frame(view.kpis)
    if len(cost):
        figs.append(Figure("Cost by resource", charts.cost_breakdown_chart(cost, view.currency), cost,
                           "The parts of the total cost (operating cost: bed-days, visits and chair-hours at their "
                           "[costs] prices, and tocilizumab), mean and 95% CI; chair revenue forgone is reported "
                           "apart as chair_opportunity_cost."))
    if view.grades is not None:
        g = charts.toxicity_grade_frame(view.grades)
        figs.append(Figure("Toxicity events by grade", charts.toxicity_grade_chart(g), g,
                           "CRS and ICANS events after doses given in the window, mean and 95% CI."))
    if view.toci_week is not None:
        weekly = charts.toci_weekly_frame(view.toci_week)
        figs.append(Figure("Tocilizumab given over time", charts.toci_weekly_chart(weekly), weekly,
                           "mg given per week (treatment and prophylaxis) across replications."))
    if view.on_hand is not None:
        stock = charts.stock_over_time_frame(view.on_hand, view.stockouts)
        figs.append(Figure("Tocilizumab stock over time",
                           charts.stock_over_time_chart(stock, views.policy_level(view.scenario)), stock,
                           "Lowest stock on hand each day across replications; red markers: days with a stock-out."))
    gantt = charts.dosing_calendar(view.dose_calendar)
    if len(gantt):
        figs.append(Figure("Dosing calendar for a sample of patients", charts.dosing_gantt(gantt), gantt,
                           "First patients started after warm-up in replication 0; planned monitoring stays."))
    return figs


def _cards(view: views.RunView, kpis: tuple[str, ...]) -> str:
    s = view.summary.set_index("kpi")
    out = []
    for k in kpis:
        if k not in s.index:
            continue
        r = s.loc[k]
        info = charts.kpi_info(k, view.currency)
        ci = "" if r.ci_low != r.ci_low else f"95% CI {charts.format_ci(k, r.ci_low, r.ci_high, view.currency)}"
        out.append(f'<div class="card"><div class="l">{html.escape(info.label)} ({html.escape(info.unit)})</div>'
                   f'<div class="v">{html.escape(charts.format_value(k, r["mean"], view.currency))}</div>'
                   f'<div class="ci">{html.escape(ci)}</div></div>')
    return f'<div class="cards">{"".join(out)}</div>'


def _page(title: str, body: str, scripts: list[str], mode: str) -> str:
    js = ""
    if mode == "vega" and scripts:
        bundle = javascript_bundle() or ""
        js = (f'<script type="text/javascript">{bundle}</script>\n'
              f'<script type="text/javascript">{"".join(scripts)}</script>')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="generator" content="btce-sim {__version__}"><style>{_CSS}</style></head>'
            f"<body>{body}{js}</body></html>")


def _meta(view: views.RunView) -> str:
    s = view.scenario
    secs = "" if view.seconds != view.seconds else f"; computed in {view.seconds:.1f} s"
    return (f'<p class="meta">btce-sim {html.escape(__version__)} · report generated '
            f'{_dt.datetime.now().strftime("%Y-%m-%d %H:%M")} · seed {view.seed} · {view.reps} replications · '
            f"{s.run.horizon_weeks} weeks of statistics after {s.run.warmup_weeks} weeks of warm-up"
            f"{html.escape(secs)} · charts: "
            f"{'interactive (Vega-Lite, inlined)' if chart_mode() == 'vega' else 'data tables'}</p>")


def _inputs_section(s: Scenario) -> str:
    src = sourced_table(s)
    n_unv = int(src["unverified"].sum())
    return (f"<h2>Inputs</h2>{_table(inputs_table(s))}<h3>Strategy '{html.escape(s.strategy.name)}': monitoring rules</h3>"
            f"{_table(strategy_table(s))}"
            f"<h3>Sourced values ({len(src)}; <span class='flag'>{n_unv} unverified</span>, highlighted)</h3>"
            f"{_table(src, highlight='unverified')}")


def _assumptions_section(s: Scenario, seed: int, reps: int) -> str:
    items = "".join(f"<li>{html.escape(a)}</li>" for a in assumptions(s))
    lims = "".join(f"<li>{html.escape(a)}</li>" for a in LIMITATIONS)
    checks = "".join(f"<li>{html.escape(a)}</li>" for a in VALIDATION)
    return (f"<h2>Assumptions</h2><ul>{items}</ul><h3>Limitations</h3><ul>{lims}</ul>"
            f"<h2>Verification and validation: what the results can be trusted for</h2><ul>{checks}</ul>"
            f"<h2>How to cite and reproduce</h2><p>{html.escape(citation(s, seed, reps))}</p>"
            f"<p>Save the scenario below as <code>scenario.toml</code> and run "
            f"<code>python -m sim run scenario.toml --reps {reps} --seed {seed}</code>.</p>"
            f"<details><summary>Scenario (TOML)</summary><pre>{html.escape(loader.to_toml(s))}</pre></details>")


# --------------------------------------------------------------------------- reports

def run_report(view: views.RunView) -> str:
    """The HTML report of one run: inputs, assumptions, charts, KPI table, version and seed.

    Parameters
    ----------
    view : RunView
        The run (its dosing calendar is the sample of stays replication 0 recorded).

    Returns
    -------
    str
        A complete HTML document that loads nothing from the network.
    """
    s = view.scenario
    mode = chart_mode()
    figs_html, scripts = _figures_html(run_figures(view), mode)
    table = charts.summary_table(view.summary, view.currency).drop(columns=["column"])
    body = (f"<h1>{html.escape(s.name)}: capacity simulation report</h1>"
            f"<p>{html.escape(s.description)}</p>{_meta(view)}"
            f"<h2>Key results</h2>{_cards(view, charts.CAPACITY_KPIS + charts.TOCI_KPIS)}"
            f"<h2>Charts</h2>{figs_html}"
            f"<h2>All KPIs (mean and Student-t 95% CI over replications)</h2>{_table(table)}"
            f"{_inputs_section(s)}{_assumptions_section(s, view.seed, view.reps)}")
    return _page(f"{s.name}: btce-sim report", body, scripts, mode)


def comparison_report(runs: Mapping[str, views.RunView], base: str, judged: pd.DataFrame) -> str:
    """The HTML report of a comparison of two to six runs on the same seed and replications.

    Parameters
    ----------
    runs : mapping of name to RunView
        The runs, the base among them.
    base : str
        The base's name (differences are ``strategy - base``).
    judged : DataFrame
        :func:`sim.analysis.compare.judge` of the runs: differences, thresholds and verdicts.

    Returns
    -------
    str
        A complete HTML document that loads nothing from the network.
    """
    ref = runs[base]
    names = ", ".join(n for n in runs if n != base)
    mode = chart_mode()
    figs = [Figure("Paired differences from the base", charts.forest_plot(judged, base, ref.currency),
                   charts.forest_frame(judged, ref.currency),
                   "Per-replication differences on the same simulated patients; Student-t 95% CI; differences "
                   "of shares in percentage points (pp); grey band: smaller than the minimum difference that "
                   "matters.")]
    figs_html, scripts = _figures_html(figs, mode)
    shown = charts.comparison_table(judged, base, ref.currency)
    inputs = "".join(f"<h2>{html.escape(n)}</h2>{_inputs_section(v.scenario)}" for n, v in runs.items())
    tomls = "".join(f"<details><summary>Scenario {html.escape(n)} (TOML)</summary>"
                    f"<pre>{html.escape(loader.to_toml(v.scenario))}</pre></details>"
                    for n, v in runs.items() if n != base)
    body = (f"<h1>Strategy comparison: {html.escape(names)} against {html.escape(base)}</h1>{_meta(ref)}"
            f"<p>Every scenario was run with seed {ref.seed} and replications 0 to {ref.reps - 1}: replication r "
            "of each saw the same referrals, patients and toxicity draws (common random numbers), so the "
            "differences are paired.</p>"
            f"<p>{html.escape(MATTERS_NOTE)} Minimum differences: {html.escape(matters.source())}.</p>"
            f"<h2>Differences</h2>{figs_html}{_table(shown)}{inputs}"
            f"{_assumptions_section(ref.scenario, ref.seed, ref.reps)}{tomls}")
    return _page(f"{names} vs {base}: btce-sim comparison", body, scripts, mode)
