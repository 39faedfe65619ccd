"""Which inputs the answer hinges on: one-way sensitivity (a tornado) and full-factorial grids.

A parameter is any numeric scenario field, named by its dotted key, with the values it takes:
``{"demand.patients_per_week": (2, 6)}`` (low and high, one-way) or ``{"drug.crs.rate": (0.45, 0.55,
0.65)}`` (any number of values, grids); in a centre a programme's own fields are reached through it,
``programmes.<name>.demand.patients_per_week`` (the top-level drug, strategy, demand and population are
refused there). Every point is a :func:`~sim.analysis.variants.vary` of the
scenario, so it is validated exactly like the file (a plain number over a sourced value such as
``drug.crs.rate`` is accepted and flagged as a user override), and every point is run by
:func:`sim.analysis.runner.run` on the same seed and replications (common random numbers), so
differences between points are not noise between patient cohorts. All points are validated before
any runs.

One-way: the baseline (the scenario as given) and, for each parameter, its low and high value with
the others at baseline: ``1 + 2P`` runs. The swing of a KPI is ``|mean at high - mean at low|``; its
paired CI (same replications) says whether it is more than noise. A grid runs every combination:
``prod(len(values))`` runs, each through the runner, so ``executor="dask"`` spreads a large grid over
a cluster.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.analysis import runner
from sim.analysis.stats import check_kpis, mean_ci, paired_diff
from sim.analysis.variants import vary
from sim.config.errors import UsageError
from sim.config.scenario import Scenario

DEFAULT_KPIS = ("p_dose_postponed", "days_referral_to_first_dose_mean", "util_observation_beds",
                "cost_per_patient_started")
MAX_GRID_POINTS = 10_000
LEVEL = 0.95

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$")

Progress = runner.Progress
# Called with each point (``{key: value}``; ``{}`` for the baseline) and its KPI frame as it finishes.
OnPoint = Callable[[Mapping[str, Any], pd.DataFrame], None]
Params = Mapping[str, Sequence[float]] | Sequence["Param"]


@dataclass(frozen=True)
class Param:
    """A scenario field (dotted key) and the values it takes."""

    name: str
    values: tuple[float | int, ...]

    @property
    def low(self) -> float | int:
        return self.values[0]

    @property
    def high(self) -> float | int:
        return self.values[-1]


def param(name: str, values: Sequence[float], grid: bool = False) -> Param:
    """A checked :class:`Param`: a dotted key and numbers; one-way takes exactly a low and a higher high.

    Raises
    ------
    UsageError
        For a key that is not dotted field syntax, a value that is not a finite number, a repeated
        value, or (one-way) anything but two values, low below high.
    """
    if not isinstance(name, str) or not _KEY.match(name):
        raise UsageError(f"parameter {name!r} is not a dotted scenario key such as demand.patients_per_week")
    vals = tuple(values)
    bad = [v for v in vals if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))
           or not math.isfinite(v)]
    if bad or not vals:
        raise UsageError(f"parameter {name}: {bad[0] if bad else 'no values'!r} is not a finite number; "
                         "allowed: numbers")
    if len(set(vals)) != len(vals):
        raise UsageError(f"parameter {name}: a value is repeated in {list(vals)}")
    if not grid and len(vals) != 2:
        raise UsageError(f"parameter {name}: one-way sensitivity takes a low and a high value, got {len(vals)} "
                         "(lists of any length are for a grid)")
    if not grid and not vals[0] < vals[1]:
        raise UsageError(f"parameter {name}: low = {vals[0]} is not below high = {vals[1]}")
    return Param(name, vals)


def params_of(params: Params, grid: bool = False) -> list[Param]:
    """Parameters given as ``{key: values}`` or :class:`Param` objects, checked; at least one, each once."""
    items = list(params.items()) if isinstance(params, Mapping) else [(p.name, p.values) for p in params]
    if not items:
        raise UsageError("params is empty; allowed: one or more, e.g. {\"demand.patients_per_week\": (2, 6)}")
    out = [param(name, values, grid) for name, values in items]
    check_unique(out)
    return out


def check_unique(params: Sequence[Param]) -> None:
    """Raise :class:`UsageError` if a parameter is named twice (the later would silently win)."""
    names = [p.name for p in params]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"parameter {dup[0]} is given twice; allowed: each parameter once")


def check_programme_keys(scenario: Scenario, params: Sequence[Param]) -> None:
    """Refuse a ``programmes.<name>.`` key naming no programme of the scenario: varying a number cannot add a
    programme (it would need its ``scenario``), so such a key is a typo.

    Raises
    ------
    UsageError
        Naming the parameter and the programmes allowed.
    """
    names = list(scenario.programmes)
    for p in params:
        head, _, rest = p.name.partition(".")
        if head != "programmes" or rest.split(".")[0] in names:
            continue
        allowed = (f"programmes.<name>.KEY with <name> one of {', '.join(names)}" if names else
                   f"{scenario.name} is a single-drug scenario with no programmes: its own keys, e.g. "
                   "demand.patients_per_week")
        raise UsageError(f"parameter {p.name}: no programme {rest.split('.')[0]!r}; allowed: {allowed}")


def base_value(scenario: Scenario, dotted: str) -> float:
    """The scenario's value at a dotted key (a sourced number's ``value``), or NaN if not a number."""
    obj: Any = scenario
    for part in dotted.split("."):
        if isinstance(obj, Mapping):
            obj = obj.get(part)
        elif isinstance(obj, (tuple, list)) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            obj = getattr(obj, part, None)
        if obj is None:
            return math.nan
    obj = getattr(obj, "value", obj)
    if isinstance(obj, bool) or not isinstance(obj, (int, float)):
        return math.nan
    return float(obj)


# --------------------------------------------------------------------------- running

def run_points(scenario: Scenario, points: Sequence[Mapping[str, Any]], reps: int, seed: int | None = None,
               executor: runner.Executor = "processes", workers: int | None = None, scheduler: Any = None,
               progress: Progress | None = None, on_point: OnPoint | None = None) -> list[pd.DataFrame]:
    """Vary the scenario by every point (``{key: value}``), then run each on one seed.

    All points are validated before the first run; ``on_point(point, kpis)`` hears of each as it
    finishes. Returns the KPI frames in the order of ``points``.
    """
    scenarios = {i: vary(scenario, point) for i, point in enumerate(points)}
    if not scenarios:
        return []
    run_seed = scenario.run.seed if seed is None else seed
    heard = None if on_point is None else (lambda i, result: on_point(points[i], result.kpis))
    runs = runner.run_many(scenarios, reps, run_seed, executor, workers, scheduler, progress, on_result=heard)
    return [runs[i].kpis for i in range(len(points))]


def _ci(values: np.ndarray, level: float) -> tuple[float, float, float]:
    mean, _sd, lo, hi, _n = mean_ci(values, level)
    return mean, lo, hi


TORNADO_COLUMNS = ["param", "low", "base", "high", "kpi", "value_low", "value_low_ci_low", "value_low_ci_high",
                   "value_base", "value_base_ci_low", "value_base_ci_high", "value_high", "value_high_ci_low",
                   "value_high_ci_high", "swing", "diff_high_minus_low", "diff_ci_low", "diff_ci_high", "rank"]


def tornado_table(params: Sequence[Param], base: pd.DataFrame, lows: Sequence[pd.DataFrame],
                  highs: Sequence[pd.DataFrame], kpis: Sequence[str], base_values: Sequence[float] | None = None,
                  level: float = LEVEL) -> pd.DataFrame:
    """One-way sensitivity table from the per-replication KPI frames of each run.

    Parameters
    ----------
    params : sequence of Param
        The parameters, each with its low and high value.
    base, lows, highs : DataFrame
        KPI frames (one row per replication) of the baseline and of each parameter at low and high.
    kpis : sequence of str
        KPIs to tabulate.
    base_values : sequence of float, optional
        Each parameter's baseline value (shown; NaN when unknown).
    level : float
        Confidence level of the intervals.

    Returns
    -------
    DataFrame
        :data:`TORNADO_COLUMNS`: per KPI (in the order given) and parameter, the mean and CI of the
        KPI at low, base and high; ``swing = |value_high - value_low|``; the paired difference
        high - low with its CI; ``rank`` 1 for the largest swing. Rows are sorted by KPI, then by
        swing, largest first.
    """
    check_kpis(kpis, base.columns)
    if not (len(params) == len(lows) == len(highs)):
        raise UsageError("one low and one high run per parameter")
    base_values = list(base_values) if base_values is not None else [math.nan] * len(params)
    rows = []
    for kpi in kpis:
        b_mean, b_lo, b_hi = _ci(base[kpi].to_numpy(dtype=float), level)
        block = []
        for p, bv, lo_f, hi_f in zip(params, base_values, lows, highs):
            l_mean, l_lo, l_hi = _ci(lo_f[kpi].to_numpy(dtype=float), level)
            h_mean, h_lo, h_hi = _ci(hi_f[kpi].to_numpy(dtype=float), level)
            d_mean, d_lo, d_hi = paired_diff(lo_f, hi_f, kpi, level)
            block.append({"param": p.name, "low": p.low, "base": bv, "high": p.high, "kpi": kpi,
                          "value_low": l_mean, "value_low_ci_low": l_lo, "value_low_ci_high": l_hi,
                          "value_base": b_mean, "value_base_ci_low": b_lo, "value_base_ci_high": b_hi,
                          "value_high": h_mean, "value_high_ci_low": h_lo, "value_high_ci_high": h_hi,
                          "swing": abs(h_mean - l_mean), "diff_high_minus_low": d_mean,
                          "diff_ci_low": d_lo, "diff_ci_high": d_hi})
        # stable: parameters with equal swing keep the order they were given in
        block.sort(key=lambda r: -r["swing"] if math.isfinite(r["swing"]) else math.inf)
        for rank, r in enumerate(block, start=1):
            r["rank"] = rank
        rows.extend(block)
    return pd.DataFrame(rows, columns=TORNADO_COLUMNS)


def grid_table(params: Sequence[Param], points: Sequence[Sequence[float | int]], frames: Sequence[pd.DataFrame],
               kpis: Sequence[str], level: float = LEVEL) -> pd.DataFrame:
    """Full-factorial table: one row per point, its parameter values, and each KPI's mean and CI.

    Columns: one per parameter, ``replications``, then ``KPI``, ``KPI_ci_low``, ``KPI_ci_high`` per KPI.
    """
    if frames:
        check_kpis(kpis, frames[0].columns)
    rows = []
    for values, frame in zip(points, frames):
        row: dict[str, Any] = {p.name: v for p, v in zip(params, values)}
        row["replications"] = len(frame)
        for kpi in kpis:
            mean, lo, hi = _ci(frame[kpi].to_numpy(dtype=float), level)
            row.update({kpi: mean, f"{kpi}_ci_low": lo, f"{kpi}_ci_high": hi})
        rows.append(row)
    cols = [p.name for p in params] + ["replications"] + [c for k in kpis for c in (k, f"{k}_ci_low", f"{k}_ci_high")]
    return pd.DataFrame(rows, columns=cols)


def grid_points(params: Sequence[Param]) -> list[tuple[float | int, ...]]:
    """Every combination of the parameters' values, the last parameter varying fastest."""
    n = math.prod(len(p.values) for p in params)
    if n > MAX_GRID_POINTS:
        raise UsageError(f"the grid has {n:,} points; allowed: up to {MAX_GRID_POINTS:,} (use fewer values)")
    return list(itertools.product(*(p.values for p in params)))


