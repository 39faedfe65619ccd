"""Chart data and chart builders for the dashboard and the HTML report.

Everything here is a pure function: data in, a :class:`pandas.DataFrame` or an :class:`altair.Chart`
out. Nothing here imports streamlit (DESIGN.md): the dashboard only lays these out, and the offline
report (:mod:`sim.report`) embeds the very same charts.

The per-replication raw material comes from :func:`collect`, run by :func:`sim.runner.run` in the
worker next to each replication's :class:`~sim.runlog.RunLog` (``extract=collect``), so only small
arrays cross the process boundary. :func:`view_from_result` folds those into a :class:`RunView`, the
one object the dashboard keeps per run.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, NamedTuple

import altair as alt
import numpy as np
import pandas as pd

from sim import cohort as _cohort
from sim import model as _model
from sim.analysis import stats
from sim.model.runlog import PLACE_NAMES, RunLog
from sim.config.scenario import RESOURCES, Scenario, dose_requirements
from sim.analysis.sizing import Target  # the one place that says when an interval meets a target

HOURS_PER_WEEK = 168
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
RESOURCE_LABELS = {
    "chairs": "Infusion chairs",
    "observation_beds": "Observation beds (22-24 h)",
    "ward_beds": "Ward beds",
    "ed_bays": "ED bays",
    "icu_beds": "ICU beds",
}
PLACE_LABELS = {
    "ward": "Ward bed",
    "observation": "Observation bed",
    "clinic": "Infusion chair (clinic monitoring)",
    "home": "Infusion chair, then home",
}
PLACE_COLORS = {"ward": "#b2182b", "observation": "#ef8a62", "clinic": "#2166ac", "home": "#67a9cf"}
GRADE_COLORS = ["#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"]


def _title(text: str, subtitle: str = "") -> alt.TitleParams:
    """A chart title with an explanatory subtitle, neither cut short."""
    return alt.TitleParams(text=text, subtitle=subtitle or alt.Undefined, anchor="start", limit=0)


def _padded(build):
    """Give a chart builder's result ``autosize = pad``: width and height then size the plot area, as in
    Vega-Lite's default, wherever the chart is shown (Streamlit would otherwise fit the whole chart,
    axes and legend included, into the height and squash the plot)."""
    import functools

    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        return build(*args, **kwargs).properties(autosize=alt.AutoSizeParams(type="pad"))

    return wrapper


# --------------------------------------------------------------------------- KPI catalogue

class KpiInfo(NamedTuple):
    """How a KPI is shown: a label a planner reads, its unit, and how to format it."""

    label: str
    unit: str
    kind: str = "count"          # count | share | number | money | hours | days
    help: str = ""


_RES_SHORT = {"chairs": "chairs", "observation_beds": "observation beds", "ward_beds": "ward beds",
              "ed_bays": "ED bays", "icu_beds": "ICU beds"}

KPI_INFO: dict[str, KpiInfo] = {
    "patients_referred": KpiInfo("Patients referred", "patients", "count", "new referrals inside the statistics window"),
    "patients_started": KpiInfo("Patients started", "patients", "count", "first dose given inside the window"),
    "patients_diverted": KpiInfo("Patients referred elsewhere", "patients", "count",
                                 "not started within the maximum start delay"),
    "doses_given": KpiInfo("Doses given", "doses", "count"),
    "doses_postponed": KpiInfo("Doses postponed", "doses", "count", "given later than due for lack of a place"),
    "p_dose_postponed": KpiInfo("Doses postponed (no place)", "% of doses", "share",
                                "share of doses given later than due because no place could be booked"),
    "days_referral_to_first_dose_mean": KpiInfo("Referral to first dose", "days (mean)", "days",
                                                "includes the lead time before the earliest start"),
    "crs_rate": KpiInfo("Patients with CRS", "% of patients started", "share"),
    "crs_grade3plus_rate": KpiInfo("Patients with grade 3+ CRS", "% of patients started", "share"),
    "icans_rate": KpiInfo("Patients with ICANS", "% of patients started", "share"),
    "ed_visits": KpiInfo("ED visits", "visits", "count", "toxicity onsets at home that send the patient to the ED"),
    "unplanned_ward_admissions": KpiInfo("Unplanned ward admissions", "admissions", "count"),
    "icu_admissions": KpiInfo("ICU admissions", "admissions", "count"),
    "icu_bed_days": KpiInfo("ICU bed-days", "bed-days", "number"),
    "icu_boarding_hours": KpiInfo("Hours waiting for an ICU bed", "hours (total)", "hours",
                                  "time patients boarded in the ED or a ward while the ICU was full"),
    "ward_bed_days": KpiInfo("Ward bed-days", "bed-days", "number"),
    "observation_bed_days": KpiInfo("Observation bed-days", "bed-days", "number"),
    "chair_hours": KpiInfo("Infusion-chair hours", "chair-hours", "number"),
    "toci_doses": KpiInfo("Tocilizumab doses", "doses", "count", "treatment and prophylaxis doses"),
    "toci_mg": KpiInfo("Tocilizumab for BTCE patients", "mg", "number",
                       "mg prescribed to this service's patients (treatment and prophylaxis; vial waste not included)"),
    "toci_mg_used": KpiInfo("Tocilizumab dispensed, all services", "mg", "number",
                            "mg dispensed from the shared stock, background demand included"),
    "toci_vials_used_80": KpiInfo("Vials used: 80 mg", "vials", "count"),
    "toci_vials_used_200": KpiInfo("Vials used: 200 mg", "vials", "count"),
    "toci_vials_used_400": KpiInfo("Vials used: 400 mg", "vials", "count"),
    "toci_vials_expired": KpiInfo("Vials expired", "vials", "count"),
    "toci_mg_wasted": KpiInfo("Discarded from opened vials", "mg", "number"),
    "toci_stockout_events": KpiInfo("Stock-out events", "events", "count",
                                    "requests for a dose that the stock on hand could not cover"),
    "toci_doses_delayed": KpiInfo("Patient doses delayed by a stock-out", "doses", "count"),
    "toci_delay_hours_mean": KpiInfo("Mean delay of a delayed dose", "hours", "hours"),
    "toci_on_hand_mean_mg": KpiInfo("Mean stock on hand", "mg", "number"),
    "toci_orders": KpiInfo("Orders placed", "orders", "count"),
    "toci_cost": KpiInfo("Tocilizumab cost", "{currency}", "money", "vials opened or expired, with emergency surcharges"),
    "p_stockout": KpiInfo("Chance of a stock-out", "% of replications", "share",
                          "share of simulated years with at least one stock-out (Wilson 95% CI)"),
    "doses_held_for_stock": KpiInfo("Step-up doses held for want of stock", "doses", "count"),
    "cost_total": KpiInfo("Total cost", "{currency}", "money"),
    "cost_per_patient_started": KpiInfo("Cost per patient started", "{currency} per patient", "money"),
}
for _r in RESOURCES:
    _avail = "opening hours" if _r == "chairs" else "all hours"
    KPI_INFO[f"util_{_r}"] = KpiInfo(f"Utilisation: {_RES_SHORT[_r]}", f"% of {_avail}", "share",
                                     f"time occupied over time available ({_avail})")
    KPI_INFO[f"peak_{_r}"] = KpiInfo(f"Peak occupancy: {_RES_SHORT[_r]}", "places", "count",
                                     "highest number in use at any instant")
    KPI_INFO[f"wait_{_r}_hours_mean"] = KpiInfo(f"Mean wait for {_RES_SHORT[_r]}", "hours", "hours",
                                                "mean wait of a request for a place")

# Hospital use split by the grade of the toxicity that caused it, for when the model records it
# (ed_visits_grade1 ... icu_admissions_grade4); hospital_use_frame uses them as soon as they exist.
for _col, _label in (("ed_visits", "ED visits"), ("unplanned_ward_admissions", "Unplanned ward admissions"),
                     ("icu_admissions", "ICU admissions")):
    for _g in range(1, 5):
        KPI_INFO[f"{_col}_grade{_g}"] = KpiInfo(f"{_label} after grade {_g} toxicity", KPI_INFO[_col].unit, "count")

# Default KPI cards and comparison rows per audience (KPIs missing from a run are skipped).
CAPACITY_KPIS = ("p_dose_postponed", "days_referral_to_first_dose_mean", "patients_started", "patients_diverted",
                 "util_observation_beds", "util_chairs", "util_ward_beds", "util_icu_beds",
                 "observation_bed_days", "ward_bed_days", "icu_boarding_hours", "cost_per_patient_started")
TOCI_KPIS = ("p_stockout", "toci_doses_delayed", "toci_delay_hours_mean", "toci_on_hand_mean_mg",
             "toci_vials_expired", "toci_cost", "toci_doses", "toci_mg", "toci_mg_used", "toci_mg_wasted",
             "toci_orders", "doses_held_for_stock")
COMPARE_KPIS = ("ed_visits", "unplanned_ward_admissions", "icu_admissions", "icu_bed_days", "ward_bed_days",
                "observation_bed_days", "chair_hours", "p_dose_postponed", "days_referral_to_first_dose_mean",
                "crs_rate", "toci_mg", "cost_per_patient_started")
HOSPITAL_USE = (("ed_visits", "ED visits"), ("unplanned_ward_admissions", "Unplanned ward admissions"),
                ("icu_admissions", "ICU admissions"))


def kpi_info(kpi: str, currency: str = "USD") -> KpiInfo:
    """Label, unit and kind of a KPI; a KPI not in the catalogue gets a readable label from its name.

    Parameters
    ----------
    kpi : str
        Column name in the KPI frame.
    currency : str
        Replaces ``{currency}`` in money units.

    Returns
    -------
    KpiInfo
    """
    info = KPI_INFO.get(kpi)
    if info is None:
        kind = "share" if kpi.startswith("p_") or kpi.endswith("_rate") else "number"
        label = kpi.replace("_", " ")
        info = KpiInfo(label[:1].upper() + label[1:], "% " if kind == "share" else "", kind)
    return info._replace(unit=info.unit.replace("{currency}", currency))


def format_value(kpi: str, value: float, currency: str = "USD") -> str:
    """A KPI value as a planner reads it: shares in %, money and counts with thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    kind = kpi_info(kpi, currency).kind
    if kind == "count" and float(value).is_integer():
        return f"{value:,.0f}"
    if kind == "share":
        return f"{100 * value:.1f}%" if abs(value) >= 0.001 or value == 0 else f"{100 * value:.2f}%"
    if kind == "money":
        return f"{value:,.0f}"
    a = abs(value)
    if a >= 100:
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_ci(kpi: str, low: float, high: float, currency: str = "USD") -> str:
    """"a to b" for a 95% CI. Every KPI is a count, share, time or cost, never negative, so a t-interval
    reaching below 0 (few replications, rare events) is shown from 0."""
    if low != low:
        return "n/a"
    return f"{format_value(kpi, max(low, 0.0), currency)} to {format_value(kpi, high, currency)}"


