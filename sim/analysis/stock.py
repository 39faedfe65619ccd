"""Stock-level sweeps for pharmacy planners: one parameter, several values, the same seeds.

The one stock-out curve of the project: the CLI's ``stock`` command and the dashboard's stock panel
both draw what :func:`stock_curve` returns.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from sim.analysis import runner
from sim.analysis.sizing import Target
from sim.analysis.stats import mean_ci, share_ci
from sim.analysis.variants import vary
from sim.config.errors import UsageError
from sim.config.scenario import Scenario

CURVE_KPIS = ("toci_doses_delayed", "toci_delay_hours_mean", "toci_stockout_events", "toci_vials_expired",
              "toci_on_hand_mean_mg", "toci_orders", "toci_cost", "doses_held_for_stock")


def stock_param(scenario: Scenario) -> str:
    """The stock level of the scenario's policy: ``pharmacy.order_up_to`` (periodic review) or
    ``pharmacy.reorder_point`` (order when stock falls to it)."""
    check_pharmacy(scenario)
    return "pharmacy.order_up_to" if scenario.pharmacy.policy == "periodic" else "pharmacy.reorder_point"


def check_pharmacy(scenario: Scenario) -> None:
    """Raise :class:`UsageError` unless the scenario models tocilizumab stock."""
    if getattr(scenario, "pharmacy", None) is None:
        raise UsageError(f"scenario {getattr(scenario, 'name', scenario)!r} has no [pharmacy] section; allowed: a "
                         "scenario that models tocilizumab stock (see scenarios/base.toml)")


def stock_curve(scenario: Scenario, values: Sequence[float], param: str | None = None, reps: int = 100,
                seed: int | None = None, executor: runner.Executor = "processes", workers: int | None = None,
                scheduler: Any = None, progress: runner.Progress | None = None, level: float = 0.95) -> pd.DataFrame:
    """Run the scenario at each value of ``param`` on the same seeds (common random numbers).

    Parameters
    ----------
    scenario : Scenario
        A scenario with a ``[pharmacy]`` section.
    values : sequence of float
        Values of ``param``, in the order the rows come back.
    param : str, optional
        Dotted scenario field (default: the policy's stock level, see :func:`stock_param`).
    reps : int
        Replications per value.
    seed, executor, workers, scheduler, progress
        As in :func:`sim.analysis.runner.run`; one seed (default the scenario's) for every value, and
        ``progress(done, total)`` counts replications over all values.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per value: ``param``, ``replications``, ``p_stockout`` (share of replications with a
        stock-out) with its Wilson interval, and mean with t interval of each of :data:`CURVE_KPIS`.

    Raises
    ------
    UsageError, ScenarioError
        For a scenario without stock, no values, or a value the field does not take; before any run.
    """
    param = stock_param(scenario) if param is None else param
    check_pharmacy(scenario)
    if len(values) == 0:
        raise UsageError("values is empty; allowed: one or more stock levels, e.g. [800, 1600, 2400]")
    points = {i: vary(scenario, {param: v}) for i, v in enumerate(values)}   # all validated before any run
    seed = scenario.run.seed if seed is None else seed
    runs = runner.run_many(points, reps, seed, executor, workers, scheduler, progress)
    return pd.DataFrame([_row(param, v, runs[i].kpis, level) for i, v in enumerate(values)])


def _row(param: str, value: float, kpis: pd.DataFrame, level: float) -> dict[str, float]:
    share, lo, hi, n = share_ci(kpis["p_stockout"].to_numpy(), level)
    row = {param: value, "replications": n, "p_stockout": share, "p_stockout_ci_low": lo, "p_stockout_ci_high": hi}
    for col in CURVE_KPIS:
        mean, _, c_lo, c_hi, _ = mean_ci(kpis[col].to_numpy(), level)
        row.update({col: mean, f"{col}_ci_low": c_lo, f"{col}_ci_high": c_hi})
    return row


def smallest_meeting(curve: pd.DataFrame, param: str, target: float) -> float | None:
    """Smallest value whose stock-out probability's upper Wilson bound is at or below ``target``."""
    rule = Target("p_stockout", "<=", target)
    meeting = [float(r[param]) for r in curve.to_dict("records")
               if rule.met(r["p_stockout_ci_low"], r["p_stockout_ci_high"])]
    return min(meeting) if meeting else None
