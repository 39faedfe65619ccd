"""Per-replication series the charts need (hour-of-week occupancy, daily peaks, toxicity grades,
tocilizumab per week, stock on hand), extracted from a :class:`~sim.model.runlog.RunLog` in the worker
(``extract=collect`` in :func:`sim.analysis.runner.run`) so only small arrays cross the process boundary.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config.scenario import RESOURCES, Scenario
from sim.model.runlog import RunLog

HOURS_PER_WEEK = 168  # an int: it sizes and indexes arrays


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
