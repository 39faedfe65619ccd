"""Charts for capacity sizing and sensitivity: pure functions, data in, :class:`altair.Chart` out.

The frames come from :meth:`sim.sizing.SizingResult.table` (or a saved sizing.csv) and from
:func:`sim.sensitivity.tornado_table` (or tornado.csv); the dashboard only lays the charts out.
Nothing here imports streamlit.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import altair as alt
import pandas as pd

from sim.charts import RESOURCE_LABELS, kpi_info
from sim.scenario import RESOURCES

MEETS, FAILS = "meets every target", "fails a target"
LOW, HIGH = "low value", "high value"
CURVE_COLUMNS = ["capacity", "mean", "ci_low", "ci_high", "feasible", "answer", "verdict"]
TORNADO_COLUMNS = ["param", "label", "end", "setting", "value", "ci_low", "ci_high", "base", "swing", "rank"]


# --------------------------------------------------------------------------- sizing

def sizing_curve(table: pd.DataFrame, resource: str, kpi: str, fixed: Mapping[str, int] | None = None) -> pd.DataFrame:
    """One KPI against the capacity of one resource, from the candidates a sizing search evaluated.

    Parameters
    ----------
    table : DataFrame
        :meth:`sim.sizing.SizingResult.table` or sizing.csv.
    resource : str
        The capacity on the x axis.
    kpi : str
        A KPI the table reports (``{kpi}_mean``, ``{kpi}_ci_low``, ``{kpi}_ci_high``).
    fixed : mapping, optional
        For a pair search, the other resource's value along which to read the curve; default: its
        value in the answer (the line through the answer).

    Returns
    -------
    DataFrame
        :data:`CURVE_COLUMNS`, one row per capacity evaluated, sorted by capacity.

    Raises
    ------
    ValueError
        If the table lacks the resource or KPI, or a pair table has no answer and no ``fixed``.
    """
    if resource not in table.columns:
        raise ValueError(f"the sizing table has no column {resource!r}")
    if f"{kpi}_mean" not in table.columns:
        have = sorted(c[:-5] for c in table.columns if c.endswith("_mean"))
        raise ValueError(f"the sizing table does not report {kpi!r}; it reports: {', '.join(have)}")
    t = table
    others = [r for r in RESOURCES if r in t.columns and r != resource]
    if others:
        if fixed is None:
            ans = t[t["answer"].astype(bool)] if "answer" in t.columns else t.iloc[0:0]
            if ans.empty:
                raise ValueError(f"the table sizes {resource} with {', '.join(others)} and has no answer; "
                                 "say which value of the other resource to read the curve along (fixed)")
            fixed = {r: int(ans.iloc[0][r]) for r in others}
        for r, v in fixed.items():
            t = t[t[r] == v]
    t = t.sort_values(resource).drop_duplicates(resource)
    feasible = t["feasible"].astype(bool) if "feasible" in t.columns else pd.Series(False, index=t.index)
    answer = t["answer"].astype(bool) if "answer" in t.columns else pd.Series(False, index=t.index)
    mean = t[f"{kpi}_mean"].astype(float)
    # a zero-width or undefined interval is drawn as the mean itself, not as a gap in the band
    lo = t[f"{kpi}_ci_low"].astype(float).where(lambda s: s.notna(), mean)
    hi = t[f"{kpi}_ci_high"].astype(float).where(lambda s: s.notna(), mean)
    return pd.DataFrame({"capacity": t[resource].astype(int).to_numpy(), "mean": mean.to_numpy(),
                         "ci_low": lo.to_numpy(), "ci_high": hi.to_numpy(), "feasible": feasible.to_numpy(),
                         "answer": answer.to_numpy(),
                         "verdict": [MEETS if f else FAILS for f in feasible]}, columns=CURVE_COLUMNS)


def sizing_curve_chart(curve: pd.DataFrame, kpi: str, resource: str, targets: Sequence | float | None = None,
                       currency: str = "USD") -> alt.Chart:
    """The KPI against capacity: mean, 95% CI band, each candidate coloured by whether it meets every
    target, the target(s) on this KPI as dashed lines and the answer as a vertical rule.

    Parameters
    ----------
    curve : DataFrame
        From :func:`sizing_curve`.
    kpi, resource : str
        Names for titles and labels.
    targets : sequence of Target, or float, optional
        :class:`sim.sizing.Target` objects (those on other KPIs are skipped) or one number.
    currency : str
        For money KPIs.
    """
    info = kpi_info(kpi, currency)
    share = info.kind == "share"
    fmt = ".2%" if share else ",.4g"
    res_label = RESOURCE_LABELS.get(resource, resource.replace("_", " "))
    x = alt.X("capacity:Q", title=f"{res_label} (places)", axis=alt.Axis(tickMinStep=1, format="d"))
    y_title = f"{info.label} ({info.unit})" if info.unit else info.label
    base = alt.Chart(curve).encode(x=x)
    band = base.mark_area(opacity=0.2, color="#4c78a8").encode(
        y=alt.Y("ci_low:Q", title=y_title, axis=alt.Axis(format="%") if share else alt.Axis()), y2="ci_high:Q")
    line = base.mark_line(color="#4c78a8").encode(y="mean:Q")
    points = base.mark_point(filled=True, size=70).encode(
        y="mean:Q",
        color=alt.Color("verdict:N", title=None, scale=alt.Scale(domain=[MEETS, FAILS], range=["#1a9850", "#d73027"])),
        tooltip=[alt.Tooltip("capacity:Q", title="capacity"), alt.Tooltip("mean:Q", format=fmt),
                 alt.Tooltip("ci_low:Q", title="95% CI low", format=fmt),
                 alt.Tooltip("ci_high:Q", title="95% CI high", format=fmt), alt.Tooltip("verdict:N")])
    layers = [band, line, points]
    values = _target_values(targets, kpi)
    if values:
        tf = pd.DataFrame({"target": [v for v, _ in values], "label": [t for _, t in values]})
        layers.append(alt.Chart(tf).mark_rule(color="#b2182b", strokeDash=[4, 3]).encode(
            y="target:Q", tooltip=[alt.Tooltip("label:N", title="target")]))
    ans = curve[curve["answer"].astype(bool)]
    if not ans.empty:
        af = pd.DataFrame({"capacity": [int(ans.iloc[0]["capacity"])], "label": [f"answer: {int(ans.iloc[0]['capacity'])}"]})
        layers.append(alt.Chart(af).mark_rule(color="black").encode(x="capacity:Q"))
        layers.append(alt.Chart(af).mark_text(align="left", dx=4, dy=-6, baseline="bottom").encode(
            x="capacity:Q", y=alt.value(0), text="label:N"))
    return alt.layer(*layers).properties(
        width=520, height=240, title=f"{info.label} against {res_label.lower()} (95% CI band; dashed: target)")


def _target_values(targets, kpi: str) -> list[tuple[float, str]]:
    if targets is None:
        return []
    if isinstance(targets, (int, float)):
        return [(float(targets), f"{kpi} target {targets:g}")]
    return [(float(t.value), str(t)) for t in targets if getattr(t, "kpi", None) == kpi]


def pair_chart(table: pd.DataFrame, resources: Sequence[str]) -> alt.Chart:
    """The pairs a two-resource search evaluated: coloured by whether they meet every target, the
    answer ringed, capacity cost in the tooltip."""
    a, b = resources
    data = table.assign(verdict=[MEETS if f else FAILS for f in table["feasible"].astype(bool)],
                        is_answer=table["answer"].astype(bool))
    tooltip = [alt.Tooltip(f"{a}:Q"), alt.Tooltip(f"{b}:Q"), alt.Tooltip("verdict:N")]
    if "capacity_cost" in data.columns:
        tooltip.append(alt.Tooltip("capacity_cost:Q", title="capacity cost", format=",.0f"))
    base = alt.Chart(data).encode(
        x=alt.X(f"{a}:Q", title=RESOURCE_LABELS.get(a, a), axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y(f"{b}:Q", title=RESOURCE_LABELS.get(b, b), axis=alt.Axis(tickMinStep=1, format="d")))
    pts = base.mark_square(size=120).encode(
        color=alt.Color("verdict:N", title=None, scale=alt.Scale(domain=[MEETS, FAILS], range=["#1a9850", "#d73027"])),
        tooltip=tooltip)
    ring = base.transform_filter(alt.datum.is_answer).mark_point(size=420, color="black", strokeWidth=2)
    return alt.layer(pts, ring).properties(width=420, height=300,
                                           title="Capacity pairs evaluated (ringed: cheapest meeting every target)")


# --------------------------------------------------------------------------- tornado

def tornado_frame(tornado: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """The tornado rows of one KPI in long form: a bar per parameter end, from the baseline value to
    the value at that end, parameters ordered by swing (largest first).

    Parameters
    ----------
    tornado : DataFrame
        :func:`sim.sensitivity.tornado_table` or tornado.csv.
    kpi : str
        Which KPI's tornado.

    Returns
    -------
    DataFrame
        :data:`TORNADO_COLUMNS`; ``label`` reads ``param (low to high)``, ``end`` is low/high value.
    """
    block = tornado[tornado["kpi"] == kpi]
    if block.empty:
        have = sorted(tornado["kpi"].unique())
        raise ValueError(f"the tornado table has no KPI {kpi!r}; it has: {', '.join(map(str, have))}")
    block = block.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    rows = []
    for rank, r in enumerate(block.itertuples(index=False), start=1):
        label = f"{r.param} ({r.low:g} to {r.high:g})"
        for end, setting, v, lo, hi in ((LOW, r.low, r.value_low, r.value_low_ci_low, r.value_low_ci_high),
                                        (HIGH, r.high, r.value_high, r.value_high_ci_low, r.value_high_ci_high)):
            rows.append({"param": r.param, "label": label, "end": end, "setting": setting, "value": v,
                         "ci_low": lo if _finite(lo) else v, "ci_high": hi if _finite(hi) else v,
                         "base": r.value_base, "swing": r.swing, "rank": rank})
    return pd.DataFrame(rows, columns=TORNADO_COLUMNS)


def _finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def tornado_chart(frame: pd.DataFrame, kpi: str, currency: str = "USD") -> alt.Chart:
    """Tornado: per parameter (largest swing on top), bars from the baseline KPI value to its value at
    the parameter's low and high end, with each end's 95% CI and the baseline as a vertical line."""
    info = kpi_info(kpi, currency)
    share = info.kind == "share"
    fmt = ".2%" if share else ",.4g"
    order = list(dict.fromkeys(frame.sort_values("rank")["label"]))
    y = alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=360))
    x_title = f"{info.label} ({info.unit})" if info.unit else info.label
    base = alt.Chart(frame).encode(y=y)
    bars = base.mark_bar(opacity=0.85, height=14).encode(
        x=alt.X("base:Q", title=x_title, axis=alt.Axis(format="%") if share else alt.Axis(),
                scale=alt.Scale(zero=False)),
        x2="value:Q",
        color=alt.Color("end:N", title="parameter at", scale=alt.Scale(domain=[LOW, HIGH], range=["#67a9cf", "#ef8a62"])),
        tooltip=[alt.Tooltip("param:N", title="parameter"), alt.Tooltip("end:N", title="at"),
                 alt.Tooltip("setting:Q", title="value set", format=",.4g"),
                 alt.Tooltip("value:Q", title=info.label, format=fmt),
                 alt.Tooltip("ci_low:Q", title="95% CI low", format=fmt),
                 alt.Tooltip("ci_high:Q", title="95% CI high", format=fmt),
                 alt.Tooltip("base:Q", title="baseline", format=fmt),
                 alt.Tooltip("swing:Q", title="swing", format=fmt)])
    whiskers = base.mark_rule(color="#333333").encode(x="ci_low:Q", x2="ci_high:Q")
    base_value = float(frame["base"].iloc[0]) if len(frame) else 0.0
    baseline = alt.Chart(pd.DataFrame({"base": [base_value]})).mark_rule(color="black", strokeDash=[3, 3]).encode(
        x="base:Q")
    return alt.layer(bars, whiskers, baseline).properties(
        width=480, height=max(60, 36 * len(order)),
        title=f"{info.label}: one-way sensitivity (largest swing on top; dashed: baseline)")
