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


def summary(kpis: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per KPI: kpi, mean, sd, ci_low, ci_high, n."""
    rows = []
    for col in kpis.columns:
        if col == "replication":
            continue
        mean, sd, lo, hi, n = mean_ci(kpis[col].to_numpy(), level)
        rows.append({"kpi": col, "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows, columns=["kpi", "mean", "sd", "ci_low", "ci_high", "n"])
