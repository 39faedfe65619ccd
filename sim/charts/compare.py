"""Strategy comparison: paired differences with their intervals, drawn as a forest plot."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sim.charts.style import _padded, _title


@_padded
def forest_plot(frame: pd.DataFrame, base_name: str = "A", other_name: str = "B") -> alt.Chart:
    """Forest plot: one row per KPI, the paired difference (other - base) with its 95% CI and a zero line.

    Each row has its own x scale because KPIs have different units; the zero line shows where "no
    difference" lies in each.
    """
    data = frame.assign(row=frame["label"] + " (" + frame["unit"] + ")",
                        verdict=np.where(frame["excludes_zero"], "CI excludes 0", "CI includes 0"))
    ci = alt.Chart().mark_rule(size=2).encode(
        x=alt.X("diff_ci_low:Q", title=None, axis=alt.Axis(tickCount=6)),
        x2="diff_ci_high:Q",
        color=alt.Color("verdict:N", title=None,
                        scale=alt.Scale(domain=["CI excludes 0", "CI includes 0"], range=["#b2182b", "#7f7f7f"])))
    point = alt.Chart().mark_point(filled=True, size=70).encode(
        x="diff_mean:Q", color="verdict:N",
        tooltip=[alt.Tooltip("label:N", title="KPI"), alt.Tooltip("unit:N"),
                 alt.Tooltip("base_mean:Q", title=base_name, format=",.4g"),
                 alt.Tooltip("other_mean:Q", title=other_name, format=",.4g"),
                 alt.Tooltip("diff_mean:Q", title="Difference", format=",.4g"),
                 alt.Tooltip("diff_ci_low:Q", title="95% CI low", format=",.4g"),
                 alt.Tooltip("diff_ci_high:Q", title="95% CI high", format=",.4g")])
    zero = alt.Chart().mark_rule(color="black", strokeDash=[3, 3]).encode(x=alt.datum(0))
    return (alt.layer(zero, ci, point, data=data).properties(width=420, height=22)
            .facet(row=alt.Row("row:N", title=None, sort=list(data["row"]),
                               header=alt.Header(labelAngle=0, labelAlign="left", labelLimit=320)))
            .resolve_scale(x="independent")
            .properties(title=_title(f"Paired differences: {other_name} minus {base_name}", "same simulated patients; 95% CI; dashed: no difference")))