def one_way(scenario: Scenario, params: Params, reps: int, kpis: Sequence[str] = DEFAULT_KPIS,
            seed: int | None = None, executor: runner.Executor = "processes", workers: int | None = None,
            scheduler: Any = None, progress: Progress | None = None, level: float = LEVEL,
            on_point: OnPoint | None = None) -> pd.DataFrame:
    """Run the baseline and each parameter at low and high on the same seeds; return the tornado table.

    Parameters
    ----------
    scenario : Scenario
        The baseline.
    params : mapping of key to (low, high), or Params
        E.g. ``{"demand.patients_per_week": (2, 6), "drug.crs.rate": (0.45, 0.65)}``.
    reps : int
        Replications per run (``1 + 2 * len(params)`` runs).
    kpis : sequence of str
        KPIs to tabulate.
    seed, executor, workers, scheduler, progress
        As in :func:`sim.analysis.runner.run`; one seed for every run, ``progress`` counting all of them.
    on_point : callable, optional
        ``on_point(point, kpis)`` as each run finishes: the baseline (``{}``), then each parameter's low
        and high (``{key: value}``), so a tornado can be drawn as it fills.

    Returns
    -------
    DataFrame
        See :func:`tornado_table`.
    """
    checked = params_of(params)
    check_programme_keys(scenario, checked)
    check_kpis(kpis)
    points = [{}] + [{p.name: v} for p in checked for v in (p.low, p.high)]
    frames = run_points(scenario, points, reps, seed, executor, workers, scheduler, progress, on_point)
    base, lows, highs = frames[0], frames[1::2], frames[2::2]
    return tornado_table(checked, base, lows, highs, kpis, [base_value(scenario, p.name) for p in checked], level)


