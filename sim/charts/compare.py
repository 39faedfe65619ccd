"""Strategy comparison: paired differences with their intervals, drawn as a forest plot."""

from __future__ import annotations

from typing import Iterable

import altair as alt
import numpy as np
import pandas as pd

from sim.analysis import stats
from sim.charts.format import kpi_info
from sim.charts.style import _padded, _title


def paired_differences(base: pd.DataFrame, other: pd.DataFrame, kpis: Iterable[str],
                       level: float = 0.95, currency: str = "USD") -> pd.DataFrame:
    """Per-replication differences ``other - base`` of each KPI, with a t-based CI.

    Both runs must share replication numbers (same seed: common random numbers), so replication r of
    each saw the same patients and the same toxicity draws and the difference cancels most noise.

    Parameters
    ----------
    base, other : DataFrame
        KPI frames with a ``replication`` column.
    kpis : iterable of str
        KPIs to compare; those missing from either frame are skipped.
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        kpi, label, unit, base_mean, other_mean, diff_mean, diff_ci_low, diff_ci_high, n, excludes_zero.

    Raises
    ------
    ValueError
        If the two runs share no replication numbers.
    """
    merged = base.merge(other, on="replication", suffixes=("__a", "__b"))
    if merged.empty:
        raise ValueError("the two runs share no replications; run both with the same seed and replications")
    rows = []
    for kpi in kpis:
        if kpi not in base.columns or kpi not in other.columns or kpi == "replication":
            continue
        a = merged[f"{kpi}__a"].to_numpy(dtype=float)
        b = merged[f"{kpi}__b"].to_numpy(dtype=float)
        mean, _sd, lo, hi, n = stats.mean_ci(b - a, level)
        info = kpi_info(kpi, currency)
        rows.append({"kpi": kpi, "label": info.label, "unit": info.unit, "base_mean": float(np.nanmean(a)),
                     "other_mean": float(np.nanmean(b)), "diff_mean": mean, "diff_ci_low": lo,
                     "diff_ci_high": hi, "n": n, "excludes_zero": bool(lo > 0 or hi < 0)})
    return pd.DataFrame(rows, columns=["kpi", "label", "unit", "base_mean", "other_mean", "diff_mean",
                                       "diff_ci_low", "diff_ci_high", "n", "excludes_zero"])


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
