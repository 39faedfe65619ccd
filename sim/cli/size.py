"""``python -m sim size SCENARIO --resource R --target "KPI<=X" [...]``: the smallest capacity meeting a service level.

One resource: the smallest capacity in ``[--min, --max]`` at which every target holds with 95%
confidence (see :mod:`sim.sizing`). Two resources (``--resource chairs,observation_beds``): the
cheapest feasible pair under ``--unit-cost``. Every capacity tried runs the same replications on the
same seed (common random numbers). Writes sizing.csv: every candidate evaluated, with its KPI means
and CIs, whether it meets each target, and the answer flagged. Exit status 0 when an answer is
found, 1 when no capacity within the bounds meets the targets, 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_UNREACHABLE = 1


def add_parser(subparsers) -> None:
    from sim.cli.main import _positive_int, _seed, add_executor_args, add_scenario_args

    p = subparsers.add_parser(
        "size", help="smallest capacity (or cheapest pair) meeting service-level targets with 95%% confidence",
        description="Find the smallest capacity of --resource at which every --target holds with 95% confidence "
                    "(the CI's upper bound for <=, its lower bound for >=), by bracketing and bisection on common "
                    "random numbers; with two resources, the cheapest feasible pair under --unit-cost. Writes "
                    "sizing.csv with every candidate evaluated. Exit status 1 when no capacity within "
                    "[--min, --max] meets the targets.")
    add_scenario_args(p)
    p.add_argument("--resource", required=True, metavar="NAME[,NAME]",
                   help="resource to size: chairs, observation_beds, ward_beds, ed_bays or icu_beds; two "
                        "separated by a comma for the cheapest feasible pair")
    p.add_argument("--target", dest="targets", action="append", default=[], metavar="KPI<=X",
                   help="service level, KPI<=NUMBER or KPI>=NUMBER, e.g. \"p_dose_postponed<=0.02\" "
                        "(repeatable; all must hold)")
    p.add_argument("--reps", type=_positive_int, default=30,
                   help="replications per capacity tried (default 30; at least 2 for a CI)")
    p.add_argument("--min", dest="min", default=None, metavar="N|R=N,...",
                   help="smallest capacity considered (default 1); one number, or per resource, e.g. "
                        "chairs=4,observation_beds=1")
    p.add_argument("--max", dest="max", default=None, metavar="N|R=N,...",
                   help="largest capacity considered (default 40); as --min")
    p.add_argument("--unit-cost", default=None, metavar="R=COST,...",
                   help="cost of one unit of capacity over the statistics window, for the cheapest pair "
                        "(default: the scenario's per-use price times the hours a unit is available in the "
                        "horizon: chair_hour x opening hours, observation/ward/icu _day x days, "
                        "ed_visit / operations.ed_hours x hours)")
    p.add_argument("--kpis", default=None, metavar="A,B",
                   help="further KPIs to report for every candidate (default: the targets' KPIs and the "
                        "sized resources' utilisation)")
    p.add_argument("--seed", type=_seed, default=None, help="seed for every candidate (default: the scenario's run.seed)")
    p.add_argument("--out", type=Path, default=None, help="folder for sizing.csv (default: results/NAME-size)")
    add_executor_args(p)
    p.set_defaults(func=cmd_size)


def cmd_size(args: argparse.Namespace) -> int:
    import time

    from sim.analysis import sizing
    from sim.analysis.sensitivity import shared_scheduler
    from sim.cli.main import executor_of
    from sim.config import loader
    from sim.storage.output import check_out_folder, write_csv

    executor = executor_of(args)
    resources = sizing.parse_resources(args.resource)
    targets = sizing.parse_targets(args.targets)
    extra = [k.strip() for k in args.kpis.split(",") if k.strip()] if args.kpis else []
    unknown = [k for k in extra if k not in sizing.KPI_NAMES]
    if unknown:
        raise ValueError(f"--kpis: unknown KPI {unknown[0]!r}; allowed KPIs: {', '.join(sizing.KPI_NAMES)}")
    if args.reps < 2:
        raise ValueError(f"--reps {args.reps}; allowed: 2 or more (a confidence interval needs two replications)")
    lo = sizing.parse_bounds(args.min, resources, sizing.DEFAULT_MIN, "--min")
    hi = sizing.parse_bounds(args.max, resources, sizing.DEFAULT_MAX, "--max")
    sizing.check_bounds(lo, hi)
    if len(resources) == 1 and args.unit_cost:
        raise ValueError("--unit-cost is used only with two resources (the cheapest feasible pair)")
    scenario = loader.load(args.scenario, args.overrides)
    out = check_out_folder(args.out or Path("results") / f"{scenario.name}-size")   # before the work
    # Both corners of the search box are validated before anything runs, so a bound the scenario
    # cannot take (e.g. no bookable ward bed) is reported at once rather than mid-search.
    for corner in (lo, hi):
        loader.load(args.scenario, [*args.overrides, *(f"capacity.{r}={v}" for r, v in corner.items())])
    start = {r: getattr(scenario.capacity, r) for r in resources}
    report = [*(f"util_{r}" for r in resources), *extra]
    unit_costs = (sizing.parse_unit_costs(args.unit_cost, resources, sizing.default_unit_costs(scenario))
                  if len(resources) == 2 else None)

    def shout(c) -> None:
        if args.quiet:
            return
        verdict = "meets every target" if c.feasible else "fails"
        parts = [f"{t.kpi} {c.stats[t.kpi][0]:.4g} [{c.stats[t.kpi][1]:.4g}, {c.stats[t.kpi][2]:.4g}]"
                 for t in dict((t.kpi, t) for t in targets).values()]
        print(f"  #{c.order} {', '.join(f'{r}={v}' for r, v in c.point.items())}: {'; '.join(parts)}: {verdict}",
              file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    with shared_scheduler(executor, args.scheduler, args.workers) as sched:
        evaluate = sizing.model_evaluator(args.scenario, args.reps, args.overrides, args.seed, executor,
                                          args.workers, sched)
        if len(resources) == 1:
            (r,) = resources
            result = sizing.size_one(evaluate, r, targets, lo[r], hi[r], start[r], report_kpis=report,
                                     on_candidate=shout)
        else:
            result = sizing.size_pair(evaluate, resources, targets, {r: (lo[r], hi[r]) for r in resources},
                                      unit_costs, start, report_kpis=report, on_candidate=shout)
    seconds = time.perf_counter() - t0

    table = result.table()
    write_csv(table, out / "sizing.csv")

    seed = scenario.run.seed if args.seed is None else args.seed
    print(f"{scenario.name}: sizing {' and '.join(resources)} for {', '.join(str(t) for t in targets)}; "
          f"{args.reps} replications per candidate on seed {seed} (common random numbers); "
          f"{len(result.candidates)} candidates evaluated in {seconds:.1f} s")
    print(format_table(result))
    if result.unit_costs:
        print("unit costs (per unit over the statistics window): "
              + ", ".join(f"{r} {c:,.0f}" for r, c in result.unit_costs.items())
              + ("" if args.unit_cost else " (default: per-use price x hours available)"))
    print()
    print(result.message)
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {out}/sizing.csv")
    return 0 if result.found else EXIT_UNREACHABLE


def format_table(result) -> str:
    """The candidates sorted by capacity: each target KPI's mean and 95% CI, and the verdict."""
    table = result.table()
    order = list(result.resources)
    table = table.sort_values(order, kind="stable")
    kpis = list(dict.fromkeys(t.kpi for t in result.targets))
    head = [f"{r:>16s}" for r in order]
    if result.unit_costs:
        head.append(f"{'capacity cost':>14s}")
    head += [f"{k:>40s}" for k in kpis]
    lines = ["".join(f"{h} " for h in head) + f"{'meets':>6s}"]
    for row in table.to_dict("records"):
        cells = [f"{int(row[r]):>16d}" for r in order]
        if result.unit_costs:
            cells.append(f"{row['capacity_cost']:>14,.0f}")
        for k in kpis:
            ci = f"{row[f'{k}_mean']:.4g} [{row[f'{k}_ci_low']:.4g}, {row[f'{k}_ci_high']:.4g}]"
            cells.append(f"{ci:>40s}")
        mark = ("yes" if row["feasible"] else "no") + ("  <- answer" if row["answer"] else "")
        lines.append("".join(f"{c} " for c in cells) + f"{mark:>6s}")
    return "\n".join(lines)
