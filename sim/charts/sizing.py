"""Sizing: a KPI against capacity with its interval and the target line."""

from __future__ import annotations

import altair as alt
import pandas as pd

from sim.charts.style import ALERT, MAIN, RESOURCE_LABELS, _padded, _title
from sim.metrics.formats import kpi_info


@_padded
def capacity_curve_chart(curve: pd.DataFrame, kpi: str, resource: str, target: float | None = None,
                         currency: str = "USD") -> alt.Chart:
    """A KPI against the capacity of one resource: mean, 95% CI band, and the target as a dashed line."""
    info = kpi_info(kpi, currency)
    share = info.kind == "share"
    fmt = ".1%" if share else ",.3~r"   # "r": decimal, never 1e-05
    base = alt.Chart(curve).encode(x=alt.X("capacity:Q", title=f"{RESOURCE_LABELS.get(resource, resource)} (places)",
                                           axis=alt.Axis(tickMinStep=1)))
    y_title = f"{info.label} ({info.unit})"
    band = base.mark_area(opacity=0.25, color=MAIN).encode(
        y=alt.Y("ci_low:Q", title=y_title, axis=alt.Axis(format="%") if share else alt.Axis()), y2="ci_high:Q")
    line = base.mark_line(point=True, color=MAIN).encode(
        y="mean:Q", tooltip=[alt.Tooltip("capacity:Q"), alt.Tooltip("mean:Q", format=fmt),
                             alt.Tooltip("ci_low:Q", title="95% CI low", format=fmt),
                             alt.Tooltip("ci_high:Q", title="95% CI high", format=fmt)])
    layers = [band, line]
    if target is not None:
        layers.append(alt.Chart(pd.DataFrame({"target": [target]})).mark_rule(color=ALERT, strokeDash=[4, 3])
                      .encode(y="target:Q"))
    return alt.layer(*layers).properties(width=520, height=240,
                                         title=_title(f"{info.label} against capacity", "mean with 95% CI band; dashed red: target"))
