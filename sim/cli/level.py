"""``python -m sim level SCENARIO --resource observation_beds [...]``: start weekdays that level a shared resource.

Searches each programme's start weekdays, within what its label allows, by coordinate descent on common
random numbers (:mod:`sim.analysis.levelling`): fewest postponed doses first, then the lowest 95th
percentile of the resource's daily peak. Prints every assignment tried, the best per programme and the
paired 95% CIs of its gain against the scenario's own; ``--out`` also writes levelling.csv.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.cli.common import (
    add_executor_args,
    add_scenario_args,
    check_out_folder,
    executor_of,
    load_scenario,
    positive_int,
    seed,
    write_csv,
)
from sim.config.errors import UsageError
from sim.config.scenario import RESOURCES


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "level", help="start weekdays per programme that level a shared resource (fewest postponements, "
                      "then the lowest p95 daily peak)",
        description="Search the start weekdays of each programme of a centre (its own set, and every set of the "
                    "same size its label allows on the centre's open weekdays) by coordinate descent on common "
                    "random numbers, for the fewest postponed doses and then the lowest 95th percentile of "
                    "--resource's daily peak occupancy. Reports the best assignment and the paired 95%% CIs of "
                    "its gain against the scenario's own on the same replications.")
    add_scenario_args(p)
    p.add_argument("--resource", required=True, metavar="NAME",
                   help=f"the shared resource to level: one of {', '.join(RESOURCES)}")
    p.add_argument("--reps", type=positive_int, default=20,
                   help="replications per assignment (default 20; at least 2 for a CI)")
    p.add_argument("--seed", type=seed, default=None,
                   help="seed for every assignment (default: the scenario's run.seed)")
    p.add_argument("--out", type=Path, default=None, help="folder for levelling.csv (default: none written)")
    add_executor_args(p)
    p.set_defaults(func=cmd_level)


def cmd_level(args: argparse.Namespace) -> int:
    from sim.analysis import levelling

    executor = executor_of(args)
    if args.reps < 2:
        raise UsageError(f"--reps {args.reps}; allowed: 2 or more (a confidence interval needs two replications)")
    if args.uncertainty:
        raise UsageError("--uncertainty is not used by level; allowed: level on the scenario's fixed parameters")
    scenario = load_scenario(args)
    levelling.check_resource(scenario, args.resource)
    out = check_out_folder(args.out) if args.out is not None else None   # before the work
    t0 = time.perf_counter()
    result = levelling.level(scenario, args.resource, reps=args.reps, seed=args.seed, executor=executor,
                             workers=args.workers, scheduler=args.scheduler,
                             on_evaluation=None if args.quiet else _shout)
    seconds = time.perf_counter() - t0
    print(f"{scenario.name}: levelling {args.resource}; {args.reps} replications per assignment on seed "
          f"{result.seed} (common random numbers); {len(result.evaluations)} assignments in {seconds:.1f} s")
    print(format_report(result))
    if out is not None:
        write_csv(result.table(), out / "levelling.csv")
        print(f"wrote {out}/levelling.csv")
    return 0


def _shout(evaluation) -> None:
    """One line on stderr per assignment as it finishes."""
    from sim.analysis.levelling import weekday_names

    postponed, peak = evaluation.objective
    days = "; ".join(f"{n} {weekday_names(d)}" for n, d in evaluation.assignment.items())
    print(f"  #{evaluation.order} {days}: postponed {postponed:.2f}, p95 daily peak {peak:.2f}",
          file=sys.stderr, flush=True)


def format_report(result) -> str:
    """The search, the start weekdays each label allows, the best assignment and the paired CI table."""
    from sim.analysis.levelling import weekday_names
    from sim.metrics.formats import format_diff, format_diff_ci, format_value

    names = list(result.own.assignment)
    width = max(12, *(len(weekday_names(d)) for sets in result.candidates.values() for d in sets))
    lines = ["  #  " + "".join(f"{n[:width]:<{width + 2}s}" for n in names)
             + f"{'postponed (mean)':>17s} {'p95 daily peak (mean)':>22s}"]
    for ev in result.evaluations:
        postponed, peak = ev.objective
        mark = "  <- best" if ev is result.best else ("  (own)" if ev is result.own else "")
        lines.append(f"{ev.order:3d}  " + "".join(f"{weekday_names(ev.assignment[n]):<{width + 2}s}" for n in names)
                     + f"{postponed:17.2f} {peak:22.2f}{mark}")
    lines.append("\nstart weekdays each label allows, and the best found:")
    for n in names:
        lines.append(f"  {n}: allowed {weekday_names(result.allowed[n]) or 'none'}; own "
                     f"{weekday_names(result.own.assignment[n])}; best {weekday_names(result.best.assignment[n])}")
    lines.append(f"\nbest - own on the same {result.reps} replications (paired, 95% CI):")
    for row in result.differences.itertuples(index=False):
        k = row.kpi   # daily_peak_p95 is not a registry KPI: written as a plain number
        diff = f"{format_diff(k, row.diff_mean)} [{format_diff_ci(k, row.diff_ci_low, row.diff_ci_high)}]"
        verdict = "distinguishable" if row.excludes_zero else "not distinguishable from 0"
        lines.append(f"  {k:18s} own {format_value(k, row.base_mean):>9s}  best {format_value(k, row.other_mean):>9s}"
                     f"  diff {diff:>34s}  {verdict}")
    lines.append(f"\n{result.message}")
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)
