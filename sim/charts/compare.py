"""Strategy comparison: paired differences with their intervals, drawn as a forest plot."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sim.charts.style import MAIN, NEUTRAL, _padded, _title
from sim.metrics.formats import diff_scale, diff_unit, format_diff, format_diff_ci, format_value, kpi_info

VERDICTS = ("CI excludes 0", "CI includes 0")


def forest_frame(frame: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """The forest plot's data: each difference in the unit it is read in (a difference of shares in
    percentage points), the row's title with that unit, and the tooltip's texts formatted as in the table.

    Parameters
    ----------
    frame : DataFrame
        :func:`sim.analysis.compare.paired_differences`: kpi, base_mean, other_mean, diff_mean,
        diff_ci_low, diff_ci_high, excludes_zero.
    currency : str
        The scenarios' currency.
    """
    k = list(frame["kpi"])
    scale = np.array([diff_scale(x) for x in k])
    labels = [kpi_info(x, currency).label for x in k]
    return pd.DataFrame({
        "row": [f"{lab} ({diff_unit(x, currency)})" for lab, x in zip(labels, k)],
        "label": labels,
        "diff": frame["diff_mean"].to_numpy(dtype=float) * scale,
        "low": frame["diff_ci_low"].to_numpy(dtype=float) * scale,
        "high": frame["diff_ci_high"].to_numpy(dtype=float) * scale,
        "verdict": np.where(frame["excludes_zero"], *VERDICTS),
        "base_text": [format_value(x, v, currency) for x, v in zip(k, frame["base_mean"])],
        "other_text": [format_value(x, v, currency) for x, v in zip(k, frame["other_mean"])],
        "diff_text": [format_diff(x, v, currency) for x, v in zip(k, frame["diff_mean"])],
        "ci_text": [format_diff_ci(x, lo, hi, currency) for x, lo, hi in
                    zip(k, frame["diff_ci_low"], frame["diff_ci_high"])],
    })


@_padded
def forest_plot(frame: pd.DataFrame, base_name: str = "A", other_name: str = "B",
                currency: str = "USD") -> alt.Chart:
    """Forest plot: one row per KPI, the paired difference (other - base) with its 95% CI and a zero line.

    Each row has its own x scale because KPIs have different units (named in the row's title; a
    difference of shares in percentage points); the zero line shows where "no difference" lies in each.
    Axis labels are plain numbers (never 1e-4), tooltips the same texts as the comparison table.
    """
    data = forest_frame(frame, currency)
    axis = alt.Axis(tickCount=5, format=",~r", labelFlush=True)
    ci = alt.Chart().mark_rule(size=2).encode(
        x=alt.X("low:Q", title=None, axis=axis), x2="high:Q",
        color=alt.Color("verdict:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=list(VERDICTS), range=[MAIN, NEUTRAL])))
    point = alt.Chart().mark_point(filled=True, size=70).encode(
        x="diff:Q", color="verdict:N",
        tooltip=[alt.Tooltip("label:N", title="KPI"), alt.Tooltip("base_text:N", title=base_name),
                 alt.Tooltip("other_text:N", title=other_name),
                 alt.Tooltip("diff_text:N", title="Difference"), alt.Tooltip("ci_text:N", title="95% CI")])
    zero = alt.Chart().mark_rule(color="black", strokeDash=[3, 3]).encode(x=alt.datum(0))
    return (alt.layer(zero, ci, point, data=data).properties(width=340, height=22)
            .facet(row=alt.Row("row:N", title=None, sort=list(data["row"]),
                               header=alt.Header(labelAngle=0, labelAlign="left", labelLimit=300)))
            .resolve_scale(x="independent")
            .properties(title=_title(f"Paired differences: {other_name} minus {base_name}",
                                     "same simulated patients; 95% CI; dashed: no difference; "
                                     "differences of shares in percentage points")))
