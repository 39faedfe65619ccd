"""``python -m sim sensitivity SCENARIO --param KEY=LOW:HIGH [...]``: a tornado table, or a grid with --grid.

One-way (default): the baseline and each parameter at its low and high value, the others at
baseline, all on the same seeds; writes tornado.csv and prints, per KPI, the parameters sorted by
swing. ``--grid``: every combination of the parameters' values (``LOW:HIGH`` gives ``--levels``
evenly spaced values; ``V1,V2,...`` lists them), each point through the runner, so
``--executor dask`` takes a large grid to a cluster; writes grid.csv. See :mod:`sim.analysis.sensitivity`.
In a centre a programme's fields are reached through it: ``programmes.<name>.demand.patients_per_week``.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import numpy as np

from sim.cli.common import (
    add_executor_args,
    add_scenario_args,
    centre_note,
    check_out_folder,
    executor_of,
    kpi_list,
    load_scenario,
    positive_int,
    progress_bar,
    seed,
    write_csv,
)
from sim.config.errors import UsageError

DEFAULT_LEVELS = 3
_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_INT = re.compile(r"^[-+]?\d+$")


def add_parser(subparsers) -> None:
    from sim.analysis.sensitivity import DEFAULT_KPIS

    p = subparsers.add_parser(
        "sensitivity", help="one-way sensitivity (tornado) or a full-factorial grid over scenario parameters",
        description="Vary scenario fields on common random numbers. One-way: baseline, then each --param at "
                    "its low and high value (tornado.csv, sorted by swing). --grid: every combination "
                    "(grid.csv). Values are validated exactly like the scenario file.")
    add_scenario_args(p)
    p.add_argument("--param", dest="params", action="append", default=[], metavar="KEY=LOW:HIGH",
                   help="a scenario field and its range, e.g. demand.patients_per_week=2:6 or "
                        "drug.crs.rate=0.45:0.65 (in a centre: programmes.NAME.demand.patients_per_week=1:2); "
                        "with --grid also a list, e.g. capacity.chairs=8,10,12 (repeatable)")
    p.add_argument("--kpis", default=",".join(DEFAULT_KPIS), metavar="A,B",
                   help=f"KPIs to tabulate (default {','.join(DEFAULT_KPIS)})")
    p.add_argument("--grid", action="store_true", help="run the full factorial of the parameters instead (grid.csv)")
    p.add_argument("--levels", type=positive_int, default=DEFAULT_LEVELS,
                   help=f"with --grid: values per LOW:HIGH range, evenly spaced (default {DEFAULT_LEVELS})")
    p.add_argument("--reps", type=positive_int, default=30,
                   help="replications per point (default 30; at least 2 for a CI)")
    p.add_argument("--seed", type=seed, default=None, help="seed for every point (default: the scenario's run.seed)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for tornado.csv / grid.csv (default: results/NAME-sensitivity)")
    add_executor_args(p)
    p.set_defaults(func=cmd_sensitivity)


def _number(text: str, where: str) -> float | int:
    t = text.strip()
    if not _NUMBER.match(t):
        raise UsageError(f"--param {where}: {t!r} is not a number; allowed: numbers, e.g. 2:6 or 2,4,6")
    return int(t) if _INT.match(t) else float(t)


def _spaced(low: float | int, high: float | int, levels: int) -> tuple[float | int, ...]:
    """``levels`` evenly spaced values from low to high; whole numbers stay whole (rounded, de-duplicated)."""
    if isinstance(low, int) and isinstance(high, int):
        return tuple(dict.fromkeys(int(round(v)) for v in np.linspace(low, high, levels)))
    return tuple(float(v) for v in np.linspace(low, high, levels))


def parse_param(text: str, grid: bool = False, levels: int = DEFAULT_LEVELS):
    """Parse ``KEY=LOW:HIGH`` or ``KEY=V1,V2,...`` into a checked :class:`~sim.analysis.sensitivity.Param`.

    For a grid, ``LOW:HIGH`` expands to ``levels`` evenly spaced values and a list may have any length;
    one-way sensitivity takes exactly two values, low then high.

    Raises
    ------
    UsageError
        For a malformed item, a non-number, a repeated value, or ``LOW >= HIGH``.
    """
    from sim.analysis.sensitivity import param

    if "=" not in text:
        raise UsageError(f"--param {text!r}: expected KEY=LOW:HIGH, e.g. demand.patients_per_week=2:6")
    name, spec = (s.strip() for s in text.split("=", 1))
    if ":" not in spec:
        values = tuple(_number(v, text) for v in spec.split(","))
    else:
        ends = spec.split(":")
        if len(ends) != 2:
            raise UsageError(f"--param {text!r}: expected LOW:HIGH with two numbers")
        low, high = (_number(e, text) for e in ends)
        if not low < high:
            raise UsageError(f"--param {text!r}: LOW = {low} is not below HIGH = {high}")
        if grid and levels < 2:
            raise UsageError(f"--levels {levels}; allowed: 2 or more")
        values = _spaced(low, high, levels) if grid else (low, high)
    try:
        return param(name, values, grid)
    except UsageError as exc:
        raise UsageError(f"--param {text!r}: {exc}") from None


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from sim.analysis import sensitivity

    executor = executor_of(args)
    if not args.params:
        raise UsageError(f"at least one --param is required, e.g. --param {_example(load_scenario(args))}")
    if args.reps < 2:
        raise UsageError(f"--reps {args.reps}; allowed: 2 or more (a confidence interval needs two replications)")
    if args.grid and args.levels < 2:
        raise UsageError(f"--levels {args.levels}; allowed: 2 or more")
    params = [parse_param(t, grid=args.grid, levels=args.levels) for t in args.params]
    sensitivity.check_unique(params)
    kpis = kpi_list(args.kpis)
    if not kpis:
        raise UsageError("--kpis: allowed: one or more KPI names separated by commas")
    scenario = load_scenario(args)
    out = check_out_folder(args.out or Path("results") / f"{scenario.name}-sensitivity")   # before the work
    n_points = math.prod(len(p.values) for p in params) if args.grid else 1 + 2 * len(params)
    if args.grid:
        sensitivity.grid_points(params)          # refuses an oversized grid before anything runs
    with progress_bar(args.quiet, args.reps * n_points) as update:
        table = sensitivity.sensitivity(scenario, params, args.reps, kpis, grid=args.grid, seed=args.seed,
                                        executor=executor, workers=args.workers, scheduler=args.scheduler,
                                        progress=update)
    name = "grid.csv" if args.grid else "tornado.csv"
    write_csv(table, out / name)
    run_seed = scenario.run.seed if args.seed is None else args.seed
    print(f"{scenario.name}: {n_points} points x {args.reps} replications on seed {run_seed} (common random numbers)"
          f"{centre_note(scenario)}")
    print(format_grid(table, params, kpis) if args.grid else format_tornado(table))
    print(f"\nwrote {out}/{name}")
    return 0


def _example(scenario) -> str:
    """An example ``--param`` the scenario takes: its (first programme's) referrals from half to one and a
    half times their value."""
    key, demand = "demand.patients_per_week", scenario.demand.patients_per_week
    if scenario.programmes:
        name, programme = next(iter(scenario.programmes.items()))
        key, demand = f"programmes.{name}.{key}", programme.demand.patients_per_week
    return f"{key}={demand / 2:.3g}:{demand * 1.5:.3g}"


def _ci(mean: float, lo: float, hi: float) -> str:
    if not math.isfinite(lo):
        return f"{mean:.4g}"
    return f"{mean:.4g} [{lo:.4g}, {hi:.4g}]"


def format_tornado(table) -> str:
    """Per KPI: the baseline, then the parameters sorted by swing with the KPI at low and high."""
    lines = []
    width = max(32, *(len(p) for p in table["param"]))   # a programme's key is long
    for kpi, block in table.groupby("kpi", sort=False):
        first = block.iloc[0]
        lines.append(f"\n{kpi}: baseline {_ci(first.value_base, first.value_base_ci_low, first.value_base_ci_high)}")
        lines.append(f"  {'parameter':{width}s} {'low':>9s} {'base':>9s} {'high':>9s}  {'at low':>30s}  {'at high':>30s}  "
                     f"{'swing':>10s}  {'high - low, 95% CI':>24s}")
        for r in block.sort_values("rank").itertuples(index=False):
            diff = f"[{r.diff_ci_low:.4g}, {r.diff_ci_high:.4g}]" if math.isfinite(r.diff_ci_low) else ""
            lines.append(f"  {r.param:{width}s} {r.low:>9g} {r.base:>9.4g} {r.high:>9g}  "
                         f"{_ci(r.value_low, r.value_low_ci_low, r.value_low_ci_high):>30s}  "
                         f"{_ci(r.value_high, r.value_high_ci_low, r.value_high_ci_high):>30s}  "
                         f"{r.swing:>10.4g}  {diff:>24s}")
    return "\n".join(lines).lstrip("\n")


def format_grid(table, params, kpis) -> str:
    """One line per grid point: the parameter values and each KPI's mean with its CI."""
    names = [p.name for p in params]
    head = "  ".join(f"{n[-24:]:>24s}" for n in names) + "  " + "  ".join(f"{k[:30]:>30s}" for k in kpis)
    lines = [head]
    for r in table.to_dict("records"):
        cells = [f"{r[n]:>24g}" for n in names]
        cells += [f"{_ci(r[k], r[f'{k}_ci_low'], r[f'{k}_ci_high']):>30s}" for k in kpis]
        lines.append("  ".join(cells))
    return "\n".join(lines)
