"""Tocilizumab stock charts: weekly use, stock on hand over time, and the stock-out curve."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sim.analysis import stats
from sim.charts.style import ALERT, FULL_WIDTH, MAIN, NEUTRAL, _padded, _title
from sim.metrics.formats import format_ci, format_value, kpi_info


def toci_weekly_frame(toci_week: np.ndarray) -> pd.DataFrame:
    """Weekly tocilizumab use across replications: week, mean mg, 95% CI of the mean, 90th percentile, mean doses.

    Parameters
    ----------
    toci_week : ndarray (reps, weeks, 2)
        Doses and mg given in each week of the window, per replication.
    """
    arr = np.asarray(toci_week, dtype=float)
    if arr.ndim != 3 or arr.shape[2] != 2:
        raise ValueError(f"toci_week has shape {arr.shape}; expected (reps, weeks, 2)")
    rows = []
    for w in range(arr.shape[1]):
        mg = arr[:, w, 1]
        mean, _sd, lo, hi, _n = stats.mean_ci(mg)
        rows.append({"week": w + 1, "mean_mg": mean, "ci_low": max(lo, 0.0) if lo == lo else mean,
                     "ci_high": hi if hi == hi else mean, "p90_mg": float(np.percentile(mg, 90)),
                     "mean_doses": float(arr[:, w, 0].mean())})
    return pd.DataFrame(rows)


@_padded
def toci_weekly_chart(frame: pd.DataFrame) -> alt.Chart:
    """Weekly tocilizumab given: mean with 95% CI band and the 90th percentile across replications."""
    base = alt.Chart(frame).encode(x=alt.X("week:Q", title="Week of the statistics window",
                                           axis=alt.Axis(format="d", tickMinStep=1),
                                           scale=alt.Scale(domain=[1, int(frame["week"].max())])))
    band = base.mark_area(opacity=0.25, color=MAIN).encode(
        y=alt.Y("ci_low:Q", title="Tocilizumab given per week (mg)"), y2="ci_high:Q")
    mean = base.mark_line(color=MAIN).encode(
        y="mean_mg:Q",
        tooltip=[alt.Tooltip("week:Q"), alt.Tooltip("mean_mg:Q", title="Mean mg", format=",.0f"),
                 alt.Tooltip("ci_low:Q", title="95% CI low", format=",.0f"),
                 alt.Tooltip("ci_high:Q", title="95% CI high", format=",.0f"),
                 alt.Tooltip("p90_mg:Q", title="90th percentile", format=",.0f"),
                 alt.Tooltip("mean_doses:Q", title="Mean doses", format=".2f")])
    p90 = base.mark_line(color=MAIN, strokeDash=[4, 3]).encode(y="p90_mg:Q")
    return alt.layer(band, mean, p90).properties(
        width=FULL_WIDTH, height=220,
        title=_title("Tocilizumab given per week", "mean (line) with 95% CI band; dashed: 90th percentile across replications"))


def stock_over_time_frame(on_hand: np.ndarray, stockouts: np.ndarray) -> pd.DataFrame:
    """Daily tocilizumab stock across replications: day, mean of the daily low with its 95% CI, 10th
    percentile, the share of replications with a stock-out that day, and that share for the day's week
    (``share_stockout_week``, weeks counted from day 0).

    Parameters
    ----------
    on_hand : ndarray (reps, days)
        Lowest stock (mg) during each day.
    stockouts : ndarray (reps, days)
        Stock-out events each day.
    """
    oh = np.asarray(on_hand, dtype=float)
    so = np.asarray(stockouts, dtype=float)
    if oh.ndim != 2 or oh.shape != so.shape:
        raise ValueError(f"on_hand {oh.shape} and stockouts {so.shape} must both be (reps, days)")
    days = oh.shape[1]
    # share of replications with a stock-out on some day of each week (weeks from day 0; the last may be short)
    short = np.zeros((so.shape[0], -(-days // 7) * 7), dtype=bool)
    short[:, :days] = so > 0
    week_share = short.reshape(so.shape[0], -1, 7).any(axis=2).mean(axis=0)
    rows = []
    for d in range(days):
        mean, _sd, lo, hi, _n = stats.mean_ci(oh[:, d])
        rows.append({"day": d, "mean_mg": mean, "ci_low": max(lo, 0.0) if lo == lo else mean, "ci_high": hi if hi == hi else mean,
                     "p10_mg": float(np.percentile(oh[:, d], 10)), "share_stockout": float((so[:, d] > 0).mean()),
                     "share_stockout_week": float(week_share[d // 7]) if len(week_share) else 0.0})
    return pd.DataFrame(rows)


def stockout_weeks(frame: pd.DataFrame) -> pd.DataFrame:
    """Days of :func:`stock_over_time_frame` folded into weeks: week (from 1), first and end day, and the
    share of replications with a stock-out on some day of it, so many stock-outs read as one darker week
    rather than a solid band of daily markers."""
    out = frame.groupby(frame["day"] // 7).agg(day=("day", "min"), last=("day", "max"),
                                               share_stockout=("share_stockout_week", "first"))
    out = out.rename_axis("week").reset_index()
    return out.assign(week=out["week"] + 1, end=out["last"] + 1).drop(columns="last")


@_padded
def stock_over_time_chart(frame: pd.DataFrame, level_mg: float | None = None) -> alt.Chart:
    """Tocilizumab on hand (daily low): mean with 95% CI band, 10th percentile dashed, the policy's stock
    level, and under it a strip of weeks shaded by the share of replications with a stock-out that week."""
    last = int(frame["day"].max()) + 1 if len(frame) else 1
    x_scale = alt.Scale(domain=[0, last], nice=False)
    base = alt.Chart(frame).encode(x=alt.X("day:Q", title=None, scale=x_scale))
    band = base.mark_area(opacity=0.25, color=MAIN).encode(
        y=alt.Y("ci_low:Q", title="Tocilizumab on hand, daily low (mg)"), y2="ci_high:Q")
    mean = base.mark_line(color=MAIN).encode(
        y="mean_mg:Q", tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("mean_mg:Q", title="Mean (mg)", format=",.0f"),
                                alt.Tooltip("p10_mg:Q", title="10th percentile (mg)", format=",.0f"),
                                alt.Tooltip("share_stockout:Q", title="Replications with a stock-out", format=".0%")])
    p10 = base.mark_line(color=MAIN, strokeDash=[4, 3]).encode(y="p10_mg:Q")
    layers = [band, mean, p10]
    if level_mg is not None:
        layers.append(alt.Chart(pd.DataFrame({"level": [float(level_mg)]})).mark_rule(color=NEUTRAL, strokeDash=[2, 2])
                      .encode(y="level:Q", tooltip=[alt.Tooltip("level:Q", title="Policy stock level (mg)")]))
    weeks = stockout_weeks(frame)
    # one cell per week, darker with the share of replications short that week: density reads at a glance
    strip = alt.Chart(weeks).mark_rect(color=ALERT, stroke="white", strokeWidth=0.5).encode(
        x=alt.X("day:Q", title="Day of the statistics window", scale=x_scale), x2="end:Q",
        opacity=alt.Opacity("share_stockout:Q", title="Replications with a stock-out that week",
                            scale=alt.Scale(domain=[0, 1], range=[0, 1]),
                            legend=alt.Legend(format="%", orient="bottom", values=[0.1, 0.5, 1.0])),
        tooltip=[alt.Tooltip("week:Q", title="Week"),
                 alt.Tooltip("share_stockout:Q", title="Replications with a stock-out that week", format=".0%")],
    ).properties(width=FULL_WIDTH, height=22, title=alt.TitleParams(
        "Weeks with a stock-out (darker: in more replications)", fontSize=11, fontWeight="normal", anchor="start"))
    return alt.vconcat(alt.layer(*layers).properties(width=FULL_WIDTH, height=210), strip, spacing=6).properties(
        title=_title("Tocilizumab stock over time", "lowest stock each day: mean with 95% CI band, 10th percentile "
                     "dashed; grey: policy level; red strip: weeks with a stock-out"))


STOCK_CURVE_KPIS = ("toci_doses_delayed", "toci_delay_hours_mean", "toci_vials_expired", "toci_cost")


@_padded
def stock_curve_chart(frame: pd.DataFrame, target: float | None = None, param_label: str = "Stock level (mg)",
                      currency: str = "USD") -> alt.Chart:
    """P(at least one stock-out in the window) against the stock level, Wilson 95% band, target line."""
    base = alt.Chart(frame).encode(x=alt.X("stock_mg:Q", title=param_label))
    band = base.mark_area(opacity=0.2, color=ALERT).encode(
        # a square-root axis: a 5% target sits a fifth of the way up, not flattened against 0 as on 0-100%
        y=alt.Y("ci_low:Q", title="P(at least one stock-out)",
                axis=alt.Axis(format="%", values=[0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]),
                scale=alt.Scale(type="sqrt", domain=[0, 1])), y2="ci_high:Q")
    tips = [alt.Tooltip("stock_mg:Q", title=param_label, format=",.0f"),
            alt.Tooltip("p_stockout:Q", title="P(stock-out)", format=".1%"),
            alt.Tooltip("ci_low:Q", title="95% CI low", format=".1%"),
            alt.Tooltip("ci_high:Q", title="95% CI high", format=".1%")]
    tips += [alt.Tooltip(f"{c}:Q", title=f"{kpi_info(c, currency).label} ({kpi_info(c, currency).unit})",
                         format=",.0f" if kpi_info(c).kind == "money" else ",.3~r")   # "r": never 1e-05
             for c in STOCK_CURVE_KPIS if c in frame]
    line = base.mark_line(point=True, color=ALERT).encode(y="p_stockout:Q", tooltip=tips)
    layers = [band, line]
    if target is not None:
        layers.append(alt.Chart(pd.DataFrame({"target": [target]})).mark_rule(strokeDash=[4, 3], color=NEUTRAL)
                      .encode(y="target:Q"))
    return alt.layer(*layers).properties(width=520, height=230,
                                         title=_title("Chance of a stock-out in the window against the stock level",
                                                      "Wilson 95% band; dashed: target; square-root axis"))


def stock_table(curve: pd.DataFrame, param: str, target: float | None = None, currency: str = "USD",
                param_label: str = "Stock level (mg)") -> pd.DataFrame:
    """The stock-out curve as a reader sees it: headers in words with their units, P(stock-out) and its
    Wilson interval in %, costs with their currency, and whether each level meets the target.

    Parameters
    ----------
    curve : DataFrame
        :func:`sim.stock_curve`: the parameter's column ``param``, replications, p_stockout with its
        ``_ci_low``/``_ci_high``, and the means of :data:`STOCK_CURVE_KPIS`.
    param : str
        The stock parameter's column, e.g. ``pharmacy.order_up_to``.
    target : float, optional
        Highest acceptable P(stock-out) (0-1), judged on the upper 95% bound.
    currency : str
        The scenario's currency.
    param_label : str
        The header of the stock level column.
    """
    out = pd.DataFrame({
        param_label: [f"{v:,.0f}" for v in curve[param]],
        "Chance of a stock-out": [format_value("p_stockout", v) for v in curve["p_stockout"]],
        "95% CI (Wilson)": [format_ci("p_stockout", lo, hi) for lo, hi in
                            zip(curve["p_stockout_ci_low"], curve["p_stockout_ci_high"])],
        "Replications": [f"{int(n):,}" for n in curve["replications"]],
    })
    if target is not None:
        out[f"Upper bound ≤ {format_value('p_stockout', target)}"] = [
            "yes" if hi <= target else "no" for hi in curve["p_stockout_ci_high"]]
    for c in STOCK_CURVE_KPIS:
        if c in curve:
            info = kpi_info(c, currency)
            header = info.label if info.kind == "money" else f"{info.label} ({info.unit})"
            out[header] = [format_value(c, v, currency) for v in curve[c]]
    return out
