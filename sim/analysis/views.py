"""A finished run as the dashboard and the report keep it: :class:`RunView` folds the KPI rows and
the per-replication series of :func:`sim.metrics.series.collect` into one object.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import stats
from sim.config.scenario import RESOURCES, Scenario
from sim.metrics.series import _fold_hour_of_week


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
    dose_calendar: np.ndarray | None = None  # replication 0's sample doses (series.dose_calendar)
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
    calendar = extras[0].get("dose_calendar") if extras else None
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
                   summary=stats.summary(result.kpis), hour_of_week=np.asarray(how, dtype=float),
                   daily_peak=peaks, peaks_exact=exact, toci_week=toci, grades=grades, seconds=seconds,
                   on_hand=on_hand, stockouts=outs, dose_calendar=calendar)




def capacity_of(scenario: Scenario) -> dict[str, int]:
    """Capacity of every resource, in :data:`~sim.scenario.RESOURCES` order."""
    return {r: int(getattr(scenario.capacity, r)) for r in RESOURCES}


def policy_level(scenario: Scenario) -> float | None:
    """The stock the pharmacy policy aims for (mg): order-up-to level, or reorder point plus quantity."""
    ph = getattr(scenario, "pharmacy", None)
    if ph is None:
        return None
    return float(ph.order_up_to if ph.policy == "periodic" else ph.reorder_point + ph.order_quantity)
