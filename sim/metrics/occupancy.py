"""Occupancy of a resource over time, from the step function a :class:`~sim.model.runlog.RunLog` keeps."""

from __future__ import annotations

import numpy as np

from sim.config.scenario import RESOURCES
from sim.model.runlog import RunLog


def step_area(times: list[float], levels: list[int], t0: float, t1: float) -> float:
    """Integral over [t0, t1) of a step function that is ``levels[j]`` from ``times[j]`` on."""
    t = np.asarray(times, dtype=float)
    lv = np.asarray(levels, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(lv[:-1] * np.diff(t))])
    def area_at(x: float) -> float:
        j = int(np.searchsorted(t, x, side="right")) - 1
        if j < 0:
            return 0.0
        return float(cum[j] + lv[j] * (x - t[j]))
    return area_at(t1) - area_at(t0)


def hourly_mean(times: list[float], levels: list[int], t0: float, n_hours: int) -> np.ndarray:
    """Mean occupancy in each hour [t0 + h, t0 + h + 1), h = 0..n_hours-1."""
    t = np.asarray(times, dtype=float)
    lv = np.asarray(levels, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(lv[:-1] * np.diff(t))])
    edges = t0 + np.arange(n_hours + 1, dtype=float)
    j = np.searchsorted(t, edges, side="right") - 1
    area = np.where(j >= 0, cum[np.maximum(j, 0)] + lv[np.maximum(j, 0)] * (edges - t[np.maximum(j, 0)]), 0.0)
    return np.diff(area)


def peak(times: list[float], levels: list[int], t0: float, t1: float) -> int:
    """Highest occupancy reached at any instant in [t0, t1)."""
    t = np.asarray(times, dtype=float)
    lv = np.asarray(levels)
    j0 = int(np.searchsorted(t, t0, side="right")) - 1
    j1 = int(np.searchsorted(t, t1, side="left"))
    return int(lv[max(j0, 0):max(j1, j0 + 1)].max())


def occupancy(log: RunLog) -> np.ndarray:
    """Hourly mean occupancy over the window, shape (hours, resources) in :data:`RESOURCES` order."""
    w0, w1 = log.window
    n_hours = int(round(w1 - w0))
    return np.stack([hourly_mean(log.pools[r][0], log.pools[r][1], w0, n_hours) for r in RESOURCES],
                    axis=1).astype(np.float32)


def daily_peaks(times: list[float], levels: list[int], t0: float, t1: float) -> np.ndarray:
    """Highest occupancy of each whole day inside [t0, t1) of a step function (``levels[j]`` from ``times[j]``).

    A day is ``[24 d, 24 d + 24)`` hours; only days lying wholly inside the window count, so a window that
    starts or ends mid-day loses that part-day rather than comparing it with whole ones. Before the first
    change the level is 0.

    Returns
    -------
    numpy.ndarray
        One integer per whole day, in day order (empty when the window holds no whole day).
    """
    t = np.asarray(times, dtype=float)
    lv = np.asarray(levels, dtype=np.int64)
    first, last = int(np.ceil(t0 / 24.0)), int(np.floor(t1 / 24.0))
    starts = 24.0 * np.arange(first, max(first, last), dtype=float)
    # the level holding at each day's start, then every change before the day ends
    j0 = np.searchsorted(t, starts, side="right") - 1
    j1 = np.searchsorted(t, starts + 24.0, side="left")
    out = np.empty(starts.size, dtype=np.int64)
    for d, (a, b) in enumerate(zip(j0, j1)):
        held = int(lv[a]) if a >= 0 else 0
        out[d] = max(held, int(lv[max(a + 1, 0):b].max(initial=0)))
    return out
