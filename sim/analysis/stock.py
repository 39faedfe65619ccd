"""Stock-level sweeps for pharmacy planners: one parameter, several values, the same seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from sim.analysis import runner
from sim.analysis.sizing import Target
from sim.analysis.stats import mean_ci, wilson
from sim.config import loader

CURVE_KPIS = ("toci_doses_delayed", "toci_delay_hours_mean", "toci_stockout_events", "toci_vials_expired",
              "toci_on_hand_mean_mg", "toci_orders", "toci_cost", "doses_held_for_stock")


def stock_curve(scenario: str | Path, param: str, values: Sequence[float], reps: int,
                overrides: Sequence[str] = (), seed: int | None = None, executor: runner.Executor = "processes",
                progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Run the scenario at each value of ``param`` on the same seeds (common random numbers).

    Returns
    -------
    pandas.DataFrame
        One row per value: ``p_stockout`` (share of replications with a stock-out) with its Wilson
        interval, and mean with t interval of each of :data:`CURVE_KPIS`.
    """
    rows = []
    done_before = 0
    total = reps * len(values)
    for value in values:
        s = loader.load(scenario, [*overrides, f"{param}={value}"])
        report = None if progress is None else (lambda d, _t, base=done_before: progress(base + d, total))
        k = runner.run(s, reps, seed=seed, executor=executor, progress=report).kpis
        done_before += reps
        hits = int((k["p_stockout"] > 0).sum())
        lo, hi = wilson(hits, reps)
        row = {param: value, "replications": reps, "p_stockout": hits / reps, "p_stockout_ci_low": lo,
               "p_stockout_ci_high": hi}
        for col in CURVE_KPIS:
            mean, _, c_lo, c_hi, _ = mean_ci(k[col].to_numpy())
            row.update({col: mean, f"{col}_ci_low": c_lo, f"{col}_ci_high": c_hi})
        rows.append(row)
    return pd.DataFrame(rows)


def smallest_meeting(curve: pd.DataFrame, param: str, target: float) -> float | None:
    """Smallest value whose stock-out probability's upper Wilson bound is at or below ``target``."""
    rule = Target("p_stockout", "<=", target)
    meeting = [float(r[param]) for r in curve.to_dict("records")
               if rule.met(r["p_stockout_ci_low"], r["p_stockout_ci_high"])]
    return min(meeting) if meeting else None