def full_grid(scenario: Scenario, params: Params, reps: int, kpis: Sequence[str] = DEFAULT_KPIS,
              seed: int | None = None, executor: runner.Executor = "processes", workers: int | None = None,
              scheduler: Any = None, progress: Progress | None = None, level: float = LEVEL,
              on_point: OnPoint | None = None) -> pd.DataFrame:
    """Run every combination of the parameters' values on the same seeds; return :func:`grid_table`
    (``on_point`` as in :func:`one_way`)."""
    checked = params_of(params, grid=True)
    check_programme_keys(scenario, checked)
    check_kpis(kpis)
    combos = grid_points(checked)
    points = [{p.name: v for p, v in zip(checked, combo)} for combo in combos]
    frames = run_points(scenario, points, reps, seed, executor, workers, scheduler, progress, on_point)
    return grid_table(checked, combos, frames, kpis, level)


def sensitivity(scenario: Scenario, params: Params, reps: int = 30, kpis: Sequence[str] = DEFAULT_KPIS, *,
                grid: bool = False, seed: int | None = None, executor: runner.Executor = "processes",
                workers: int | None = None, scheduler: Any = None, progress: Progress | None = None,
                level: float = LEVEL, on_point: OnPoint | None = None) -> pd.DataFrame:
    """One-way sensitivity (the tornado table of :func:`one_way`) or, with ``grid``, :func:`full_grid`;
    ``on_point(point, kpis)`` hears of each run as it finishes (partial results)."""
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 2:
        raise UsageError(f"reps = {reps!r}; allowed: 2 or more (a confidence interval needs two replications)")
    run = full_grid if grid else one_way
    return run(scenario, params, reps, kpis, seed, executor, workers, scheduler, progress, level, on_point)
