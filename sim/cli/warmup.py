"""``python -m sim warmup SCENARIO``: weekly load from an empty start, and an MSER-5 warm-up.

Runs replications with no warm-up over a long horizon, averages weekly mean occupancy per resource
and the weekly census of patients on treatment across replications (a Welch plot's data), and
suggests a warm-up per series by MSER-5 (see :mod:`sim.analysis.warmup`). Writes warmup.csv (the weekly
table) and warmup_suggestion.csv.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import (
    add_executor_args,
    add_scenario_args,
    centre_note,
    check_out_folder,
    executor_of,
    load_scenario,
    positive_int,
    progress_bar,
    seed,
    write_csv,
)
from sim.config.errors import UsageError
from sim.config.scenario import MAX_WEEKS


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "warmup", help="weekly occupancy and census from an empty start, with an MSER-5 warm-up suggestion",
        description="Simulate from empty (warm-up 0) for --weeks weeks, average weekly occupancy and "
                    "census across replications and suggest a warm-up per resource by MSER-5.")
    add_scenario_args(p)
    p.add_argument("--reps", type=positive_int, default=20, help="replications (default 20)")
    p.add_argument("--weeks", type=positive_int, default=156,
                   help="weeks simulated from empty (default 156; at least 20 for MSER-5)")
    p.add_argument("--seed", type=seed, default=None, help="seed (default: the scenario's run.seed)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: results/SCENARIO_NAME)")
    add_executor_args(p)
    p.set_defaults(func=cmd_warmup)


def cmd_warmup(args: argparse.Namespace) -> int:
    from sim.analysis import warmup

    executor = executor_of(args)
    if not warmup.MIN_WEEKS <= args.weeks <= MAX_WEEKS:
        raise UsageError(f"--weeks {args.weeks}; allowed: {warmup.MIN_WEEKS} to {MAX_WEEKS} (MSER-5 needs at least "
                         "4 batches of 5 weeks)")
    scenario = load_scenario(args)
    out = check_out_folder(args.out or Path("results") / scenario.name)   # before the work
    with progress_bar(args.quiet, args.reps) as update:
        result = warmup.warmup(scenario, args.reps, args.weeks, seed=args.seed, executor=executor,
                               workers=args.workers, scheduler=args.scheduler, progress=update)
    write_csv(result.table, out / "warmup.csv")
    write_csv(result.suggestion, out / "warmup_suggestion.csv")
    print(f"{scenario.name}: {args.reps} replications from empty over {args.weeks} weeks, seed {result.seed} "
          f"(the scenario's own warm-up: {scenario.run.warmup_weeks} weeks){centre_note(scenario)}")
    print(format_weeks(result.table))
    print("\nMSER-5 suggested warm-up (weeks):")
    print(format_suggestion(result.suggestion))
    worst = result.suggestion.loc[result.suggestion["warmup_weeks"].idxmax(), "series"]
    print(f"\nlongest suggestion: {result.longest} weeks ({worst}); the scenario uses {scenario.run.warmup_weeks}")
    print(f"wrote {out}/warmup.csv, warmup_suggestion.csv")
    return 0


def format_suggestion(suggestion) -> str:
    """One line per series: the suggested warm-up and the mean before and after the cut."""
    lines = [f"{'series':18s} {'warm-up':>8s} {'weeks 1-5':>10s} {'after cut':>10s}"]
    for r in suggestion.itertuples(index=False):
        flag = "  (at the search limit: run longer with --weeks)" if r.at_limit else ""
        lines.append(f"{r.series:18s} {r.warmup_weeks:>8d} {r.first_weeks_mean:>10.3f} {r.steady_mean:>10.3f}{flag}")
    return "\n".join(lines)


def format_weeks(table, every: int = 4) -> str:
    """Every ``every``-th week of the Welch table (mean across replications)."""
    from sim.analysis.warmup import SERIES

    head = f"{'week':>5s} " + " ".join(f"{s[:12]:>12s}" for s in SERIES)
    rows = [head]
    for r in table.iloc[::every].itertuples(index=False):
        rows.append(f"{r.week:>5d} " + " ".join(f"{getattr(r, s):>12.3f}" for s in SERIES))
    return "\n".join(rows)
