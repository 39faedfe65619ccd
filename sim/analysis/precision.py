"""How many replications: the confidence-interval method with the look-ahead of Hoad, Robinson and
Davies (2010), "Automated selection of the number of replications for a discrete-event
simulation", J. Oper. Res. Soc. 61(11):1632-1644.

After ``n`` replications the relative precision of a KPI is ``d_n = h_n / |mean_n|``, with ``h_n``
the half-width of the Student-t interval. The CI method stops at the first ``n`` with
``d_n <= target``; since ``d_n`` wanders while ``n`` is small, the replications algorithm only
accepts such an ``n`` (``Nsol``) once ``d_m <= target`` also held for every ``m`` in
``Nsol .. Nsol + f(kLimit, Nsol)``, where ``f(kLimit, n) = kLimit`` for ``n <= 100`` and
``floor(kLimit * n / 100)`` beyond (the look-ahead grows with ``n``). A run of several KPIs needs
the largest ``Nsol`` among them, each confirmed by its own look-ahead.

Zero means. Relative precision is undefined at a mean of 0. The rule here: a KPI whose interval
has zero width (every replication so far gave the same value, including all zeros) has
``d_n = 0`` and meets any target; a KPI with mean exactly 0 but a non-zero half-width has
``d_n = inf`` and never does. In practice the KPIs are non-negative, so a zero mean means all
replications were 0, and a rare event that finally shows up (say ICU boarding) widens the interval
and restarts the search, as the look-ahead intends. KPIs that are rarely non-zero can need far more
replications than ``--max-reps``; the report then says the target was not reached.

:func:`run_to_precision` runs the batches (``python -m sim run --precision`` and the dashboard's
Replications page); the rest are pure functions on arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from sim import metrics
from sim.analysis import runner
from sim.analysis.stats import check_kpis, t_quantile
from sim.config.errors import UsageError
from sim.config.scenario import Scenario

INITIAL_REPLICATIONS = 3
K_LIMIT = 5


def look_ahead(n: int, k_limit: int = K_LIMIT) -> int:
    """``f(kLimit, n)``: extra replications that must keep the precision before ``n`` is accepted."""
    return k_limit if n <= 100 else int(math.floor(k_limit * n / 100))


def relative_precision(values: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """``d_n`` for every prefix ``n = 1..N`` of ``values`` (NaN where ``n < 2``).

    Parameters
    ----------
    values : array_like
        One KPI, in replication order.
    alpha : float
        1 - confidence level.

    Returns
    -------
    numpy.ndarray
        ``half_width / |mean|`` after each replication; 0 for a zero-width interval,
        ``inf`` for a zero mean with a non-zero half-width.
    """
    x = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(x)):
        raise UsageError("relative_precision needs finite values")
    n = np.arange(1, x.size + 1, dtype=float)
    # Shift by the first value so a constant series has exactly zero variance (no round-off).
    y = x - x[0] if x.size else x
    s1, s2 = np.cumsum(y), np.cumsum(y * y)
    mean = x[0] + s1 / n if x.size else s1
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1)
        half = t_quantile(1 - alpha / 2, n - 1) * np.sqrt(var / n)
        d = np.where(half == 0.0, 0.0, half / np.abs(mean))
    d[n < 2] = np.nan
    return d


@dataclass(frozen=True)
class Solution:
    """Outcome for one KPI.

    ``n_solution`` is Hoad et al.'s ``Nsol`` (None if not found in the data), ``confirmed_at`` the
    replication count that confirmed it (``Nsol + f(kLimit, Nsol)``), ``precision`` the relative
    precision after all available replications.
    """

    kpi: str
    n_solution: int | None
    confirmed_at: int | None
    precision: float
    mean: float
    half_width: float


def solve(values: np.ndarray, target: float, alpha: float = 0.05, k_limit: int = K_LIMIT,
          initial: int = INITIAL_REPLICATIONS, kpi: str = "") -> Solution:
    """Apply the replications algorithm to one KPI's values (in replication order).

    Parameters
    ----------
    values : array_like
        KPI values of replications 0, 1, 2, ...
    target : float
        Required relative half-width, e.g. 0.05.
    alpha : float
        1 - confidence level.
    k_limit : int
        Look-ahead (Hoad et al. recommend 5).
    initial : int
        Smallest number of replications considered (Hoad et al. use 3).
    kpi : str
        Name carried into the result.

    Returns
    -------
    Solution
        ``n_solution`` is the smallest ``n >= initial`` with ``d_m <= target`` for all ``m`` in
        ``n .. n + f(k_limit, n)``, provided that many replications exist; otherwise None.
    """
    if not 0 < target:
        raise UsageError(f"precision = {target}; allowed: a positive fraction such as 0.05")
    if initial < 2:
        raise UsageError(f"initial = {initial}; allowed: 2 or more (a CI needs two replications)")
    x = np.asarray(values, dtype=float)
    d = relative_precision(x, alpha)
    ok = np.nan_to_num(d, nan=math.inf) <= target
    total = x.size
    n_sol = confirmed = None
    for n in range(initial, total + 1):
        end = n + look_ahead(n, k_limit)
        if end > total:
            break  # not enough replications yet to confirm any candidate from here on
        if ok[n - 1:end].all():
            n_sol, confirmed = n, end
            break
    mean = float(x.mean()) if total else math.nan
    last = float(d[-1]) if total else math.nan
    half = last * abs(mean) if np.isfinite(last) else math.nan
    return Solution(kpi=kpi, n_solution=n_sol, confirmed_at=confirmed, precision=last, mean=mean,
                    half_width=half)


@dataclass(frozen=True)
class Assessment:
    """All named KPIs at once: ``n_needed`` is the largest ``Nsol`` once every KPI has one."""

    solutions: tuple[Solution, ...]
    replications_run: int

    @property
    def done(self) -> bool:
        return all(s.n_solution is not None for s in self.solutions)

    @property
    def n_needed(self) -> int | None:
        return max(s.n_solution for s in self.solutions) if self.done else None

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([{"kpi": s.kpi, "mean": s.mean, "half_width": s.half_width,
                              "relative_precision": s.precision, "n_solution": s.n_solution,
                              "confirmed_at": s.confirmed_at} for s in self.solutions])


def assess(kpis: pd.DataFrame, names: list[str], target: float, alpha: float = 0.05,
           k_limit: int = K_LIMIT, initial: int = INITIAL_REPLICATIONS) -> Assessment:
    """Apply :func:`solve` to each named KPI of a run (rows taken in replication order).

    Raises
    ------
    UsageError
        For a KPI name that is not a column, or an empty list.
    """
    if not names:
        raise UsageError("names is empty; allowed: one or more KPIs, e.g. crs_rate, util_observation_beds")
    check_kpis(names, kpis.columns)
    ordered = kpis.sort_values("replication") if "replication" in kpis.columns else kpis
    sols = tuple(solve(ordered[k].to_numpy(dtype=float), target, alpha, k_limit, initial, kpi=k) for k in names)
    return Assessment(solutions=sols, replications_run=len(ordered))


def run_to_precision(scenario: Scenario, kpis: Sequence[str], target: float, *, first_batch: int | None = None,
                     batch: int = 20, max_reps: int = 1000, k_limit: int = K_LIMIT, seed: int | None = None,
                     executor: runner.Executor = "processes", workers: int | None = None, scheduler: Any = None,
                     keep_occupancy: bool = False, progress: runner.Progress | None = None,
                     on_batch: Callable[[Assessment], None] | None = None) -> tuple[runner.RunResult, Assessment]:
    """Add batches of replications until the replications algorithm accepts every KPI in ``kpis``, or
    ``max_reps`` replications have run.

    Parameters
    ----------
    scenario : Scenario
    kpis : sequence of str
        KPIs whose 95% CI half-width must be within ``target`` of their mean.
    target : float
        Relative precision, e.g. 0.05.
    first_batch, batch : int
        Replications of the first batch (default: ``batch``, at least one look-ahead) and of each later one.
    max_reps, k_limit : int
        Stop here, precise or not; the look-ahead of Hoad et al.
    seed, executor, workers, scheduler, keep_occupancy
        As in :func:`sim.analysis.runner.run`; every batch continues the same seed's replications.
    progress : callable, optional
        ``progress(done, max_reps)`` with the replications done so far.
    on_batch : callable, optional
        Called with the :class:`Assessment` after each batch (partial results as they arrive).

    Returns
    -------
    (RunResult, Assessment)
        All replications run, as one result, and the last assessment (``done`` False when
        ``max_reps`` was reached first).

    Raises
    ------
    UsageError
        For an unknown KPI, a bad target or a first batch above ``max_reps``, before anything runs.
    """
    names = list(kpis)
    assess(pd.DataFrame(columns=list(metrics.KPI_COLUMNS)), names, target)   # checks names and target
    if first_batch is not None and first_batch > max_reps:
        raise UsageError(f"first batch {first_batch} is above the most replications, {max_reps}")
    size = first_batch or max(batch, INITIAL_REPLICATIONS + k_limit)
    parts: list[runner.RunResult] = []
    # one Dask LocalCluster for all batches, not one per batch
    with runner.shared_scheduler(executor, scheduler, workers) as shared:
        while True:
            done = sum(len(p.kpis) for p in parts)
            k = min(size, max_reps - done)
            update = (lambda d, _t, base=done: progress(base + d, max_reps)) if progress is not None else None
            parts.append(runner.run(scenario, k, seed=seed, executor=executor, workers=workers, progress=update,
                                    keep_occupancy=keep_occupancy, first=done, scheduler=shared))
            kpis_so_far = pd.concat([p.kpis for p in parts], ignore_index=True)
            assessment = assess(kpis_so_far, names, target, k_limit=k_limit)
            if on_batch is not None:
                on_batch(assessment)
            if assessment.done or done + k >= max_reps:
                return _joined(parts, kpis_so_far), assessment
            size = batch


def _joined(parts: list[runner.RunResult], kpis: pd.DataFrame) -> runner.RunResult:
    """One RunResult from consecutive batches of replications."""
    occ = np.concatenate([p.occupancy for p in parts]) if parts[0].occupancy is not None else None
    split = (np.concatenate([p.occupancy_by_programme for p in parts])
             if parts[0].occupancy_by_programme is not None else None)
    by_programme = pd.concat([p.by_programme for p in parts], ignore_index=True)
    return runner.RunResult(scenario=parts[0].scenario, seed=parts[0].seed, kpis=kpis, occupancy=occ,
                            by_programme=by_programme, occupancy_by_programme=split)
