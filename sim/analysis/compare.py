"""Scenario comparison under common random numbers: paired differences from a base scenario.

Every scenario is run on the same seed, so replication ``r`` of each scenario sees the same
patients and the same toxicity draws (DESIGN.md). The difference ``other_r - base_r`` then cancels
most of the run-to-run noise, and its t-interval is usually far narrower than the unpaired
(Welch) interval of two independent samples. Both are reported so the gain is visible.

Pure functions on KPI frames; running the scenarios is :mod:`sim.cli.compare`'s job.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats as _st

from sim.analysis.stats import mean_ci

COLUMNS = ("scenario", "kpi", "n", "mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low", "diff_ci_high",
           "distinguishable", "unpaired_ci_low", "unpaired_ci_high")


def paired_ci(base: np.ndarray, other: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-based CI of the per-replication differences ``other - base``.

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
    """
    b = np.asarray(base, dtype=float)
    o = np.asarray(other, dtype=float)
    if b.shape != o.shape:
        raise ValueError(f"paired samples differ in length: {b.shape[0]} and {o.shape[0]}")
    mean, _sd, lo, hi, _n = mean_ci(o - b, level)
    return mean, lo, hi


def welch_ci(base: np.ndarray, other: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean difference ``mean(other) - mean(base)`` with the unpaired Welch t-interval.

    This is the interval one would get from independent runs; it ignores the pairing.
    """
    b = np.asarray(base, dtype=float)
    o = np.asarray(other, dtype=float)
    b, o = b[np.isfinite(b)], o[np.isfinite(o)]
    diff = float(o.mean() - b.mean()) if b.size and o.size else math.nan
    if b.size < 2 or o.size < 2:
        return diff, math.nan, math.nan
    vb, vo = b.var(ddof=1) / b.size, o.var(ddof=1) / o.size
    se2 = vb + vo
    if se2 == 0.0:
        return diff, diff, diff
    # Welch-Satterthwaite degrees of freedom
    dof = se2 ** 2 / ((vb ** 2 / (b.size - 1) if vb else 0.0) + (vo ** 2 / (o.size - 1) if vo else 0.0))
    half = float(_st.t.ppf(0.5 + level / 2, dof)) * math.sqrt(se2)
    return diff, diff - half, diff + half


def excludes_zero(lo: float, hi: float) -> bool:
    """True when the interval [lo, hi] lies strictly on one side of 0 (NaN bounds: False)."""
    return bool((lo > 0.0) or (hi < 0.0))


def compare(runs: Mapping[str, pd.DataFrame], base: str | None = None, level: float = 0.95,
            kpis: list[str] | None = None) -> pd.DataFrame:
    """Table of every scenario and KPI: mean, CI, paired difference from the base and its CI.

    Parameters
    ----------
    runs : mapping of scenario name to KPI frame
        One row per replication, with a ``replication`` column; all frames must hold the same
        replications (common random numbers). The first entry is the base unless ``base`` is given.
    base : str, optional
        Name of the base scenario.
    level : float
        Confidence level of every interval.
    kpis : list of str, optional
        KPIs to compare (default: every column except ``replication``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; the base's own rows have a difference of 0, are never
        ``distinguishable`` and have NaN unpaired bounds.
    """
    if not runs:
        raise ValueError("nothing to compare")
    names = list(runs)
    base = names[0] if base is None else base
    if base not in runs:
        raise ValueError(f"base scenario {base!r} is not among {names}")
    ref = runs[base].sort_values("replication").reset_index(drop=True)
    cols = kpis or [c for c in ref.columns if c != "replication"]
    missing = [c for c in cols if c not in ref.columns]
    if missing:
        raise ValueError(f"unknown KPI(s) {', '.join(missing)}; allowed: "
                         f"{', '.join(c for c in ref.columns if c != 'replication')}")
    rows = []
    for name in names:
        frame = runs[name].sort_values("replication").reset_index(drop=True)
        if not np.array_equal(frame["replication"].to_numpy(), ref["replication"].to_numpy()):
            raise ValueError(f"scenario {name!r} was not run on the same replications as {base!r}; "
                             "a paired comparison needs the same seed and replication numbers")
        for kpi in cols:
            x, b = frame[kpi].to_numpy(dtype=float), ref[kpi].to_numpy(dtype=float)
            mean, _sd, lo, hi, n = mean_ci(x, level)
            d, dlo, dhi = paired_ci(b, x, level)
            # The base against itself has no unpaired comparison worth showing.
            _, ulo, uhi = welch_ci(b, x, level) if name != base else (0.0, math.nan, math.nan)
            rows.append({"scenario": name, "kpi": kpi, "n": n, "mean": mean, "ci_low": lo, "ci_high": hi,
                         "diff_mean": d, "diff_ci_low": dlo, "diff_ci_high": dhi,
                         "distinguishable": name != base and excludes_zero(dlo, dhi),
                         "unpaired_ci_low": ulo, "unpaired_ci_high": uhi})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def format_table(table: pd.DataFrame, base: str) -> str:
    """The comparison as text: one block per non-base scenario, one line per KPI."""
    blocks = []
    for name, part in table.groupby("scenario", sort=False):
        if name == base:
            continue
        lines = [f"{name} vs {base} (paired difference, 95% CI; * = CI excludes 0)",
                 f"{'KPI':36s} {'base':>12s} {'other':>12s} {'difference':>12s}   {'95% CI':>27s}"]
        means_base = table[table["scenario"] == base].set_index("kpi")["mean"]
        for r in part.itertuples(index=False):
            ci = "" if r.diff_ci_low != r.diff_ci_low else f"[{r.diff_ci_low:>11.4g}, {r.diff_ci_high:>11.4g}]"
            mark = " *" if r.distinguishable else ""
            lines.append(f"{r.kpi:36s} {means_base[r.kpi]:>12.5g} {r.mean:>12.5g} {r.diff_mean:>12.4g}   "
                         f"{ci:>27s}{mark}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