def summary_table(summary: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """The :func:`sim.stats.summary` frame with labels, units and formatted mean and 95% CI."""
    rows = []
    for r in summary.itertuples(index=False):
        info = kpi_info(r.kpi, currency)
        ci = format_ci(r.kpi, r.ci_low, r.ci_high, currency)
        rows.append({"KPI": info.label, "unit": info.unit, "mean": format_value(r.kpi, r.mean, currency),
                     "95% CI": ci, "replications": int(r.n), "column": r.kpi})
    return pd.DataFrame(rows, columns=["KPI", "unit", "mean", "95% CI", "replications", "column"])


# --------------------------------------------------------------------------- per-replication extract

def _daily_extreme(times, values, w0: float, n_days: int, high: bool) -> np.ndarray:
    """Highest (or lowest) value of a step function during each day [w0 + 24 d, w0 + 24 d + 24)."""
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    starts = w0 + 24.0 * np.arange(n_days)
    k = np.searchsorted(t, starts, side="right") - 1
    out = np.where(k >= 0, v[np.maximum(k, 0)], 0.0)   # the value in force as the day begins
    inside = (t >= w0) & (t < w0 + 24.0 * n_days)
    day = ((t[inside] - w0) // 24.0).astype(np.int64)
    (np.maximum if high else np.minimum).at(out, day, v[inside])   # and every change during it
    return out


def collect(log: RunLog, scenario: Scenario) -> dict[str, np.ndarray]:
    """Small per-replication arrays for the charts, computed in the worker next to the run log.

    Parameters
    ----------
    log : RunLog
        One replication's log.
    scenario : Scenario
        Its scenario.

    Returns
    -------
    dict
        ``hour_of_week`` (168, resources): mean occupancy by hour of the week (hour 0 = Monday 00:00);
        ``daily_peak`` (days, resources): highest occupancy at any instant of each day of the window;
        ``toci_week`` (weeks, 2): tocilizumab doses and mg given in each week of the window;
        ``grades`` (2, 4): CRS and ICANS events of grade 1-4 after doses given in the window;
        with a pharmacy, ``on_hand_daily`` (days,): lowest tocilizumab stock (mg) during each day, and
        ``stockout_daily`` (days,): requests that found the stock short that day.
    """
    from sim.metrics import hourly_mean  # metrics owns the step-function maths

    w0, w1 = log.window
    n_days = int(round((w1 - w0) / 24.0))
    n_weeks = int(math.ceil((w1 - w0) / HOURS_PER_WEEK))
    hours = int(round(w1 - w0))
    # fold hourly means onto the week; w0 is added so a window starting mid-week stays right
    how_idx = (np.arange(hours) + int(round(w0))) % HOURS_PER_WEEK
    how_n = np.bincount(how_idx, minlength=HOURS_PER_WEEK).astype(float)
    how_sum = np.zeros((HOURS_PER_WEEK, len(RESOURCES)))
    peaks = np.zeros((n_days, len(RESOURCES)), dtype=np.int16)
    for j, res in enumerate(RESOURCES):
        times, levels = log.pools[res][0], log.pools[res][1]
        how_sum[:, j] = np.bincount(how_idx, weights=hourly_mean(times, levels, w0, hours), minlength=HOURS_PER_WEEK)
        peaks[:, j] = _daily_extreme(times, levels, w0, n_days, high=True)
    toci = np.asarray([e[:3] for e in log.toci], dtype=float).reshape(-1, 3)
    week = np.zeros((n_weeks, 2))
    sel = (toci[:, 0] >= w0) & (toci[:, 0] < w1)
    wk = ((toci[sel, 0] - w0) // HOURS_PER_WEEK).astype(np.int64)
    np.add.at(week[:, 0], wk, toci[sel, 1])
    np.add.at(week[:, 1], wk, toci[sel, 1] * toci[sel, 2])
    given = (log.dose_time >= w0) & (log.dose_time < w1)
    grades = np.zeros((2, 4), dtype=np.int64)
    for i, g in enumerate((log.crs_grade, log.icans_grade)):
        for grade in range(1, 5):
            grades[i, grade - 1] = int(((g == grade) & given).sum())
    out = {"hour_of_week": (how_sum / np.maximum(how_n, 1)[:, None]).astype(np.float32),
           "daily_peak": peaks, "toci_week": week, "grades": grades}
    ph = getattr(log, "pharmacy", None)
    if ph is not None:
        out["on_hand_daily"] = _daily_extreme(ph.on_hand_times, ph.on_hand_mg, w0, n_days, high=False)
        st = np.asarray(ph.stockouts, dtype=float)
        st = st[(st >= w0) & (st < w0 + 24.0 * n_days)]
        out["stockout_daily"] = np.bincount(((st - w0) // 24.0).astype(np.int64), minlength=n_days)[:n_days]
    return out


def _fold_hour_of_week(occupancy: np.ndarray, warmup_weeks: int) -> np.ndarray:
    """(reps, hours, resources) hourly occupancy -> (168, resources) mean by hour of week."""
    hours = occupancy.shape[1]
    idx = (np.arange(hours) + warmup_weeks * HOURS_PER_WEEK) % HOURS_PER_WEEK
    mean_over_reps = occupancy.mean(axis=0)
    out = np.zeros((HOURS_PER_WEEK, occupancy.shape[2]))
    n = np.bincount(idx, minlength=HOURS_PER_WEEK).astype(float)
    for j in range(occupancy.shape[2]):
        out[:, j] = np.bincount(idx, weights=mean_over_reps[:, j], minlength=HOURS_PER_WEEK)
    return out / np.maximum(n, 1)[:, None]


# --------------------------------------------------------------------------- the run as the dashboard keeps it

@dataclass(frozen=True)
class RunView:
    """One run reduced to what the pages, exports and the report show.

    ``daily_peak`` is (reps, days, resources) of instantaneous daily peaks, or hourly-mean peaks
    when ``peaks_exact`` is False (a runner without ``extract``); ``toci_week`` (reps, weeks, 2) and
    ``grades`` (reps, 2, 4) are None in that case.
    """

    scenario: Scenario
    seed: int
    reps: int
    kpis: pd.DataFrame
    summary: pd.DataFrame
    hour_of_week: np.ndarray
    daily_peak: np.ndarray
    peaks_exact: bool
    toci_week: np.ndarray | None
    grades: np.ndarray | None
    seconds: float
    on_hand: np.ndarray | None = None        # (reps, days) lowest tocilizumab stock each day, mg
    stockouts: np.ndarray | None = None      # (reps, days) stock-out events each day
    finished: str = field(default_factory=lambda: _dt.datetime.now().strftime("%Y-%m-%d %H:%M"))

    @property
    def currency(self) -> str:
        """The scenario's cost currency."""
        return self.scenario.costs.currency


def view_from_result(result: Any, seconds: float = math.nan) -> RunView:
    """Fold a :class:`sim.runner.RunResult` (with ``extras`` from :func:`collect`, or with occupancy) into a RunView.

    Raises
    ------
    ValueError
        If the result has neither extras nor occupancy to draw the occupancy charts from.
    """
    extras = getattr(result, "extras", None)
    s = result.scenario
    on_hand = outs = None
    if extras:
        how = np.mean([e["hour_of_week"] for e in extras], axis=0)
        peaks = np.stack([e["daily_peak"] for e in extras])
        toci = np.stack([e["toci_week"] for e in extras])
        grades = np.stack([e["grades"] for e in extras])
        exact = True
        if all("on_hand_daily" in e for e in extras):
            on_hand = np.stack([e["on_hand_daily"] for e in extras])
            outs = np.stack([e["stockout_daily"] for e in extras])
    elif result.occupancy is not None:
        occ = result.occupancy
        how = _fold_hour_of_week(occ, s.run.warmup_weeks)
        n_days = occ.shape[1] // 24
        peaks = np.ceil(occ[:, : n_days * 24].reshape(occ.shape[0], n_days, 24, -1).max(axis=2) - 1e-9).astype(np.int16)
        toci = grades = None
        exact = False
    else:
        raise ValueError("the run kept neither chart extras nor occupancy; run with extract=collect "
                         "or keep_occupancy=True")
    return RunView(scenario=s, seed=int(result.seed), reps=len(result.kpis), kpis=result.kpis,
                   summary=run_summary(result.kpis), hour_of_week=np.asarray(how, dtype=float),
                   daily_peak=peaks, peaks_exact=exact, toci_week=toci, grades=grades, seconds=seconds,
                   on_hand=on_hand, stockouts=outs)


# KPIs that are 0/1 per replication: their mean is a proportion, whose interval is Wilson's, not t.
BINARY_KPIS = ("p_stockout",)


def run_summary(kpis: pd.DataFrame) -> pd.DataFrame:
    """:func:`sim.stats.summary` with Wilson intervals for the 0/1 KPIs of :data:`BINARY_KPIS`."""
    from sim.analysis.stats import wilson

    out = stats.summary(kpis)
    for kpi in BINARY_KPIS:
        if kpi in kpis.columns:
            x = kpis[kpi].to_numpy(dtype=float)
            lo, hi = wilson(int((x > 0).sum()), int(x.size))
            out.loc[out["kpi"] == kpi, ["ci_low", "ci_high"]] = [lo, hi]
    return out


# --------------------------------------------------------------------------- occupancy

def capacity_of(scenario: Scenario) -> dict[str, int]:
    """Capacity of every resource, in :data:`~sim.scenario.RESOURCES` order."""
    return {r: int(getattr(scenario.capacity, r)) for r in RESOURCES}


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
    if how.shape != (HOURS_PER_WEEK, len(RESOURCES)):
        raise ValueError(f"hour_of_week has shape {how.shape}; expected (168, {len(RESOURCES)})")
    rows = []
    for j, res in enumerate(RESOURCES):
        cap = int(capacity[res])
        for h in range(HOURS_PER_WEEK):
            occ = float(how[h, j])
            rows.append({"resource": RESOURCE_LABELS[res], "day": DAY_NAMES[h // 24], "hour": h % 24,
                         "occupancy": occ, "capacity": cap, "share": occ / cap if cap else math.nan})
    return pd.DataFrame(rows)


@_padded
def occupancy_heatmap(frame: pd.DataFrame) -> alt.Chart:
    """Heat map of mean occupancy (share of capacity) by day of week and hour, one panel per resource."""
    base = alt.Chart(frame).mark_rect().encode(
        x=alt.X("hour:O", title="Hour of day", axis=alt.Axis(labelAngle=0, values=list(range(0, 24, 3)))),
        y=alt.Y("day:O", sort=list(DAY_NAMES), title=None, axis=alt.Axis(labelOverlap=False)),
        color=alt.Color("share:Q", title="Mean occupancy, share of capacity",
                        scale=alt.Scale(scheme="orangered", domain=[0, 1], clamp=True),
                        legend=alt.Legend(format="%", orient="bottom", gradientLength=240, titleLimit=400)),
        tooltip=[alt.Tooltip("resource:N", title="Resource"), alt.Tooltip("day:O", title="Day"),
                 alt.Tooltip("hour:O", title="Hour"),
                 alt.Tooltip("occupancy:Q", title="Mean places in use", format=".2f"),
                 alt.Tooltip("capacity:Q", title="Capacity"),
                 alt.Tooltip("share:Q", title="Share of capacity", format=".0%")],
    ).properties(width=260, height=140)
    return base.facet(facet=alt.Facet("resource:N", title=None, sort=[RESOURCE_LABELS[r] for r in RESOURCES]),
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
    if arr.ndim != 3 or arr.shape[2] != len(RESOURCES):
        raise ValueError(f"daily_peak has shape {arr.shape}; expected (reps, days, {len(RESOURCES)})")
    rows = []
    for j, res in enumerate(RESOURCES):
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
        color=alt.Color("reach:N", title="Daily peak",
                        scale=alt.Scale(domain=["below capacity", "at capacity"], range=["#4c78a8", "#e45756"])),
        tooltip=[alt.Tooltip("resource:N", title="Resource"), alt.Tooltip("peak:Q", title="Daily peak"),
                 alt.Tooltip("share:Q", title="Share of days", format=".1%"),
                 alt.Tooltip("days:Q", title="Days (all replications)"), alt.Tooltip("capacity:Q", title="Capacity")],
    )
    cap = alt.Chart().mark_rule(color="#b2182b", strokeDash=[4, 3], size=2).encode(
        x="max(capacity):Q", tooltip=[alt.Tooltip("max(capacity):Q", title="Capacity")])
    return (alt.layer(bars, cap, data=frame).properties(width=240, height=140)
            .facet(facet=alt.Facet("resource:N", title=None, sort=[RESOURCE_LABELS[r] for r in RESOURCES]),
                   columns=3)
            .resolve_scale(x="independent")
            .properties(title=_title("Distribution of the daily peak", "highest number in use each day; dashed red line: capacity")))


# --------------------------------------------------------------------------- toxicity and hospital use

def hospital_use_frame(kpis: pd.DataFrame) -> pd.DataFrame:
    """ED visits, unplanned ward and ICU admissions per replication, by toxicity grade where the run has it.

    A run whose KPIs carry ``ed_visits_grade1`` .. ``_grade4`` (and likewise for the admissions) is
    split by grade; otherwise each use is one row for all grades. Returns use, grade, mean, ci_low,
    ci_high, n.
    """
    rows = []
    for col, label in HOSPITAL_USE:
        split = [f"{col}_grade{g}" for g in range(1, 5)]
        if all(c in kpis.columns for c in split):
            parts = [(f"Grade {g}", kpis[c]) for g, c in enumerate(split, start=1)]
        elif col in kpis.columns:
            parts = [("All grades", kpis[col])]
        else:
            continue
        for grade, values in parts:
            mean, _sd, lo, hi, n = stats.mean_ci(values.to_numpy(dtype=float))
            rows.append({"use": label, "grade": grade, "mean": mean, "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows, columns=["use", "grade", "mean", "ci_low", "ci_high", "n"])


@_padded
def hospital_use_chart(frame: pd.DataFrame) -> alt.Chart:
    """Mean ED visits and unplanned admissions over the window (stacked by grade when split), with 95% CIs."""
    split = set(frame["grade"]) != {"All grades"}
    bars = alt.Chart(frame).mark_bar().encode(
        y=alt.Y("use:N", title=None, sort=[u for _, u in HOSPITAL_USE], axis=alt.Axis(labelLimit=220)),
        x=alt.X("sum(mean):Q" if split else "mean:Q", title="Mean over the statistics window"),
        # one colour and no legend while the run does not split the counts by grade
        color=alt.Color("grade:N", title="Toxicity grade", legend=alt.Legend() if split else None,
                        scale=alt.Scale(range=GRADE_COLORS if split else ["#4c78a8"])),
        tooltip=[alt.Tooltip("use:N", title="Use"), alt.Tooltip("grade:N", title="Grade"),
                 alt.Tooltip("mean:Q", title="Mean", format=".1f"),
                 alt.Tooltip("ci_low:Q", title="95% CI low", format=".1f"),
                 alt.Tooltip("ci_high:Q", title="95% CI high", format=".1f")])
    chart = bars
    if not split:
        err = alt.Chart(frame).mark_errorbar(ticks=True, color="black").encode(
            y=alt.Y("use:N", sort=[u for _, u in HOSPITAL_USE]),
            x=alt.X("ci_low:Q", title="Mean over the statistics window"), x2="ci_high:Q")
        chart = bars + err
    return chart.properties(width=340, height=110, title=_title("ED visits and unplanned admissions", "mean over the statistics window with 95% CI"))


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
        color=alt.Color("toxicity:N", title="Toxicity", scale=alt.Scale(range=["#d95f02", "#7570b3"])),
        tooltip=[alt.Tooltip("toxicity:N"), alt.Tooltip("grade:N"), alt.Tooltip("mean:Q", format=".1f"),
                 alt.Tooltip("ci_low:Q", title="95% CI low", format=".1f"),
                 alt.Tooltip("ci_high:Q", title="95% CI high", format=".1f")])
    err = base.mark_errorbar(ticks=True, color="black").encode(y=alt.Y("ci_low:Q", title="Events over the window (mean)"),
                                                              y2="ci_high:Q")
    return (bars + err).properties(width=340, height=200, title=_title("Toxicity events by grade", "CRS and ICANS after doses given in the window, mean with 95% CI"))


# --------------------------------------------------------------------------- tocilizumab

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
    band = base.mark_area(opacity=0.25, color="#4c78a8").encode(
        y=alt.Y("ci_low:Q", title="Tocilizumab given per week (mg)"), y2="ci_high:Q")
    mean = base.mark_line(color="#4c78a8").encode(
        y="mean_mg:Q",
        tooltip=[alt.Tooltip("week:Q"), alt.Tooltip("mean_mg:Q", title="Mean mg", format=",.0f"),
                 alt.Tooltip("ci_low:Q", title="95% CI low", format=",.0f"),
                 alt.Tooltip("ci_high:Q", title="95% CI high", format=",.0f"),
                 alt.Tooltip("p90_mg:Q", title="90th percentile", format=",.0f"),
                 alt.Tooltip("mean_doses:Q", title="Mean doses", format=".2f")])
    p90 = base.mark_line(color="#4c78a8", strokeDash=[4, 3]).encode(y="p90_mg:Q")
    return alt.layer(band, mean, p90).properties(
        width=620, height=220,
        title=_title("Tocilizumab given per week", "mean (line) with 95% CI band; dashed: 90th percentile across replications"))


def stock_over_time_frame(on_hand: np.ndarray, stockouts: np.ndarray) -> pd.DataFrame:
    """Daily tocilizumab stock across replications: day, mean of the daily low with its 95% CI, 10th
    percentile, and the share of replications with a stock-out that day.

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
    rows = []
    for d in range(oh.shape[1]):
        mean, _sd, lo, hi, _n = stats.mean_ci(oh[:, d])
        rows.append({"day": d, "mean_mg": mean, "ci_low": max(lo, 0.0) if lo == lo else mean, "ci_high": hi if hi == hi else mean,
                     "p10_mg": float(np.percentile(oh[:, d], 10)), "share_stockout": float((so[:, d] > 0).mean())})
    return pd.DataFrame(rows)


@_padded
def stock_over_time_chart(frame: pd.DataFrame, level_mg: float | None = None) -> alt.Chart:
    """Tocilizumab on hand (daily low): mean with 95% CI band, 10th percentile dashed, red markers on
    days with a stock-out in some replication (sized by how many), and the policy's stock level."""
    base = alt.Chart(frame).encode(x=alt.X("day:Q", title="Day of the statistics window",
                                           scale=alt.Scale(domain=[0, int(frame["day"].max()) if len(frame) else 1], nice=False)))
    band = base.mark_area(opacity=0.25, color="#4c78a8").encode(
        y=alt.Y("ci_low:Q", title="Tocilizumab on hand, daily low (mg)"), y2="ci_high:Q")
    mean = base.mark_line(color="#4c78a8").encode(
        y="mean_mg:Q", tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("mean_mg:Q", title="Mean (mg)", format=",.0f"),
                                alt.Tooltip("p10_mg:Q", title="10th percentile (mg)", format=",.0f"),
                                alt.Tooltip("share_stockout:Q", title="Replications with a stock-out", format=".0%")])
    p10 = base.mark_line(color="#4c78a8", strokeDash=[4, 3]).encode(y="p10_mg:Q")
    layers = [band, mean, p10]
    if level_mg is not None:
        layers.append(alt.Chart(pd.DataFrame({"level": [float(level_mg)]})).mark_rule(color="#555", strokeDash=[2, 2])
                      .encode(y="level:Q", tooltip=[alt.Tooltip("level:Q", title="Policy stock level (mg)")]))
    hits = frame[frame["share_stockout"] > 0]
    if len(hits):
        layers.append(alt.Chart(hits.assign(zero=0.0)).mark_point(shape="triangle-up", filled=True, color="#b2182b")
                      .encode(x="day:Q", y="zero:Q",
                              size=alt.Size("share_stockout:Q", title="Replications with a stock-out",
                                            legend=alt.Legend(format="%", values=[0.1, 0.5, 1.0]),
                                            scale=alt.Scale(domain=[0, 1], range=[30, 300])),
                              tooltip=[alt.Tooltip("day:Q"),
                                       alt.Tooltip("share_stockout:Q", title="Replications with a stock-out", format=".0%")]))
    return alt.layer(*layers).properties(
        width=620, height=230,
        title=_title("Tocilizumab stock over time", "lowest stock each day: mean with 95% CI band, 10th percentile dashed; red triangles: stock-outs; grey: policy level"))


STOCK_CURVE_KPIS = ("toci_doses_delayed", "toci_delay_hours_mean", "toci_vials_expired", "toci_cost")


def stock_curve_frame(runs: Mapping[float, pd.DataFrame], level: float = 0.95) -> pd.DataFrame:
    """Stock-out probability against the stock level, from runs at each level on the same seeds.

    Parameters
    ----------
    runs : mapping of stock level (mg) to KPI frame
        Each frame has ``p_stockout`` (1 when the replication had a stock-out).

    Returns
    -------
    DataFrame
        stock_mg, p_stockout, ci_low, ci_high (Wilson), n, and the mean of each of
        :data:`STOCK_CURVE_KPIS` present in the runs.
    """
    from sim.analysis.stats import wilson

    rows = []
    for lvl in sorted(runs):
        k = runs[lvl]
        x = k["p_stockout"].to_numpy(dtype=float)
        hits, n = int((x > 0).sum()), int(x.size)
        lo, hi = wilson(hits, n, level)
        row = {"stock_mg": float(lvl), "p_stockout": hits / n if n else math.nan, "ci_low": lo, "ci_high": hi, "n": n}
        for col in STOCK_CURVE_KPIS:
            if col in k.columns:
                row[col] = float(k[col].mean())
        rows.append(row)
    return pd.DataFrame(rows)


@_padded
def stock_curve_chart(frame: pd.DataFrame, target: float | None = None, param_label: str = "Stock level (mg)") -> alt.Chart:
    """P(at least one stock-out in the window) against the stock level, Wilson 95% band, target line."""
    base = alt.Chart(frame).encode(x=alt.X("stock_mg:Q", title=param_label))
    band = base.mark_area(opacity=0.2, color="#e45756").encode(
        y=alt.Y("ci_low:Q", title="P(at least one stock-out)", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])), y2="ci_high:Q")
    tips = [alt.Tooltip("stock_mg:Q", title=param_label, format=",.0f"),
            alt.Tooltip("p_stockout:Q", title="P(stock-out)", format=".1%"),
            alt.Tooltip("ci_low:Q", title="95% CI low", format=".1%"),
            alt.Tooltip("ci_high:Q", title="95% CI high", format=".1%")]
    tips += [alt.Tooltip(f"{c}:Q", title=kpi_info(c).label, format=",.3g") for c in STOCK_CURVE_KPIS if c in frame]
    line = base.mark_line(point=True, color="#e45756").encode(y="p_stockout:Q", tooltip=tips)
    layers = [band, line]
    if target is not None:
        layers.append(alt.Chart(pd.DataFrame({"target": [target]})).mark_rule(strokeDash=[4, 3], color="black")
                      .encode(y="target:Q"))
    return alt.layer(*layers).properties(width=520, height=230,
                                         title=_title("Chance of a stock-out in the window against the stock level",
                                                      "Wilson 95% band; dashed: target"))


def smallest_stock(curve: pd.DataFrame, target: float) -> float | None:
    """Smallest stock level whose upper Wilson bound on P(stock-out) is at or below ``target``."""
    ok = curve.loc[curve["ci_high"] <= target, "stock_mg"]
    return float(ok.min()) if len(ok) else None


# --------------------------------------------------------------------------- paired comparison

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


# --------------------------------------------------------------------------- capacity curve

def capacity_curve(runs: Mapping[int, pd.DataFrame], kpi: str, level: float = 0.95) -> pd.DataFrame:
    """Mean and t-based CI of one KPI at each capacity tried: capacity, mean, ci_low, ci_high, n."""
    rows = []
    for cap in sorted(runs):
        mean, _sd, lo, hi, n = stats.mean_ci(runs[cap][kpi].to_numpy(dtype=float), level)
        rows.append({"capacity": int(cap), "mean": mean, "ci_low": lo if lo == lo else mean,
                     "ci_high": hi if hi == hi else mean, "n": n})
    return pd.DataFrame(rows, columns=["capacity", "mean", "ci_low", "ci_high", "n"])


def smallest_capacity(curve: pd.DataFrame, target: float, sense: str = "<=") -> int | None:
    """Smallest capacity whose whole 95% CI meets the target (upper bound for "<=", lower for ">=").

    Returns None when no capacity tried meets it.
    """
    if sense not in ("<=", ">="):
        raise ValueError(f"sense = {sense!r}; allowed: '<=' or '>='")
    rule = Target("", sense, target)
    meeting = [int(r.capacity) for r in curve.itertuples(index=False) if rule.met(r.ci_low, r.ci_high)]
    return min(meeting) if meeting else None


@_padded
def capacity_curve_chart(curve: pd.DataFrame, kpi: str, resource: str, target: float | None = None,
                         currency: str = "USD") -> alt.Chart:
    """A KPI against the capacity of one resource: mean, 95% CI band, and the target as a dashed line."""
    info = kpi_info(kpi, currency)
    share = info.kind == "share"
    fmt = ".1%" if share else ",.3g"
    base = alt.Chart(curve).encode(x=alt.X("capacity:Q", title=f"{RESOURCE_LABELS.get(resource, resource)} (places)",
                                           axis=alt.Axis(tickMinStep=1)))
    y_title = f"{info.label} ({info.unit})"
    band = base.mark_area(opacity=0.25, color="#4c78a8").encode(
        y=alt.Y("ci_low:Q", title=y_title, axis=alt.Axis(format="%") if share else alt.Axis()), y2="ci_high:Q")
    line = base.mark_line(point=True, color="#4c78a8").encode(
        y="mean:Q", tooltip=[alt.Tooltip("capacity:Q"), alt.Tooltip("mean:Q", format=fmt),
                             alt.Tooltip("ci_low:Q", title="95% CI low", format=fmt),
                             alt.Tooltip("ci_high:Q", title="95% CI high", format=fmt)])
    layers = [band, line]
    if target is not None:
        layers.append(alt.Chart(pd.DataFrame({"target": [target]})).mark_rule(color="#b2182b", strokeDash=[4, 3])
                      .encode(y="target:Q"))
    return alt.layer(*layers).properties(width=520, height=240,
                                         title=_title(f"{info.label} against capacity", "mean with 95% CI band; dashed red: target"))


# --------------------------------------------------------------------------- dosing calendar

def dosing_calendar(scenario: Scenario, replication: int = 0, patients: int = 12, weeks: int = 10) -> pd.DataFrame:
    """Doses and monitoring stays of the first patients who start after warm-up, for a Gantt chart.

    Runs one replication in this process (``sim.cohort.draw`` then ``sim.model.simulate``). A stay
    starts with premedication (and prophylactic tocilizumab) and lasts the monitoring the strategy
    assigns; the place, the dose time and any CRS/ICANS after the dose come from the run log. Stays
    forced by toxicity (ED, unplanned ward or ICU) are not drawn: the log does not record them per
    patient.

    Parameters
    ----------
    scenario : Scenario
    replication : int
        Which replication to draw the patients from.
    patients : int
        How many patients to show.
    weeks : int
        How many weeks after each patient's referral to show.

    Returns
    -------
    DataFrame
        One row per event: patient, event ("referral" or "dose"), dose, place, start_day and end_day of
        the stay, dose_day (infusion start), hours, crs_grade, icans_grade, postponed_days. Days count
        from the end of warm-up.
    """
    cohort = _cohort.draw(scenario, replication)
    log = _model.simulate(scenario, cohort)
    w0 = log.window[0]
    started = np.flatnonzero(np.isfinite(log.first_dose) & (log.first_dose >= w0))
    chosen = started[np.argsort(log.first_dose[started], kind="stable")][:patients]
    drug, strat = scenario.drug, scenario.strategy
    req = dose_requirements(drug, log.max_doses)
    after_hours = max([r.next_dose_monitor_hours.value for r in drug.management.crs + drug.management.icans] + [0.0])
    rows = []
    for rank, i in enumerate(chosen, start=1):
        label = f"Patient {rank}" + (" (high risk)" if cohort.high_risk[i] else "")
        ref = float(log.referral[i])
        rows.append({"patient": label, "event": "referral", "dose": 0, "place": "referral",
                     "start_day": (ref - w0) / 24.0, "end_day": (ref - w0) / 24.0, "dose_day": math.nan, "hours": 0.0,
                     "crs_grade": 0, "icans_grade": 0, "postponed_days": 0})
        until = ref + weeks * HOURS_PER_WEEK
        for k in range(min(log.max_doses, len(req))):
            t = float(log.dose_time[i, k])
            if not math.isfinite(t) or t > until:
                break
            place = PLACE_NAMES.get(int(log.dose_place[i, k]), "clinic")
            # A dose after a toxicity that asks for longer monitoring: the strategy's after-toxicity rule
            prev_tox = k > 0 and (log.crs_grade[i, k - 1] > 0 or log.icans_grade[i, k - 1] > 0)
            required = req[k][1]
            after = bool(prev_tox and after_hours > required)
            _p, hours = strat.place_for(k + 1, after_hours if after else required, bool(cohort.high_risk[i]),
                                        bool(cohort.eligible[i]), after)
            pro = strat.gives_prophylaxis(k + 1, bool(cohort.high_risk[i]))
            premed, infusion = _chair_times(drug, req[k])
            pre = premed + (strat.prophylaxis.chair_hours.value if pro else 0.0)
            stay = infusion if place == "home" else max(hours, infusion)
            start = t - pre
            rows.append({"patient": label, "event": "dose", "dose": k + 1, "place": place,
                         "start_day": (start - w0) / 24.0, "end_day": (start + pre + stay - w0) / 24.0,
                         "dose_day": (t - w0) / 24.0,
                         "hours": pre + stay, "crs_grade": int(log.crs_grade[i, k]),
                         "icans_grade": int(log.icans_grade[i, k]),
                         "postponed_days": int(log.dose_postponed[i, k])})
    frame = pd.DataFrame(rows, columns=["patient", "event", "dose", "place", "start_day", "end_day", "dose_day",
                                        "hours", "crs_grade", "icans_grade", "postponed_days"])
    return frame


def _chair_times(drug, requirement: tuple) -> tuple[float, float]:
    """(hours before the infusion starts, infusion and hydration hours) of one dose, as the model plans it."""
    block = drug.schedule[requirement[0]]
    if hasattr(drug, "chair_times"):
        return drug.chair_times(block)
    ch = drug.chair  # drug profiles without per-block chair times
    return ch.premedication_hours.value, ch.infusion_hours.value + (ch.hydration_hours.value if requirement[2] else 0.0)


@_padded
def dosing_gantt(frame: pd.DataFrame) -> alt.Chart:
    """Gantt chart: a row per patient, a bar per monitoring stay coloured by place, ticks at dose starts,
    a grey dot at referral and red triangles where CRS or ICANS followed a dose."""
    order = list(dict.fromkeys(frame["patient"]))
    doses = frame[frame["event"] == "dose"].assign(place_label=lambda d: d["place"].map(PLACE_LABELS))
    refs = frame[frame["event"] == "referral"]
    tox = doses[(doses["crs_grade"] > 0) | (doses["icans_grade"] > 0)].assign(
        what=lambda d: np.where(d["crs_grade"] > 0, "CRS grade " + d["crs_grade"].astype(str), "")
        + np.where((d["crs_grade"] > 0) & (d["icans_grade"] > 0), ", ", "")
        + np.where(d["icans_grade"] > 0, "ICANS grade " + d["icans_grade"].astype(str), ""))
    y = alt.Y("patient:N", sort=order, title=None, axis=alt.Axis(labelLimit=220))
    x_title = "Day (0 = end of warm-up, a Monday)"
    places = [p for p in PLACE_LABELS if p in set(doses["place"])] or list(PLACE_LABELS)
    color = alt.Color("place_label:N", title="Monitored in", legend=alt.Legend(labelLimit=320, orient="bottom"),
                      scale=alt.Scale(domain=[PLACE_LABELS[p] for p in places],
                                      range=[PLACE_COLORS[p] for p in places]))
    tip = [alt.Tooltip("patient:N"), alt.Tooltip("dose:Q"), alt.Tooltip("place_label:N", title="Place"),
           alt.Tooltip("start_day:Q", title="Day", format=".2f"), alt.Tooltip("hours:Q", title="Stay (h)", format=".1f"),
           alt.Tooltip("postponed_days:Q", title="Days postponed"),
           alt.Tooltip("crs_grade:Q", title="CRS grade"), alt.Tooltip("icans_grade:Q", title="ICANS grade")]
    bars = alt.Chart(doses).mark_bar(height=12).encode(x=alt.X("start_day:Q", title=x_title), x2="end_day:Q",
                                                       y=y, color=color, tooltip=tip)
    ticks = alt.Chart(doses).mark_tick(thickness=2, size=16).encode(x="start_day:Q", y=y, color=color, tooltip=tip)
    layers = [bars, ticks]
    if len(refs):
        layers.append(alt.Chart(refs).mark_point(filled=True, color="#7f7f7f", size=40).encode(
            x="start_day:Q", y=y, tooltip=[alt.Tooltip("patient:N"),
                                           alt.Tooltip("start_day:Q", title="Referred on day", format=".1f")]))
    if len(tox):
        layers.append(alt.Chart(tox).mark_point(shape="triangle-up", filled=True, color="#67000d", size=70,
                                                yOffset=-9).encode(
            x="start_day:Q", y=y, tooltip=[alt.Tooltip("patient:N"), alt.Tooltip("dose:Q"),
                                           alt.Tooltip("what:N", title="After this dose")]))
    n = max(1, len(order))
    return alt.layer(*layers).properties(
        width=680, height=26 * n,
        title=_title("Dosing calendar of a sample of patients", "grey dot: referral; tick: dose; bar: monitoring stay; red triangle: CRS or ICANS after the dose"))


# --------------------------------------------------------------------------- file names

def policy_level(scenario: Scenario) -> float | None:
    """The stock the pharmacy policy aims for (mg): order-up-to level, or reorder point plus quantity."""
    ph = getattr(scenario, "pharmacy", None)
    if ph is None:
        return None
    return float(ph.order_up_to if ph.policy == "periodic" else ph.reorder_point + ph.order_quantity)


def stamped(stem: str, ext: str, when: _dt.date | None = None) -> str:
    """A date-stamped, filesystem-safe file name such as ``tarlatamab_outpatient_kpis_2026-11-22.csv``."""
    when = when or _dt.date.today()
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "run"
    return f"{safe}_{when.isoformat()}.{ext.lstrip('.')}"
