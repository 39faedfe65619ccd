"""Confidence intervals across replications (Student t, not 1.96)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as _st


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
    half = float(_st.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return (mean, sd, mean - half, mean + half, n)


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion; honest at 0 and n, unlike a t interval on 0/1 data."""
    if n == 0:
        return (math.nan, math.nan)
    z = float(_st.norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


# KPIs that are 0/1 per replication: their mean is a probability, and its interval is Wilson's
# (a t interval collapses to zero width when every replication agrees).
PROPORTION_KPIS = frozenset({"p_stockout"})


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
