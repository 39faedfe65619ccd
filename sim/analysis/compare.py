"""Scenario comparison under common random numbers: paired differences from a base scenario.

Every scenario is run on the same seed, so replication ``r`` of each scenario sees the same
patients and the same toxicity draws (DESIGN.md). The difference ``other_r - base_r`` then cancels
most of the run-to-run noise, and its t-interval is usually far narrower than the unpaired
(Welch) interval of two independent samples. Both are reported so the gain is visible.

:func:`compare_scenarios` runs the scenarios on one seed (:func:`sim.analysis.runner.run_many`);
:func:`compare` and :func:`paired_differences` are pure functions on their KPI frames, and :func:`judge`
says of each difference whether it is distinguishable (CI excludes 0) and whether it matters (the whole CI
lies beyond a minimum difference that matters, :mod:`sim.config.matters`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.analysis import runner
from sim.analysis.stats import check_kpis, mean_ci, paired_ci, paired_values, t_quantile
from sim.config import matters as matters_config
from sim.config.errors import UsageError
from sim.config.matters import Threshold
from sim.config.scenario import Scenario

COLUMNS = ("scenario", "kpi", "n", "mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low", "diff_ci_high",
           "distinguishable", "unpaired_ci_low", "unpaired_ci_high")


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
    half = float(t_quantile(0.5 + level / 2, dof)) * math.sqrt(se2)
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
    names, base = _names_and_base(runs, base)
    ref = runs[base].sort_values("replication").reset_index(drop=True)
    cols = kpis or [c for c in ref.columns if c != "replication"]
    check_kpis(cols, ref.columns)
    rows = []
    for name in names:
        frame = runs[name].sort_values("replication").reset_index(drop=True)
        if not np.array_equal(frame["replication"].to_numpy(), ref["replication"].to_numpy()):
            raise UsageError(f"scenario {name!r} was not run on the same replications as {base!r}; "
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


def _names_and_base(runs: Mapping[str, Any], base: str | None) -> tuple[list[str], str]:
    """The scenarios' names and the base's (default: the first), refusing none and an unknown base."""
    if not runs:
        raise UsageError("nothing to compare: allowed: one or more scenarios' KPI frames")
    names = list(runs)
    base = names[0] if base is None else base
    if base not in runs:
        raise UsageError(f"base = {base!r}; allowed: one of {names}")
    return names, base


DIFFERENCE_COLUMNS = ("kpi", "base_mean", "other_mean", "diff_mean", "diff_ci_low", "diff_ci_high", "n",
                      "excludes_zero")


def paired_differences(base: pd.DataFrame, other: pd.DataFrame, kpis: Iterable[str],
                       level: float = 0.95) -> pd.DataFrame:
    """Per KPI, the means of two runs and the paired difference ``other - base`` with its t-based CI.

    Both runs must share replication numbers (same seed: common random numbers), so replication r of
    each saw the same patients and the same toxicity draws and the difference cancels most noise.

    Parameters
    ----------
    base, other : DataFrame
        KPI frames with a ``replication`` column.
    kpis : iterable of str
        KPIs to compare; those missing from either frame are skipped.
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        :data:`DIFFERENCE_COLUMNS`: means over the shared replications, the difference and its CI, the
        number of pairs and whether the CI excludes 0.

    Raises
    ------
    UsageError
        If the two runs share no replication numbers.
    """
    rows = []
    for kpi in kpis:
        if kpi not in base.columns or kpi not in other.columns or kpi == "replication":
            continue
        a, b = paired_values(base, other, kpi)
        mean, lo, hi = paired_ci(a, b, level)
        rows.append({"kpi": kpi, "base_mean": float(np.nanmean(a)), "other_mean": float(np.nanmean(b)),
                     "diff_mean": mean, "diff_ci_low": lo, "diff_ci_high": hi, "n": int(np.isfinite(b - a).sum()),
                     "excludes_zero": excludes_zero(lo, hi)})
    return pd.DataFrame(rows, columns=list(DIFFERENCE_COLUMNS))


# --------------------------------------------------------------------------- running scenarios on one seed

def unique_names(names: Sequence[str]) -> list[str]:
    """The names with repeats numbered (``a``, ``a#2``): the same scenario twice would collide as a key."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


@dataclass(frozen=True)
class Comparison:
    """Scenarios run on one seed and the same replications, and what their paired differences say."""

    base: str
    seed: int
    reps: int
    runs: dict[str, runner.RunResult]     # in the order given, the base first
    table: pd.DataFrame                   # :func:`compare` of the runs

    def by_programme(self, kpis: Sequence[str] | None = None, level: float = 0.95) -> pd.DataFrame:
        """:func:`compare_programmes` of the runs: each programme's own KPIs, paired by replication and
        programme, against the base's same programme."""
        return compare_programmes({n: r.by_programme for n, r in self.runs.items()}, self.base, level, kpis)

    def differences(self, other: str | None = None, kpis: Iterable[str] | None = None,
                    level: float = 0.95) -> pd.DataFrame:
        """:func:`paired_differences` of ``other`` (default: the first that is not the base) minus the base."""
        names = [n for n in self.runs if n != self.base]
        other = names[0] if other is None and names else other
        if other not in self.runs:
            raise UsageError(f"other = {other!r}; allowed: one of {names}")
        base = self.runs[self.base].kpis
        return paired_differences(base, self.runs[other].kpis,
                                  kpis if kpis is not None else [c for c in base.columns if c != "replication"],
                                  level)


PROGRAMME_COLUMNS = ("programme", *COLUMNS)


def compare_programmes(by_programme: Mapping[str, pd.DataFrame], base: str | None = None, level: float = 0.95,
                       kpis: Sequence[str] | None = None) -> pd.DataFrame:
    """Per programme, :func:`compare` of its own KPIs across the scenarios that hold it.

    A programme's rows of replication r in two scenarios are paired like their totals: with the same seed
    its patients are the same (a programme draws from streams keyed by its name), so the difference is
    what the other programmes and the shared places did to it.

    Parameters
    ----------
    by_programme : mapping of scenario name to frame
        ``RunResult.by_programme`` of each scenario (replication, programme, KPIs); the first is the base
        unless ``base`` is given.
    base : str, optional
        Name of the base scenario.
    level : float
        Confidence level.
    kpis : sequence of str, optional
        KPIs to compare (default: every programme KPI); those a programme does not have (a centre's own,
        such as stock-outs) are left out.

    Returns
    -------
    DataFrame
        :data:`PROGRAMME_COLUMNS`: for each programme of the base (in its order), the rows of :func:`compare`
        for the base and every scenario holding a programme of that name. A programme only in other
        scenarios has nothing to be paired with and is left out.
    """
    _, base = _names_and_base(by_programme, base)
    frames = []
    for programme in dict.fromkeys(by_programme[base]["programme"]):
        runs = {n: f[f["programme"] == programme].drop(columns="programme") for n, f in by_programme.items()}
        runs = {n: f for n, f in runs.items() if len(f)}
        cols = [c for c in (kpis or runs[base].columns) if c in runs[base].columns and c != "replication"]
        if cols:
            frames.append(compare(runs, base, level, cols).assign(programme=programme))
    if not frames:
        return pd.DataFrame(columns=list(PROGRAMME_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(PROGRAMME_COLUMNS)]


def compare_scenarios(scenarios: Mapping[str, Scenario] | Sequence[Scenario], reps: int, *, base: str | None = None,
                      seed: int | None = None, kpis: Sequence[str] | None = None, level: float = 0.95,
                      executor: runner.Executor = "processes", workers: int | None = None, scheduler: Any = None,
                      progress: runner.Progress | None = None, **run_options: Any) -> Comparison:
    """Run scenarios on common random numbers and compare each with the base.

    Parameters
    ----------
    scenarios : mapping of name to Scenario, or a sequence of Scenarios
        A sequence is named by each scenario's ``name`` (repeats numbered ``#2``, ...).
    reps : int
        Replications per scenario.
    base : str, optional
        Name of the base (default: the first).
    seed : int, optional
        One seed for every scenario (default: the base's ``run.seed``).
    kpis : sequence of str, optional
        KPIs in the table (default: all).
    level, executor, workers, scheduler, progress, run_options
        As in :func:`compare` and :func:`sim.analysis.runner.run`; ``progress`` counts all replications.

    Returns
    -------
    Comparison
    """
    if not isinstance(scenarios, Mapping):
        scenarios = list(scenarios)
        scenarios = dict(zip(unique_names([getattr(s, "name", "?") for s in scenarios]), scenarios))
    if not scenarios:
        raise UsageError("scenarios is empty; allowed: one or more scenarios, the base first")
    base = next(iter(scenarios)) if base is None else base
    if base not in scenarios:
        raise UsageError(f"base = {base!r}; allowed: one of {list(scenarios)}")
    if kpis is not None:
        check_kpis(kpis)
    runner.check_run_args(scenarios[base], reps, executor, workers=workers, scheduler=scheduler)
    seed = scenarios[base].run.seed if seed is None else seed
    runs = runner.run_many(scenarios, reps, seed, executor, workers, scheduler, progress, **run_options)
    table = compare({n: r.kpis for n, r in runs.items()}, base=base, level=level, kpis=list(kpis) if kpis else None)
    return Comparison(base=base, seed=seed, reps=reps, runs=runs, table=table)


# --------------------------------------------------------------------------- distinguishable, and does it matter

JUDGED_COLUMNS = ("scenario", "kpi", "n", "base_mean", "mean", "diff_mean", "diff_ci_low", "diff_ci_high",
                  "distinguishable", "threshold", "matters")
# What the CI of a difference says against the minimum difference that matters, t:
MATTERS = ("matters",          # the whole CI lies beyond +t or beyond -t
           "does not matter",  # the whole CI lies within -t..+t (t > 0)
           "unclear")          # the CI reaches across +t or -t (or has no bounds)


def matters_verdict(low: float, high: float, threshold: float) -> str:
    """One of :data:`MATTERS` for a difference's CI ``[low, high]`` and a threshold ``>= 0``.

    With a threshold of 0 "matters" is the same as "distinguishable" (the CI excludes 0).
    """
    if math.isnan(low) or math.isnan(high):   # no bounds (too few replications): nothing can be said
        return MATTERS[2]
    if low > threshold or high < -threshold:
        return MATTERS[0]
    if threshold > 0 and -threshold <= low and high <= threshold:
        return MATTERS[1]
    return MATTERS[2]


def judge(table: pd.DataFrame, base: str, thresholds: Mapping[str, Threshold] | None = None) -> pd.DataFrame:
    """Each non-base scenario's paired difference from the base, with both verdicts.

    Parameters
    ----------
    table : DataFrame
        :func:`compare` of the scenarios (columns :data:`COLUMNS`, the base's rows included).
    base : str
        The base scenario's name.
    thresholds : mapping of KPI to Threshold, optional
        The minimum difference that matters per KPI; KPIs not in it take the defaults of
        :mod:`sim.config.matters` (a planning convention).

    Returns
    -------
    DataFrame
        :data:`JUDGED_COLUMNS`, one row per KPI and non-base scenario (the KPIs in the table's order,
        each with every scenario in turn, so a reader compares the strategies measure by measure):
        ``base_mean`` and ``mean`` of the two, the difference and its CI, ``distinguishable`` (the CI
        excludes 0), ``threshold`` (in the KPI's raw unit; a share as a fraction) and ``matters`` (one
        of :data:`MATTERS`).
    """
    if base not in set(table["scenario"]):
        raise UsageError(f"base = {base!r}; allowed: one of {list(dict.fromkeys(table['scenario']))}")
    chosen = dict(thresholds or {})
    base_means = table[table["scenario"] == base].set_index("kpi")["mean"]
    rows = table[table["scenario"] != base]
    amounts = [chosen.get(k, matters_config.threshold(k)).amount(base_means[k]) for k in rows["kpi"]]
    out = rows.assign(base_mean=base_means.reindex(rows["kpi"]).to_numpy(), threshold=amounts)
    out["matters"] = [matters_verdict(lo, hi, t) for lo, hi, t in
                      zip(out["diff_ci_low"], out["diff_ci_high"], out["threshold"])]
    order = {k: i for i, k in enumerate(dict.fromkeys(out["kpi"]))}
    out = out.sort_values("kpi", key=lambda col: col.map(order), kind="stable")
    return out[list(JUDGED_COLUMNS)].reset_index(drop=True)
