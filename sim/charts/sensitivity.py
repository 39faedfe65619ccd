"""One-way sensitivity as a tornado: for each parameter, the KPI at its low and at its high value, as bars
from the baseline, the largest swing on top, each end with its 95% CI."""

from __future__ import annotations

from typing import Mapping

import altair as alt
import pandas as pd

from sim.metrics.formats import format_ci, format_value, kpi_info
from sim.charts.style import _padded, _title

# Which end of its range a parameter is at; colours from the Okabe-Ito set (colour-blind safe).
ENDS = ("low value", "high value")
END_COLORS = ("#0072B2", "#E69F00")
TORNADO_FRAME_COLUMNS = ["param", "label", "end", "setting", "value", "ci_low", "ci_high", "base", "swing",
                         "rank", "value_text", "ci_text"]


def _setting(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() and abs(v) >= 1 else f"{v:,.4g}"


def tornado_frame(table: pd.DataFrame, kpi: str, labels: Mapping[str, str] | None = None,
                  currency: str = "USD") -> pd.DataFrame:
    """The rows of a tornado chart from :func:`sim.sensitivity`'s one-way table.

    Parameters
    ----------
    table : DataFrame
        :data:`sim.analysis.sensitivity.TORNADO_COLUMNS`.
    kpi : str
        The KPI drawn.
    labels : mapping, optional
        ``{dotted parameter: label a reader knows}`` (default: the dotted name).
    currency : str
        For money KPIs.

    Returns
    -------
    DataFrame
        :data:`TORNADO_FRAME_COLUMNS`, two rows per parameter (its low and its high value), the largest
        swing first; ``label`` names the parameter and its range, ``value_text`` and ``ci_text`` are the
        KPI as a reader reads it.
    """
    rows = []
    block = table[table["kpi"] == kpi].sort_values("rank")
    for r in block.itertuples(index=False):
        name = (labels or {}).get(r.param, r.param)
        label = f"{name}: {_setting(r.low)} to {_setting(r.high)}"
        for end, setting, value, lo, hi in ((ENDS[0], r.low, r.value_low, r.value_low_ci_low, r.value_low_ci_high),
                                            (ENDS[1], r.high, r.value_high, r.value_high_ci_low,
                                             r.value_high_ci_high)):
            # every KPI is a count, share, time or cost: a t-interval below 0 is drawn from 0 (as format_ci)
            rows.append({"param": r.param, "label": label, "end": end, "setting": _setting(setting), "value": value,
                         "ci_low": max(lo, 0.0), "ci_high": hi, "base": r.value_base, "swing": r.swing,
                         "rank": int(r.rank),
                         "value_text": format_value(kpi, value, currency),
                         "ci_text": format_ci(kpi, lo, hi, currency)})
    return pd.DataFrame(rows, columns=TORNADO_FRAME_COLUMNS)


@_padded
def tornado_chart(frame: pd.DataFrame, kpi: str, currency: str = "USD") -> alt.Chart:
    """Tornado chart of :func:`tornado_frame`: a bar from the baseline to the KPI at each end of each
    parameter's range, its 95% CI as a thin line, the baseline as a dashed rule; largest swing on top."""
    info = kpi_info(kpi, currency)
    share = info.kind == "share"
    axis = alt.Axis(format="%" if share else ",.3~f", title=f"{info.label} ({info.unit})".replace(" ()", ""))
    order = list(dict.fromkeys(frame.sort_values("rank")["label"]))
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=360))
    color = alt.Color("end:N", title="Parameter at its", scale=alt.Scale(domain=list(ENDS), range=list(END_COLORS)),
                      legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("label:N", title="Parameter"), alt.Tooltip("end:N", title="At its"),
               alt.Tooltip("setting:N", title="Set to"), alt.Tooltip("value_text:N", title=info.label),
               alt.Tooltip("ci_text:N", title="95% CI")]
    base = alt.Chart(frame)
    bars = base.mark_bar(opacity=0.85, height={"band": 0.45}).encode(
        y=y, yOffset=alt.YOffset("end:N", sort=list(ENDS)), x=alt.X("base:Q", axis=axis), x2="value:Q",
        color=color, tooltip=tooltip)
    ci = base.mark_rule(color="black", strokeWidth=1.5).encode(
        y=y, yOffset=alt.YOffset("end:N", sort=list(ENDS)), x="ci_low:Q", x2="ci_high:Q", tooltip=tooltip)
    baseline = base.mark_rule(color="black", strokeDash=[4, 3]).encode(x="mean(base):Q")
    height = max(60, 44 * len(order))
    return alt.layer(bars, ci, baseline).properties(
        width=520, height=height,
        title=_title(f"What moves {info.label.lower()} most",
                     "each parameter at its low and its high value, the others at baseline; same simulated patients; "
                     "black line: 95% CI; dashed: baseline"))
