"""Which inputs the answer hinges on: one-way sensitivity (a tornado) and full-factorial grids.

A parameter is any scenario field written as a ``--set`` key, varied over numbers:
``demand.patients_per_week=2:6`` (low and high), or ``drug.crs.rate=0.45,0.55,0.65`` (a list, for
grids). Every point is loaded through :func:`sim.loader.load` with the value as an override, so it
is validated exactly like the file (a plain number over a sourced value such as ``drug.crs.rate``
is accepted and flagged as a user override), and every point is run by :func:`sim.runner.run` on
the same seed and replications (common random numbers), so differences between points are not
noise between patient cohorts. All points are loaded, hence validated, before any runs.

One-way: the baseline (the scenario as given, with ``--set``) and, for each parameter, its low and
high value with the others at baseline: ``1 + 2P`` runs. The swing of a KPI is
``|mean at high - mean at low|``; its paired CI (same replications) says whether it is more than
noise. A grid runs every combination: ``prod(len(values))`` runs, each through the runner, so
``executor="dask"`` spreads a large grid over a cluster.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from sim import metrics
from sim.analysis import runner
from sim.analysis.stats import mean_ci
from sim.config import loader
from sim.config.scenario import Scenario

DEFAULT_KPIS = ("p_dose_postponed", "days_referral_to_first_dose_mean", "util_observation_beds",
                "cost_per_patient_started")
DEFAULT_LEVELS = 3
MAX_GRID_POINTS = 10_000
LEVEL = 0.95

_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_INT = re.compile(r"^[-+]?\d+$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Param:
    """A scenario field (dotted ``--set`` key) and the values it takes."""

    name: str
    values: tuple[float | int, ...]

    @property
    def low(self) -> float | int:
        return self.values[0]

    @property
    def high(self) -> float | int:
        return self.values[-1]

    def override(self, value: float | int) -> str:
        """The ``KEY=VALUE`` override for one value (a TOML literal: ints stay ints)."""
        return f"{self.name}={_literal(value)}"


def _literal(value: float | int) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))


def _number(text: str, where: str) -> float | int:
    t = text.strip()
    if not _NUMBER.match(t):
        raise ValueError(f"--param {where}: {t!r} is not a number; allowed: numbers, e.g. 2:6 or 2,4,6")
    return int(t) if _INT.match(t) else float(t)


def parse_param(text: str, grid: bool = False, levels: int = DEFAULT_LEVELS) -> Param:
    """Parse ``KEY=LOW:HIGH`` or ``KEY=V1,V2,...``.

    Parameters
    ----------
    text : str
        E.g. ``"demand.patients_per_week=2:6"`` or ``"capacity.chairs=8,10,12"``.
    grid : bool
        For a grid, ``LOW:HIGH`` expands to ``levels`` evenly spaced values (whole numbers stay whole:
        rounded and de-duplicated) and a list may have any length; one-way sensitivity takes exactly
        two values, low then high.
    levels : int
        Values per ``LOW:HIGH`` range in a grid (at least 2).

    Returns
    -------
    Param

    Raises
    ------
    ValueError
        For a malformed item, a non-number, a repeated value, or ``LOW >= HIGH``.
    """
    if "=" not in text:
        raise ValueError(f"--param {text!r}: expected KEY=LOW:HIGH, e.g. demand.patients_per_week=2:6")
    name, spec = (s.strip() for s in text.split("=", 1))
    if not _KEY.match(name):
        raise ValueError(f"--param {text!r}: {name!r} is not a dotted scenario key such as demand.patients_per_week")
    if ":" in spec:
        ends = spec.split(":")
        if len(ends) != 2:
            raise ValueError(f"--param {text!r}: expected LOW:HIGH with two numbers")
        low, high = (_number(e, text) for e in ends)
        if not low < high:
            raise ValueError(f"--param {text!r}: LOW = {low} is not below HIGH = {high}")
        if not grid:
            return Param(name, (low, high))
        if levels < 2:
            raise ValueError(f"--levels {levels}; allowed: 2 or more")
        if isinstance(low, int) and isinstance(high, int):
            vals = tuple(dict.fromkeys(int(round(v)) for v in np.linspace(low, high, levels)))
        else:
            vals = tuple(float(v) for v in np.linspace(low, high, levels))
        return Param(name, vals)
    vals = tuple(_number(v, text) for v in spec.split(","))
    if len(set(vals)) != len(vals):
        raise ValueError(f"--param {text!r}: a value is repeated")
    if not grid and len(vals) != 2:
        raise ValueError(f"--param {text!r}: one-way sensitivity takes a low and a high value, e.g. "
                         f"{name}=LOW:HIGH (lists of any length are for --grid)")
    if not grid and not vals[0] < vals[1]:
        raise ValueError(f"--param {text!r}: low = {vals[0]} is not below high = {vals[1]}")
    return Param(name, vals)


def check_unique(params: Sequence[Param]) -> None:
    """Raise ValueError if a parameter is named twice (the later would silently win)."""
    names = [p.name for p in params]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"--param {dup[0]} is given twice; allowed: each parameter once")


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

@contextlib.contextmanager
def shared_scheduler(executor: str, scheduler: Any = None, workers: int | None = None) -> Iterator[Any]:
    """What to pass as ``scheduler`` to many :func:`sim.runner.run` calls in a row.

    With ``executor="dask"`` and no scheduler, one ``LocalCluster`` is started for all the runs
    (the runner would otherwise start and stop a cluster per call, seconds each); it is closed on
    exit. Otherwise ``scheduler`` is passed through unchanged.
    """
    if executor != "dask" or scheduler is not None:
        yield scheduler
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # the optional extra is not installed
        raise ValueError("executor 'dask' needs Dask: pip install 'btce-sim[dask]'") from None
    n = workers or os.cpu_count() or 1
    # as the runner does: single-threaded worker processes (pure-Python model), no dashboard port
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        yield client


def run_points(scenario: str | Path, points: Sequence[Sequence[str]], reps: int, overrides: Sequence[str] = (),
               seed: int | None = None, executor: runner.Executor = "processes", workers: int | None = None,
               scheduler: Any = None, progress: Progress | None = None) -> list[pd.DataFrame]:
    """Load every point (``overrides`` then the point's own ``KEY=VALUE``), then run each on one seed.

    All points are loaded, and so validated, before the first run. Returns the KPI frames in the
    order of ``points``.
    """
    scenarios = [loader.load(scenario, [*overrides, *extra]) for extra in points]
    if not scenarios:
        return []
    run_seed = scenarios[0].run.seed if seed is None else seed
    total = reps * len(scenarios)
    frames = []
    with shared_scheduler(executor, scheduler, workers) as sched:
        for i, s in enumerate(scenarios):
            report = None if progress is None else (lambda d, _t, base=i * reps: progress(base + d, total))
            frames.append(runner.run(s, reps, seed=run_seed, executor=executor, workers=workers, progress=report,
                                     scheduler=sched).kpis)
    return frames


def _check_kpis(kpis: Sequence[str], frame: pd.DataFrame) -> None:
    unknown = [k for k in kpis if k not in frame.columns or k == "replication"]
    if unknown:
        allowed = [c for c in frame.columns if c != "replication"]
        raise ValueError(f"--kpis: unknown KPI {unknown[0]!r}; allowed KPIs: {', '.join(allowed)}")


def _ci(values: np.ndarray, level: float) -> tuple[float, float, float]:
    mean, _sd, lo, hi, _n = mean_ci(values, level)
    return mean, lo, hi


def _paired(a: pd.DataFrame, b: pd.DataFrame, kpi: str, level: float) -> tuple[float, float, float]:
    """Mean and CI of ``b - a`` per replication (same seeds, so replication r pairs with r)."""
    if "replication" in a.columns and "replication" in b.columns:
        m = a[["replication", kpi]].merge(b[["replication", kpi]], on="replication", suffixes=("_a", "_b"))
        x, y = m[f"{kpi}_a"].to_numpy(dtype=float), m[f"{kpi}_b"].to_numpy(dtype=float)
    else:
        x, y = a[kpi].to_numpy(dtype=float), b[kpi].to_numpy(dtype=float)
    return _ci(y - x, level)


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
    _check_kpis(kpis, base)
    if not (len(params) == len(lows) == len(highs)):
        raise ValueError("one low and one high run per parameter")
    base_values = list(base_values) if base_values is not None else [math.nan] * len(params)
    rows = []
    for kpi in kpis:
        b_mean, b_lo, b_hi = _ci(base[kpi].to_numpy(dtype=float), level)
        block = []
        for p, bv, lo_f, hi_f in zip(params, base_values, lows, highs):
            l_mean, l_lo, l_hi = _ci(lo_f[kpi].to_numpy(dtype=float), level)
            h_mean, h_lo, h_hi = _ci(hi_f[kpi].to_numpy(dtype=float), level)
            d_mean, d_lo, d_hi = _paired(lo_f, hi_f, kpi, level)
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
        _check_kpis(kpis, frames[0])
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
        raise ValueError(f"the grid has {n:,} points; allowed: up to {MAX_GRID_POINTS:,} (use fewer values or --levels)")
    return list(itertools.product(*(p.values for p in params)))


def one_way(scenario: str | Path, params: Sequence[Param], reps: int, kpis: Sequence[str] = DEFAULT_KPIS,
            overrides: Sequence[str] = (), seed: int | None = None, executor: runner.Executor = "processes",
            workers: int | None = None, scheduler: Any = None, progress: Progress | None = None,
            level: float = LEVEL) -> pd.DataFrame:
    """Run the baseline and each parameter at low and high on the same seeds; return the tornado table.

    Parameters
    ----------
    scenario : path
        Scenario file.
    params : sequence of Param
        Parameters with (low, high).
    reps : int
        Replications per run (``1 + 2 * len(params)`` runs).
    kpis : sequence of str
        KPIs to tabulate.
    overrides : sequence of str
        ``--set`` overrides applied to every run (the baseline is the scenario with these).
    seed, executor, workers, scheduler, progress
        As in :func:`sim.runner.run`; one seed for every run.

    Returns
    -------
    DataFrame
        See :func:`tornado_table`.
    """
    check_unique(params)
    if not params:
        raise ValueError("at least one --param is required, e.g. --param demand.patients_per_week=2:6")
    base_scenario = loader.load(scenario, list(overrides))
    _check_kpis(kpis, pd.DataFrame(columns=list(metrics.KPI_COLUMNS)))
    points = [[]] + [[p.override(v)] for p in params for v in (p.low, p.high)]
    frames = run_points(scenario, points, reps, overrides, seed, executor, workers, scheduler, progress)
    base, lows, highs = frames[0], frames[1::2], frames[2::2]
    return tornado_table(params, base, lows, highs, kpis, [base_value(base_scenario, p.name) for p in params], level)


def full_grid(scenario: str | Path, params: Sequence[Param], reps: int, kpis: Sequence[str] = DEFAULT_KPIS,
              overrides: Sequence[str] = (), seed: int | None = None, executor: runner.Executor = "processes",
              workers: int | None = None, scheduler: Any = None, progress: Progress | None = None,
              level: float = LEVEL) -> pd.DataFrame:
    """Run every combination of the parameters' values on the same seeds; return :func:`grid_table`."""
    check_unique(params)
    if not params:
        raise ValueError("at least one --param is required, e.g. --param demand.patients_per_week=2,4,6")
    _check_kpis(kpis, pd.DataFrame(columns=list(metrics.KPI_COLUMNS)))
    combos = grid_points(params)
    points = [[p.override(v) for p, v in zip(params, combo)] for combo in combos]
    frames = run_points(scenario, points, reps, overrides, seed, executor, workers, scheduler, progress)
    return grid_table(params, combos, frames, kpis, level)
