"""Capacity charts: occupancy by hour of week, daily peaks against capacity, hospital use by grade, cost
by resource."""

from __future__ import annotations

import math
from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from sim.analysis import stats
from sim.charts.format import HOSPITAL_USE
from sim.charts.style import (
    ALERT,
    DAY_NAMES,
    FULL_WIDTH,
    GRADE_COLORS,
    MAIN,
    RESOURCE_LABELS,
    SEQUENTIAL_SCHEME,
    TOXICITY_COLORS,
    _padded,
    _title,
)
from sim.config.registry import COST_BREAKDOWN, RESOURCE_NAMES
from sim.config.units import HOURS_PER_DAY, HOURS_PER_WEEK
from sim.metrics.formats import KPI_INFO


def hour_of_week_frame(hour_of_week: np.ndarray, capacity: Mapping[str, int]) -> pd.DataFrame:
    """Long table for the heat map: resource, day, hour, mean occupancy, capacity and share of capacity.

    Parameters
    ----------
    hour_of_week : ndarray (168, resources)
        Mean occupancy by hour of the week, hour 0 = Monday 00:00.
    capacity : mapping
        Places per resource.
    """
    how = np.asarray(hour_of_week, dtype=float)
    if how.shape != (HOURS_PER_WEEK, len(RESOURCE_NAMES)):
        raise ValueError(f"hour_of_week has shape {how.shape}; expected ({HOURS_PER_WEEK}, {len(RESOURCE_NAMES)})")
    rows = []
    for j, res in enumerate(RESOURCE_NAMES):
        cap = int(capacity[res])
        for h in range(HOURS_PER_WEEK):
            occ = float(how[h, j])
            rows.append({"resource": RESOURCE_LABELS[res], "day": DAY_NAMES[h // HOURS_PER_DAY],
                         "hour": h % HOURS_PER_DAY,
                         "occupancy": occ, "capacity": cap, "share": occ / cap if cap else math.nan})
    return pd.DataFrame(rows)


@_padded
def occupancy_heatmap(frame: pd.DataFrame) -> alt.Chart:
    """Heat map of mean occupancy (share of capacity) by day of week and hour, one panel per resource."""
    base = alt.Chart(frame).mark_rect().encode(
        x=alt.X("hour:O", title="Hour of day", axis=alt.Axis(labelAngle=0, values=list(range(0, 24, 3)))),
        y=alt.Y("day:O", sort=list(DAY_NAMES), title=None, axis=alt.Axis(labelOverlap=False)),
        color=alt.Color("share:Q", title="Mean occupancy, share of capacity",
                        scale=alt.Scale(scheme=SEQUENTIAL_SCHEME, reverse=True, domain=[0, 1], clamp=True),
                        legend=alt.Legend(format="%", orient="bottom", gradientLength=240, titleLimit=400)),
        tooltip=[alt.Tooltip("resource:N", title="Resource"), alt.Tooltip("day:O", title="Day"),
                 alt.Tooltip("hour:O", title="Hour"),
                 alt.Tooltip("occupancy:Q", title="Mean places in use", format=".2f"),
                 alt.Tooltip("capacity:Q", title="Capacity"),
                 alt.Tooltip("share:Q", title="Share of capacity", format=".0%")],
    ).properties(width=260, height=140)
    return base.facet(facet=alt.Facet("resource:N", title=None, sort=[RESOURCE_LABELS[r] for r in RESOURCE_NAMES]),
                      columns=2).properties(title=_title("Mean occupancy by hour of the week", "share of capacity in use, averaged over weeks and replications"))


def daily_peak_frame(daily_peak: np.ndarray, capacity: Mapping[str, int]) -> pd.DataFrame:
    """Distribution of the daily peak per resource: resource, peak, share of days, capacity.

    Parameters
    ----------
    daily_peak : ndarray (reps, days, resources)
        Highest occupancy of each day in each replication.
    capacity : mapping
        Places per resource (drawn as the capacity line).
    """
    arr = np.asarray(daily_peak)
    if arr.ndim != 3 or arr.shape[2] != len(RESOURCE_NAMES):
        raise ValueError(f"daily_peak has shape {arr.shape}; expected (reps, days, {len(RESOURCE_NAMES)})")
    rows = []
    for j, res in enumerate(RESOURCE_NAMES):
        values = arr[:, :, j].reshape(-1)
        total = values.size
        counts = np.bincount(values.astype(np.int64), minlength=int(capacity[res]) + 1)
        for peak, c in enumerate(counts):
            rows.append({"resource": RESOURCE_LABELS[res], "peak": peak, "days": int(c),
                         "share": c / total if total else 0.0, "capacity": int(capacity[res]),
                         "reach": "at capacity" if peak >= int(capacity[res]) else "below capacity"})
    return pd.DataFrame(rows)


@_padded
def daily_peak_chart(frame: pd.DataFrame) -> alt.Chart:
    """Bar chart of the share of days reaching each peak occupancy, with the capacity as a red line."""
    bars = alt.Chart().mark_bar(size=14).encode(
        x=alt.X("peak:Q", title="Highest number in use during the day", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("share:Q", title="Share of days", axis=alt.Axis(format="%")),
        color=alt.Color("reach:N", title="Daily peak", legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=["below capacity", "at capacity"], range=[MAIN, ALERT])),
        tooltip=[alt.Tooltip("resource:N", title="Resource"), alt.Tooltip("peak:Q", title="Daily peak"),
                 alt.Tooltip("share:Q", title="Share of days", format=".1%"),
                 alt.Tooltip("days:Q", title="Days (all replications)"), alt.Tooltip("capacity:Q", title="Capacity")],
    )
    cap = alt.Chart().mark_rule(color=ALERT, strokeDash=[4, 3], size=2).encode(
        x="max(capacity):Q", tooltip=[alt.Tooltip("max(capacity):Q", title="Capacity")])
    return (alt.layer(bars, cap, data=frame).properties(width=180, height=140)
            .facet(facet=alt.Facet("resource:N", title=None, sort=[RESOURCE_LABELS[r] for r in RESOURCE_NAMES]),
                   columns=3)
            .resolve_scale(x="independent")
            .properties(title=_title("Distribution of the daily peak", "highest number in use each day; dashed red line: capacity")))


def hospital_use_frame(kpis: pd.DataFrame) -> pd.DataFrame:
    """ED visits, unplanned ward and ICU admissions per replication, by the toxicity grade that caused them.

    Reads the ``ed_visits_grade1`` .. ``_grade4`` columns (and likewise for the admissions); a frame
    without them (not a run's KPIs) gives no rows. Returns use, grade, mean, ci_low, ci_high, n, and
    the use's total over the grades with its 95% CI (total_mean, total_ci_low, total_ci_high: the sum
    per replication, so its interval is not the sum of the grades' intervals).
    """
    rows = []
    for col, label in HOSPITAL_USE:
        split = [f"{col}_grade{g}" for g in range(1, 5)]
        if not all(c in kpis.columns for c in split):
            continue
        total, _sd, t_lo, t_hi, _n = stats.mean_ci(kpis[split].to_numpy(dtype=float).sum(axis=1))
        for grade, values in ((f"Grade {g}", kpis[c]) for g, c in enumerate(split, start=1)):
            mean, _sd, lo, hi, n = stats.mean_ci(values.to_numpy(dtype=float))
            rows.append({"use": label, "grade": grade, "mean": mean, "ci_low": lo, "ci_high": hi, "n": n,
                         "total_mean": total, "total_ci_low": max(t_lo, 0.0), "total_ci_high": t_hi})
    return pd.DataFrame(rows, columns=["use", "grade", "mean", "ci_low", "ci_high", "n", "total_mean",
                                       "total_ci_low", "total_ci_high"])


@_padded
def hospital_use_chart(frame: pd.DataFrame) -> alt.Chart:
    """Mean ED visits and unplanned admissions over the window, stacked by the grade that caused them,
    with the 95% CI of each total as an error bar; the legend sits below so the chart fits its column."""
    order = [u for _, u in HOSPITAL_USE]
    x_title = "Mean over the statistics window"
    bars = alt.Chart(frame).mark_bar().encode(
        y=alt.Y("use:N", title=None, sort=order, axis=alt.Axis(labelLimit=200)),
        x=alt.X("sum(mean):Q", title=x_title),
        color=alt.Color("grade:N", title="Toxicity grade", scale=alt.Scale(range=GRADE_COLORS),
                        legend=alt.Legend(orient="bottom", direction="horizontal")),
        order=alt.Order("grade:N"),
        tooltip=[alt.Tooltip("use:N", title="Use"), alt.Tooltip("grade:N", title="Grade"),
                 alt.Tooltip("mean:Q", title="Mean", format=".1f"),
                 alt.Tooltip("ci_low:Q", title="95% CI low", format=".1f"),
                 alt.Tooltip("ci_high:Q", title="95% CI high", format=".1f")])
    totals = frame.drop_duplicates("use")
    err = alt.Chart(totals).mark_errorbar(ticks=True, color="black").encode(
        y=alt.Y("use:N", sort=order), x=alt.X("total_ci_low:Q", title=x_title), x2="total_ci_high:Q",
        tooltip=[alt.Tooltip("use:N", title="Use"), alt.Tooltip("total_mean:Q", title="Total, mean", format=".1f"),
                 alt.Tooltip("total_ci_low:Q", title="95% CI low", format=".1f"),
                 alt.Tooltip("total_ci_high:Q", title="95% CI high", format=".1f")])
    return (bars + err).properties(width=FULL_WIDTH - 220, height=110, title=_title(
        "ED visits and unplanned admissions", "mean over the statistics window by toxicity grade; "
                                              "bars: 95% CI of each total"))


def cost_breakdown_frame(kpis: pd.DataFrame) -> pd.DataFrame:
    """The parts of ``cost_total`` (``COST_BREAKDOWN``) per replication: part, mean, ci_low, ci_high, n.

    A run saved before the breakdown existed has none of its columns and gives an empty frame.
    """
    rows = []
    for col in COST_BREAKDOWN:
        if col in kpis.columns:
            mean, _sd, lo, hi, n = stats.mean_ci(kpis[col].to_numpy(dtype=float))
            rows.append({"part": KPI_INFO[col].label.removeprefix("Cost: "), "mean": mean, "ci_low": lo,
                         "ci_high": hi, "n": n})
    return pd.DataFrame(rows, columns=["part", "mean", "ci_low", "ci_high", "n"])


@_padded
def cost_breakdown_chart(frame: pd.DataFrame, currency: str = "USD") -> alt.Chart:
    """What ``cost_total`` is made of: mean cost of each part over the window, with 95% CIs."""
    order = list(frame["part"])
    bars = alt.Chart(frame).mark_bar(color=MAIN).encode(
        y=alt.Y("part:N", title=None, sort=order, axis=alt.Axis(labelLimit=220)),
        x=alt.X("mean:Q", title=f"{currency} over the statistics window"),
        tooltip=[alt.Tooltip("part:N", title="Cost of"), alt.Tooltip("mean:Q", title="Mean", format=",.0f"),
                 alt.Tooltip("ci_low:Q", title="95% CI low", format=",.0f"),
                 alt.Tooltip("ci_high:Q", title="95% CI high", format=",.0f")])
    err = alt.Chart(frame).mark_errorbar(ticks=True, color="black").encode(
        y=alt.Y("part:N", sort=order), x=alt.X("ci_low:Q", title=f"{currency} over the statistics window"),
        x2="ci_high:Q")
    return (bars + err).properties(width=FULL_WIDTH - 220, height=150, title=_title(
        "Cost by resource", "operating cost; chair revenue forgone is not included"))


def toxicity_grade_frame(grades: np.ndarray) -> pd.DataFrame:
    """CRS and ICANS events by grade: toxicity, grade, mean events per replication, 95% CI.

    Parameters
    ----------
    grades : ndarray (reps, 2, 4)
        Events of grade 1-4 (CRS row 0, ICANS row 1) after doses given in the window.
    """
    arr = np.asarray(grades, dtype=float)
    if arr.ndim != 3 or arr.shape[1:] != (2, 4):
        raise ValueError(f"grades has shape {arr.shape}; expected (reps, 2, 4)")
    rows = []
    for i, kind in enumerate(("CRS", "ICANS")):
        for g in range(4):
            mean, _sd, lo, hi, n = stats.mean_ci(arr[:, i, g])
            rows.append({"toxicity": kind, "grade": f"Grade {g + 1}", "mean": mean, "ci_low": lo,
                         "ci_high": hi, "n": n})
    return pd.DataFrame(rows)


@_padded
def toxicity_grade_chart(frame: pd.DataFrame) -> alt.Chart:
    """Grouped bars of CRS and ICANS events by grade with 95% CIs."""
    base = alt.Chart(frame).encode(
        x=alt.X("grade:N", title=None, axis=alt.Axis(labelAngle=0)),
        xOffset="toxicity:N")
    bars = base.mark_bar().encode(
        y=alt.Y("mean:Q", title="Events over the window (mean)"),
        color=alt.Color("toxicity:N", title="Toxicity",
                        scale=alt.Scale(domain=list(TOXICITY_COLORS), range=list(TOXICITY_COLORS.values())),
                        legend=alt.Legend(orient="bottom", direction="horizontal")),
        tooltip=[alt.Tooltip("toxicity:N"), alt.Tooltip("grade:N"), alt.Tooltip("mean:Q", format=".1f"),
                 alt.Tooltip("ci_low:Q", title="95% CI low", format=".1f"),
                 alt.Tooltip("ci_high:Q", title="95% CI high", format=".1f")])
    err = base.mark_errorbar(ticks=True, color="black").encode(y=alt.Y("ci_low:Q", title="Events over the window (mean)"),
                                                              y2="ci_high:Q")
    return (bars + err).properties(width=FULL_WIDTH - 160, height=200, title=_title(
        "Toxicity events by grade", "CRS and ICANS after doses given in the window, mean with 95% CI"))
