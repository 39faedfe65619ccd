"""Per-replication series the charts need (hour-of-week occupancy, daily peaks, toxicity grades,
tocilizumab per week, stock on hand, the doses of a few sample patients), extracted from a :class:`~sim.model.runlog.RunLog` in the worker
(``extract=collect`` in :func:`sim.analysis.runner.run`) so only small arrays cross the process boundary.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config.scenario import RESOURCES, Scenario
from sim.config.units import HOURS_PER_WEEK
from sim.model.runlog import PLACE_NAMES, RunLog

CALENDAR_PATIENTS = 12  # patients in the dosing calendar: the first to start after warm-up
CALENDAR_WEEKS = 26     # their doses within this many weeks of referral
# One row per dose of the calendar's patients; hours count from the end of warm-up.
CALENDAR_DTYPE = np.dtype([("patient", np.int16), ("high_risk", bool), ("referral", float), ("dose", np.int16),
                           ("place", "U11"), ("stay_start", float), ("dose_time", float), ("stay_end", float),
                           ("crs_grade", np.int8), ("icans_grade", np.int8), ("postponed_days", np.int32)])


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
        ``dose_calendar``: :func:`dose_calendar`'s table;
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
           "daily_peak": peaks, "toci_week": week, "grades": grades, "dose_calendar": dose_calendar(log)}
    ph = getattr(log, "pharmacy", None)
    if ph is not None:
        out["on_hand_daily"] = _daily_extreme(ph.on_hand_times, ph.on_hand_mg, w0, n_days, high=False)
        st = np.asarray(ph.stockouts, dtype=float)
        st = st[(st >= w0) & (st < w0 + 24.0 * n_days)]
        out["stockout_daily"] = np.bincount(((st - w0) // 24.0).astype(np.int64), minlength=n_days)[:n_days]
    return out


def dose_calendar(log: RunLog, patients: int = CALENDAR_PATIENTS, weeks: int = CALENDAR_WEEKS) -> np.ndarray:
    """The doses of the first ``patients`` to start after warm-up, as the model gave them.

    Patients are taken in order of their first dose; each dose given within ``weeks`` of referral is
    a row (:data:`CALENDAR_DTYPE`) with its place, planned stay (premedication and prophylaxis, then
    monitoring), infusion start, the CRS and ICANS grades that followed it and the days it was
    postponed for want of a place. Hours count from the end of warm-up; patients are numbered 1, 2, ...
    """
    w0 = log.window[0]
    started = np.flatnonzero(np.isfinite(log.first_dose) & (log.first_dose >= w0))
    chosen = started[np.argsort(log.first_dose[started], kind="stable")][:patients]
    stay_start, stay_end = log.planned_stays(chosen)
    times = log.dose_time[chosen]
    shown = np.isfinite(times) & (times <= log.referral[chosen, None] + weeks * HOURS_PER_WEEK)
    # doses are given in order, so a patient's shown doses are the first ones
    shown &= np.cumprod(shown, axis=1).astype(bool)
    rank, k = np.nonzero(shown)
    i = chosen[rank]
    out = np.zeros(rank.size, dtype=CALENDAR_DTYPE)
    out["patient"], out["high_risk"], out["referral"] = rank + 1, log.high_risk[i], log.referral[i] - w0
    out["dose"], out["place"] = k + 1, [PLACE_NAMES.get(int(c), "clinic") for c in log.dose_place[i, k]]
    out["stay_start"], out["dose_time"], out["stay_end"] = (stay_start[rank, k] - w0, times[rank, k] - w0,
                                                           stay_end[rank, k] - w0)
    out["crs_grade"], out["icans_grade"] = log.crs_grade[i, k], log.icans_grade[i, k]
    out["postponed_days"] = log.dose_postponed[i, k]
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
