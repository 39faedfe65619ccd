"""``python -m sim compare BASE.toml OTHER.toml [...]``: scenarios on common random numbers.

Every scenario runs replications 0..N-1 on one seed (the base's ``run.seed``, or ``--seed``), so
replication r of each scenario has the same patients and toxicity draws; the paired differences
from the base are in ``comparison.csv`` (see :mod:`sim.analysis.compare`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sim.cli.common import (
    add_executor_args,
    add_save_args,
    executor_of,
    kpi_list,
    positive_int,
    progress_bar,
    seed,
)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="run scenarios on the same seeds and report paired differences from the first",
        description="Run BASE and each OTHER on the same seed and replications (common random numbers) and "
                    "write comparison.csv: per scenario and KPI the mean, the paired difference from BASE "
                    "with its t-based 95%% CI, and whether that CI excludes 0.")
    p.add_argument("base", help="base scenario TOML")
    p.add_argument("others", nargs="+", metavar="other", help="scenario TOML(s) compared with the base")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field in every scenario, e.g. --set capacity.observation_beds=5 (repeatable)")
    p.add_argument("--reps", type=positive_int, default=100, help="replications per scenario (default 100)")
    p.add_argument("--seed", type=seed, default=None, help="seed for all scenarios (default: the base's run.seed)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: results/compare-BASE_NAME)")
    p.add_argument("--kpis", default=None, metavar="A,B", help="only these KPIs (default: all)")
    add_executor_args(p)
    add_save_args(p)
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.analysis import compare
    from sim.analysis.stats import check_kpis
    from sim.config import loader
    from sim.storage import runs
    from sim.storage.output import preflight

    executor = executor_of(args)
    kpis = kpi_list(args.kpis) or None
    if kpis:
        check_kpis(kpis)
    scenarios = [loader.load(p, args.overrides) for p in [args.base, *args.others]]   # all validated before any run
    out = args.out or Path("results") / f"compare-{scenarios[0].name}"
    # every output path is checked before the first replication, not after the work
    preflight(out, scenarios[0], args.reps, runs_dir=args.runs_dir if args.save else None, keep_occupancy=False,
              scenarios=len(scenarios))
    started = runs.utc_now()
    with progress_bar(args.quiet, args.reps * len(scenarios)) as update:
        result = compare.compare_scenarios(scenarios, args.reps, seed=args.seed, kpis=kpis, executor=executor,
                                           workers=args.workers, scheduler=args.scheduler, progress=update)
    finished = runs.utc_now()
    _write(out, result)
    others = [f"{n} ({r.scenario.run.seed})" for n, r in result.runs.items()
              if n != result.base and r.scenario.run.seed != result.seed]
    print(f"{len(result.runs)} scenarios x {args.reps} replications on seed {result.seed} (common random numbers)"
          + (f"; run.seed of {', '.join(others)} replaced by the common seed" if others else ""))
    print(format_comparison(result.table, result.base, scenarios[0].costs.currency))
    print(f"\nwrote {out}/comparison.csv, kpis.csv")
    if args.save:
        _save(result, args, executor, started, finished)
    return 0


def format_comparison(table: pd.DataFrame, base: str, currency: str = "USD") -> str:
    """The comparison as text, as the dashboard writes it: one block per non-base scenario, one line per
    KPI with the means in the KPI's unit (shares in %, money with its currency), the difference in
    percentage points for a share, and both verdicts (:func:`sim.analysis.compare.judge`: distinguishable,
    and whether it matters against the default minimum difference); no number in scientific notation.

    Parameters
    ----------
    table : DataFrame
        :func:`sim.analysis.compare.compare`: scenario, kpi, mean, diff_mean, diff_ci_low, diff_ci_high,
        distinguishable.
    base : str
        The base scenario's name.
    currency : str
        The scenarios' currency.
    """
    from sim.analysis.compare import judge
    from sim.metrics import formats

    blocks = []
    for name, part in judge(table, base).groupby("scenario", sort=False):
        lines = [f"{name} vs {base} (paired difference, 95% CI; * = CI excludes 0; pp = percentage points; "
                 "matters: against the minimum difference in sim/config/matters.toml)",
                 f"{'KPI':36s} {'base':>14s} {'other':>14s} {'difference':>14s}   {'95% CI':>30s}    matters?"]
        for r in part.itertuples(index=False):
            ci = formats.format_diff_ci(r.kpi, r.diff_ci_low, r.diff_ci_high, currency)
            lines.append(f"{r.kpi:36s} {formats.format_value(r.kpi, r.base_mean, currency):>14s} "
                         f"{formats.format_value(r.kpi, r.mean, currency):>14s} "
                         f"{formats.format_diff(r.kpi, r.diff_mean, currency):>14s}   "
                         f"{'' if ci == 'n/a' else ci:>30s}{' *' if r.distinguishable else '  '}  {r.matters}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _long_kpis(result) -> pd.DataFrame:
    return pd.concat([r.kpis.assign(scenario=n) for n, r in result.runs.items()], ignore_index=True)


def _save(result, args: argparse.Namespace, executor: str, started: str, finished: str) -> None:
    from sim.storage import runs
    from sim.storage.output import resolved_toml

    summary = pd.concat([r.summary().assign(scenario=n) for n, r in result.runs.items()], ignore_index=True)
    manifest = runs.new_manifest(
        kind="compare", scenarios={n: resolved_toml(r) for n, r in result.runs.items()}, seed=result.seed,
        replications=args.reps, executor=executor, started=started, finished=finished,
        extra={"base": result.base, "workers": args.workers, "scheduler": args.scheduler})
    path = runs.save(args.runs_dir, manifest, {"kpis": _long_kpis(result), "summary": summary,
                                               "comparison": result.table})
    print(f"saved run {path.name} in {path.parent}")


def _write(out: Path, result) -> None:
    """comparison.csv and kpis.csv (long, with a scenario column), both or neither."""
    from sim.storage.output import atomic_folder

    with atomic_folder(out) as tmp:
        result.table.to_csv(tmp / "comparison.csv", index=False)
        _long_kpis(result).to_csv(tmp / "kpis.csv", index=False)
