"""Warm-up: how long a run from empty takes to reach its steady load, and MSER-5 to choose the cut.

A scenario starts with nobody on treatment. Patients on maintenance accumulate (time on therapy is
long), so early weeks understate the load. :func:`weekly_profile` reduces one replication, started
from empty, to weekly mean occupancy per resource and the weekly mean census of patients on
treatment; averaged across replications this is the data of a Welch plot.

MSER-5 (White 1997; White, Cobb and Spratt 2000; Hoad, Robinson and Davies 2011 recommend it for
automated warm-up detection) takes the series in batches of 5 observations, ``Z_1..Z_k``, and picks
the truncation ``d`` (in batches) that minimises

    MSER(d) = sum_{i > d} (Z_i - mean(Z_{d+1..k}))^2 / (k - d)^2,

i.e. the squared standard error of the truncated mean. Only ``d < k/2`` is considered: past half the
series the statistic rests on too few batches and tends to chase the noise at the end. A minimum at
that limit means the run is too short to show the steady state; :class:`MserResult` flags it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import runner
from sim.config.errors import UsageError
from sim.config.scenario import MAX_WEEKS, RESOURCES, Scenario
from sim.config.units import HOURS_PER_WEEK
from sim.metrics import hourly_mean
from sim.model.runlog import RunLog

SERIES = RESOURCES + ("census",)
MIN_WEEKS = 20          # MSER-5 needs at least 4 batches of 5 weeks


@dataclass(frozen=True)
class MserResult:
    """MSER-b on one series.

    ``truncate`` is the suggested warm-up in observations (a multiple of ``batch``), ``statistic``
    the MSER value for each candidate ``d`` (batches), ``at_limit`` True when the minimum is the
    last candidate allowed (the run is probably too short to trust the suggestion).
    """

    truncate: int
    batch: int
    statistic: np.ndarray
    at_limit: bool


def mser(series: np.ndarray, batch: int = 5, max_fraction: float = 0.5) -> MserResult:
    """Suggest how many leading observations of ``series`` to discard (MSER-``batch``).

    Parameters
    ----------
    series : array_like
        One output series in time order, e.g. weekly mean occupancy averaged across replications.
    batch : int
        Batch size (5 for MSER-5). Observations that do not fill a last batch are ignored.
    max_fraction : float
        Largest truncation considered, as a fraction of the batches.

    Returns
    -------
    MserResult

    Raises
    ------
    UsageError
        With fewer than 4 full batches (nothing sensible to choose from) or non-finite values.
    """
    x = np.asarray(series, dtype=float)
    if batch < 1:
        raise UsageError(f"batch = {batch}; allowed: 1 or more")
    if not np.all(np.isfinite(x)):
        raise UsageError("MSER needs finite values")
    k = x.size // batch
    if k < 4:
        raise UsageError(f"series of {x.size} observations gives {k} batches of {batch}; MSER needs at least 4")
    z = x[:k * batch].reshape(k, batch).mean(axis=1)
    # Tail sums give every truncated mean and sum of squares in one pass.
    tail_sum = np.cumsum(z[::-1])[::-1]
    tail_sq = np.cumsum((z * z)[::-1])[::-1]
    d_max = max(1, int(np.floor(k * max_fraction)))
    d = np.arange(d_max)
    m = (k - d).astype(float)
    sse = np.maximum(tail_sq[d] - tail_sum[d] ** 2 / m, 0.0)
    stat = sse / (m * m)
    best = int(np.argmin(stat))
    return MserResult(truncate=best * batch, batch=batch, statistic=stat, at_limit=best == d_max - 1 and d_max > 1)


def weekly_profile(log: RunLog, scenario: Scenario) -> np.ndarray:
    """Weekly mean occupancy per resource and weekly mean census over the run's window.

    A module-level function so it can be passed to :func:`sim.analysis.runner.run` as ``extract``: it runs
    in the worker and sends back a (weeks, 6) float32 array instead of the event log.

    Returns
    -------
    numpy.ndarray
        Shape (weeks, len(RESOURCES) + 1): columns in :data:`SERIES` order.
    """
    w0, w1 = log.window
    weeks = int(round((w1 - w0) / HOURS_PER_WEEK))
    hours = weeks * HOURS_PER_WEEK
    occ = np.stack([hourly_mean(log.pools[r][0], log.pools[r][1], w0, hours) for r in RESOURCES], axis=1)
    # Census: patients who have had a first dose and not yet left, sampled at each hour's midpoint.
    started = np.isfinite(log.first_dose)
    starts = np.sort(log.first_dose[started])
    left = log.left_at[started]
    ends = np.sort(left[np.isfinite(left)])
    t = w0 + np.arange(hours) + 0.5
    census = (np.searchsorted(starts, t, side="right") - np.searchsorted(ends, t, side="right")).astype(float)
    both = np.concatenate([occ, census[:, None]], axis=1)
    return both.reshape(weeks, HOURS_PER_WEEK, len(SERIES)).mean(axis=1).astype(np.float32)


def from_empty(scenario: Scenario, weeks: int) -> Scenario:
    """The scenario from its initial state: no warm-up, ``weeks`` of statistics, no follow-up.

    The initial state is an empty centre, or with ``run.warm_start`` the steady-state maintenance
    population, so the profile shows what the scenario's own warm-up has to cover.
    """
    run = scenario.run.model_copy(update={"warmup_weeks": 0, "horizon_weeks": weeks, "follow_up_weeks": 0})
    return scenario.model_copy(update={"run": run})


def welch_table(profiles: list[np.ndarray]) -> pd.DataFrame:
    """Mean across replications of each weekly series, with its across-replication SD.

    Parameters
    ----------
    profiles : list of arrays
        One :func:`weekly_profile` per replication.

    Returns
    -------
    pandas.DataFrame
        ``week`` (1-based: week 1 is hours 0-167), then ``SERIES`` means and ``SERIES_sd`` columns.
    """
    if not profiles:
        raise UsageError("profiles is empty; allowed: one weekly profile per replication")
    arr = np.stack(profiles).astype(float)  # (reps, weeks, series)
    table = pd.DataFrame({"week": np.arange(1, arr.shape[1] + 1)})
    for j, name in enumerate(SERIES):
        table[name] = arr[:, :, j].mean(axis=0)
    for j, name in enumerate(SERIES):
        table[f"{name}_sd"] = arr[:, :, j].std(axis=0, ddof=1) if arr.shape[0] > 1 else np.nan
    return table


def suggest(table: pd.DataFrame, batch: int = 5) -> pd.DataFrame:
    """MSER-``batch`` warm-up (in weeks) for every series of a :func:`welch_table`.

    A series that never changes (a resource nobody uses) needs no warm-up and gets 0.
    """
    rows = []
    for name in SERIES:
        series = table[name].to_numpy(dtype=float)
        res = mser(series, batch)
        rows.append({"series": name, "warmup_weeks": res.truncate, "at_limit": res.at_limit,
                     "steady_mean": float(series[res.truncate:].mean()),
                     "first_weeks_mean": float(series[:batch].mean())})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class WarmupResult:
    """What :func:`warmup` found: the Welch table, the MSER suggestion per series, and how it was run."""

    scenario: Scenario                   # the scenario as given (its own warm-up is ``run.warmup_weeks``)
    seed: int
    reps: int
    weeks: int
    table: pd.DataFrame                  # :func:`welch_table`
    suggestion: pd.DataFrame             # :func:`suggest`

    @property
    def longest(self) -> int:
        """The longest suggested warm-up over every series, in weeks."""
        return int(self.suggestion["warmup_weeks"].max())


def warmup(scenario: Scenario, reps: int = 20, weeks: int = 156, seed: int | None = None,
           executor: runner.Executor = "processes", workers: int | None = None, scheduler: Any = None,
           progress: runner.Progress | None = None, batch: int = 5) -> WarmupResult:
    """Simulate from the initial state for ``weeks`` weeks and suggest a warm-up per series by MSER.

    Parameters
    ----------
    scenario : Scenario
        Its warm-up, horizon and follow-up are replaced (see :func:`from_empty`).
    reps : int
        Replications averaged in the Welch table.
    weeks : int
        Weeks simulated (:data:`MIN_WEEKS` to ``MAX_WEEKS``).
    seed, executor, workers, scheduler, progress
        As in :func:`sim.analysis.runner.run`.
    batch : int
        MSER batch size (5 for MSER-5).

    Returns
    -------
    WarmupResult
    """
    if isinstance(weeks, bool) or not isinstance(weeks, (int, np.integer)) or not MIN_WEEKS <= weeks <= MAX_WEEKS:
        raise UsageError(f"weeks = {weeks!r}; allowed: {MIN_WEEKS} to {MAX_WEEKS} (MSER-5 needs at least 4 "
                         "batches of 5 weeks)")
    empty = from_empty(scenario, int(weeks))
    result = runner.run(empty, reps, seed=seed, executor=executor, workers=workers, progress=progress,
                        scheduler=scheduler, extract=weekly_profile)
    table = welch_table(result.extras)
    return WarmupResult(scenario=scenario, seed=result.seed, reps=reps, weeks=int(weeks), table=table,
                        suggestion=suggest(table, batch))
