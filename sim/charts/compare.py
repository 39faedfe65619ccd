"""Strategy comparison: each strategy's paired difference from the base with its 95% CI, drawn as a
forest plot and written as a table and CSV, with both verdicts in words: distinguishable (the CI
excludes 0) and matters (the whole CI lies beyond the minimum difference that matters)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sim.charts.style import NEUTRAL, OKABE_ITO, _padded, _title
from sim.metrics.formats import (
    diff_scale,
    diff_unit,
    format_diff,
    format_diff_ci,
    format_value,
    in_shown_unit,
    kpi_info,
)

# One colour per compared strategy (up to five against the base), in this order; yellow is too faint on white.
STRATEGY_COLORS = [OKABE_ITO[c] for c in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple",
                                          "sky_blue")]
# sim.analysis.compare.MATTERS in words, and how the forest plot marks each.
MATTERS_WORDS = {"matters": "Matters", "does not matter": "Does not matter", "unclear": "Unclear"}
MATTERS_NOTE = ("Distinguishable: the 95% CI of the difference excludes 0, so the simulation tells it apart from "
                "noise. Matters: the whole CI lies beyond the minimum difference that matters, so it is large "
                "enough to change a plan. With many replications a tiny difference is distinguishable and still "
                "does not matter.")
MATTERS_SHAPES = {"Matters": "circle", "Does not matter": "square", "Unclear": "triangle-up"}


def distinguishable_words(distinguishable: bool) -> str:
    """The statistical verdict in words."""
    return "yes: CI excludes 0" if distinguishable else "no: CI includes 0"


def threshold_text(kpi: str, threshold: float, currency: str = "USD") -> str:
    """The minimum difference that matters, "±1.0 pp" or "±USD 1,234"."""
    return "±" + format_diff(kpi, abs(threshold), currency).lstrip("+")


def matters_words(kpi: str, verdict: str, diff: float, threshold: float, currency: str = "USD") -> str:
    """The planning verdict in words, e.g. "Matters: lower by more than 1.0 pp"."""
    t = threshold_text(kpi, threshold, currency)
    if verdict == "matters":
        return f"Matters: {'higher' if diff > 0 else 'lower'} by more than {t.lstrip('±')}"
    if verdict == "does not matter":
        return f"Does not matter: CI within {t}"
    return f"Unclear: CI reaches past {t}"


def forest_frame(judged: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """The forest plot's data: each difference, its CI and its threshold in the unit they are read in (a
    difference of shares in percentage points), the row's title with that unit, the verdicts, and the
    tooltip's texts formatted as in the table.

    Parameters
    ----------
    judged : DataFrame
        :func:`sim.analysis.compare.judge`: scenario, kpi, base_mean, mean, diff_mean, diff_ci_low,
        diff_ci_high, distinguishable, threshold, matters.
    currency : str
        The scenarios' currency.
    """
    k = list(judged["kpi"])
    scale = np.array([diff_scale(x) for x in k])
    labels = [kpi_info(x, currency).label for x in k]
    raw = {c: judged[c].to_numpy(dtype=float) for c in ("diff_mean", "diff_ci_low", "diff_ci_high", "threshold")}
    return pd.DataFrame({
        "row": [f"{lab} ({diff_unit(x, currency)})" for lab, x in zip(labels, k)],
        "label": labels,
        "strategy": list(judged["scenario"]),
        "diff": raw["diff_mean"] * scale, "low": raw["diff_ci_low"] * scale, "high": raw["diff_ci_high"] * scale,
        "threshold": raw["threshold"] * scale,
        "verdict": [MATTERS_WORDS[v] for v in judged["matters"]],
        "base_text": [format_value(x, v, currency) for x, v in zip(k, judged["base_mean"])],
        "other_text": [format_value(x, v, currency) for x, v in zip(k, judged["mean"])],
        "diff_text": [format_diff(x, v, currency) for x, v in zip(k, raw["diff_mean"])],
        "ci_text": [format_diff_ci(x, lo, hi, currency) for x, lo, hi in
                    zip(k, raw["diff_ci_low"], raw["diff_ci_high"])],
        "distinguishable_text": [distinguishable_words(d) for d in judged["distinguishable"]],
        "matters_text": [matters_words(x, v, d, t, currency) for x, v, d, t in
                         zip(k, judged["matters"], raw["diff_mean"], raw["threshold"])],
    })


@_padded
def forest_plot(judged: pd.DataFrame, base_name: str = "base", currency: str = "USD") -> alt.Chart:
    """Forest plot: one panel per KPI, one line per strategy: its paired difference from the base with
    its 95% CI, a dashed line at no difference and a grey band of differences too small to matter.

    Each panel has its own x scale because KPIs have different units (named in the panel's title; a
    difference of shares in percentage points). Axis labels are plain numbers (never 1e-4); colours
    are the Okabe-Ito palette, the point's shape says whether the difference matters, and the tooltip
    holds the table's texts.
    """
    data = forest_frame(judged, currency)
    strategies = list(dict.fromkeys(data["strategy"]))
    axis = alt.Axis(tickCount=5, format=",~r", labelFlush=True, title=None)
    y = alt.Y("strategy:N", title=None, sort=strategies, axis=alt.Axis(labelLimit=200))
    colour = alt.Color("strategy:N", title=None, legend=None,
                       scale=alt.Scale(domain=strategies, range=STRATEGY_COLORS[:len(strategies)]))
    band = (alt.Chart().transform_aggregate(t="max(threshold)", groupby=["row"])
            .transform_calculate(minus="-datum.t")
            .mark_rect(color=NEUTRAL, opacity=0.18).encode(x=alt.X("minus:Q", axis=axis), x2="t:Q"))
    zero = alt.Chart().mark_rule(color="black", strokeDash=[3, 3]).encode(x=alt.datum(0))
    ci = alt.Chart().mark_rule(size=2).encode(x=alt.X("low:Q", axis=axis), x2="high:Q", y=y, color=colour)
    point = alt.Chart().mark_point(filled=True, size=80, opacity=1).encode(
        x="diff:Q", y=y, color=colour,
        shape=alt.Shape("verdict:N", title="Difference", legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=list(MATTERS_SHAPES), range=list(MATTERS_SHAPES.values()))),
        tooltip=[alt.Tooltip("label:N", title="KPI"), alt.Tooltip("strategy:N", title="Strategy"),
                 alt.Tooltip("base_text:N", title=f"Base ({base_name})"),
                 alt.Tooltip("other_text:N", title="Strategy"),
                 alt.Tooltip("diff_text:N", title="Difference"), alt.Tooltip("ci_text:N", title="95% CI"),
                 alt.Tooltip("distinguishable_text:N", title="Distinguishable"),
                 alt.Tooltip("matters_text:N", title="Matters")])
    return (alt.layer(band, zero, ci, point, data=data).properties(width=380, height=20 * len(strategies) + 6)
            .facet(row=alt.Row("row:N", title=None, sort=list(dict.fromkeys(data["row"])),
                               header=alt.Header(labelAngle=0, labelOrient="top", labelAnchor="start",
                                                 labelLimit=560, labelFontWeight="bold")))
            .resolve_scale(x="independent")
            .properties(title=_title(f"Paired differences from the base, {base_name}",
                                     "same simulated patients; line: 95% CI; dashed: no difference; grey band: "
                                     "too small to matter; shares in percentage points")))


def comparison_table(judged: pd.DataFrame, base_name: str, currency: str = "USD") -> pd.DataFrame:
    """Every strategy's paired difference from the base as a reader sees it: one row per measure and
    strategy, each value in its KPI's unit (a difference of shares in percentage points), both verdicts
    in words, every cell text.

    Parameters
    ----------
    judged : DataFrame
        :func:`sim.analysis.compare.judge`.
    base_name : str
        The base strategy's name (the title of its column).
    currency : str
        The scenarios' currency.
    """
    f = forest_frame(judged, currency)
    return pd.DataFrame({
        "Measure": f["label"], "Unit": [kpi_info(x, currency).unit for x in judged["kpi"]],
        "Strategy": f["strategy"], f"Base: {base_name}": f["base_text"], "Strategy's mean": f["other_text"],
        "Difference": f["diff_text"], "95% CI of the difference": f["ci_text"],
        "Distinguishable from no difference?": f["distinguishable_text"],
        "Matters for planning?": f["matters_text"],
    })


def comparison_csv(judged: pd.DataFrame, base_name: str, currency: str = "USD") -> str:
    """The comparison as CSV for a spreadsheet, every strategy against the base: numbers in the unit a
    column header names (shares in %, differences of shares in percentage points), never in scientific
    notation; ``kpi`` keeps the column name of kpis.csv."""
    k = list(judged["kpi"])

    def shown(col: str) -> list[str]:
        return [in_shown_unit(x, v) for x, v in zip(k, judged[col])]

    return pd.DataFrame({
        "kpi": k, "measure": [kpi_info(x, currency).label for x in k], "strategy": list(judged["scenario"]),
        "unit of the means": [kpi_info(x, currency).unit for x in k],
        f"base {base_name} (mean, in unit of the means)": shown("base_mean"),
        "strategy (mean, in unit of the means)": shown("mean"),
        "unit of the difference": [diff_unit(x, currency) for x in k],
        "difference from the base (in unit of the difference)": shown("diff_mean"),
        "95% CI low (in unit of the difference)": shown("diff_ci_low"),
        "95% CI high (in unit of the difference)": shown("diff_ci_high"),
        "minimum difference that matters (in unit of the difference)": shown("threshold"),
        "distinguishable (CI excludes 0)": ["yes" if d else "no" for d in judged["distinguishable"]],
        "matters (CI beyond the minimum)": list(judged["matters"]),
    }).to_csv(index=False)
