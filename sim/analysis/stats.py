"""Confidence intervals across replications: the one Student-t interval, the one paired difference and the
one Wilson interval every analysis, chart and page uses."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from sim import metrics
from sim.config import registry
from sim.config.errors import UsageError


def t_quantile(p, dof):
    """Student-t quantile, as ``scipy.stats.t.ppf`` gives it (the same function underneath).

    ``scipy.special`` is imported here, not ``scipy.stats`` at the top: the latter takes seconds to
    import and every command line start (and every refusal of bad input) would wait for it.
    """
    from scipy.special import stdtrit

    return stdtrit(dof, p)


def normal_quantile(p):
    """Standard normal quantile, as ``scipy.stats.norm.ppf`` gives it (see :func:`t_quantile`)."""
    from scipy.special import ndtri

    return ndtri(p)

def check_kpis(kpis: Iterable[str], columns: Iterable[str] = metrics.KPI_COLUMNS) -> None:
    """Raise :class:`UsageError` naming the first of ``kpis`` that is not a KPI column (``replication`` is not)."""
    allowed = [c for c in columns if c != "replication"]
    unknown = [k for k in kpis if k not in allowed]
    if unknown:
        raise UsageError(f"unknown KPI {unknown[0]!r}; allowed KPIs: {', '.join(allowed)}")


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float, int]:
    """(mean, sd, ci_low, ci_high, n) of finite values; a constant KPI gets a zero-width interval."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return (math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return (mean, math.nan, math.nan, math.nan, 1)
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return (mean, 0.0, mean, mean, n)
    half = float(t_quantile(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return (mean, sd, mean - half, mean + half, n)


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion; honest at 0 and n, unlike a t interval on 0/1 data."""
    if n == 0:
        return (math.nan, math.nan)
    z = float(normal_quantile(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def share_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Share of replications with a positive value (e.g. at least one stock-out), with its Wilson interval.

    Returns
    -------
    (share, ci_low, ci_high, n)
        NaN share and bounds when there are no values.
    """
    x = np.asarray(values, dtype=float)
    hits, n = int((x > 0).sum()), int(x.size)
    lo, hi = wilson(hits, n, level)
    return (hits / n if n else math.nan), lo, hi, n


def paired_ci(base: np.ndarray, other: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-based CI of the per-replication differences ``other - base``.

    Under common random numbers replication r of both runs saw the same patients, so the difference
    cancels most of the run-to-run noise and its interval is far narrower than an unpaired one.

    Parameters
    ----------
    base, other : array_like
        Values of one KPI, aligned by replication (same length).
    level : float
        Confidence level.

    Returns
    -------
    (mean, ci_low, ci_high)
        A constant difference gives a zero-width interval; fewer than two pairs give NaN bounds.

    Raises
    ------
    UsageError
        If the two samples differ in length.
    """
    b = np.asarray(base, dtype=float)
    o = np.asarray(other, dtype=float)
    if b.shape != o.shape:
        raise UsageError(f"paired samples differ in length: {b.shape[0]} and {o.shape[0]}")
    mean, _sd, lo, hi, _n = mean_ci(o - b, level)
    return mean, lo, hi


def paired_values(base: pd.DataFrame, other: pd.DataFrame, kpi: str) -> tuple[np.ndarray, np.ndarray]:
    """One KPI of two runs, aligned by replication (by position when the frames have no ``replication``).

    Raises
    ------
    UsageError
        When the runs share no replication, or (without a ``replication`` column) differ in length.
    """
    if "replication" in base.columns and "replication" in other.columns:
        m = base[["replication", kpi]].merge(other[["replication", kpi]], on="replication", suffixes=("_a", "_b"))
        if m.empty:
            raise UsageError("the two runs share no replications; run both with the same seed and replications")
        return m[f"{kpi}_a"].to_numpy(dtype=float), m[f"{kpi}_b"].to_numpy(dtype=float)
    if len(base) != len(other):
        raise UsageError(f"runs of {len(base)} and {len(other)} replications without replication numbers "
                         "cannot be paired")
    return base[kpi].to_numpy(dtype=float), other[kpi].to_numpy(dtype=float)


def paired_diff(base: pd.DataFrame, other: pd.DataFrame, kpi: str, level: float = 0.95
                ) -> tuple[float, float, float]:
    """:func:`paired_ci` of one KPI of two runs' KPI frames, paired by :func:`paired_values`."""
    return paired_ci(*paired_values(base, other, kpi), level)


# KPIs that are 0/1 per replication (registry: ``proportion=True``): their mean is a probability, and
# its interval is Wilson's (a t interval collapses to zero width when every replication agrees).
PROPORTION_KPIS = frozenset(registry.PROPORTION_KPIS)


def summary(kpis: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per KPI: kpi, mean, sd, ci_low, ci_high, n."""
    rows = []
    for col in kpis.columns:
        if col == "replication":
            continue
        mean, sd, lo, hi, n = mean_ci(kpis[col].to_numpy(), level)
        if col in PROPORTION_KPIS and n:
            lo, hi = wilson(int(round(mean * n)), n, level)
        rows.append({"kpi": col, "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows, columns=["kpi", "mean", "sd", "ci_low", "ci_high", "n"])
