"""``python -m sim compare BASE.toml OTHER.toml [...]``: scenarios on common random numbers.

Every scenario runs replications 0..N-1 on one seed (the base's ``run.seed``, or ``--seed``), so
replication r of each scenario has the same patients and toxicity draws; the paired differences
from the base are in ``comparison.csv`` (see :mod:`sim.compare`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def add_parser(subparsers) -> None:
    from sim.cli.main import _positive_int, _seed, add_executor_args, add_save_args

    p = subparsers.add_parser(
        "compare", help="run scenarios on the same seeds and report paired differences from the first",
        description="Run BASE and each OTHER on the same seed and replications (common random numbers) and "
                    "write comparison.csv: per scenario and KPI the mean, the paired difference from BASE "
                    "with its t-based 95%% CI, and whether that CI excludes 0.")
    p.add_argument("base", help="base scenario TOML")
    p.add_argument("others", nargs="+", metavar="other", help="scenario TOML(s) compared with the base")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field in every scenario, e.g. --set capacity.observation_beds=5 (repeatable)")
    p.add_argument("--reps", type=_positive_int, default=100, help="replications per scenario (default 100)")
    p.add_argument("--seed", type=_seed, default=None, help="seed for all scenarios (default: the base's run.seed)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: results/compare-BASE_NAME)")
    p.add_argument("--kpis", default=None, metavar="A,B", help="only these KPIs (default: all)")
    add_executor_args(p)
    add_save_args(p)
    p.set_defaults(func=cmd_compare)


def _unique_names(names: list[str]) -> list[str]:
    # The same scenario twice (or two files with one name) would collide as table keys.
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def cmd_compare(args: argparse.Namespace) -> int:
    from sim import metrics
    from sim.analysis import compare, runner, stats
    from sim.cli.main import executor_of, progress_bar
    from sim.config import loader
    from sim.storage import runs
    from sim.storage.output import preflight, resolved_toml

    executor = executor_of(args)
    kpis = [k.strip() for k in args.kpis.split(",") if k.strip()] if args.kpis else None
    if kpis:
        unknown = [k for k in kpis if k not in metrics.KPI_COLUMNS or k == "replication"]
        if unknown:
            raise ValueError(f"unknown KPI(s) {', '.join(unknown)}; see the columns of kpis.csv")
    paths = [args.base, *args.others]
    scenarios = [loader.load(p, args.overrides) for p in paths]   # all validated before any run
    names = _unique_names([s.name for s in scenarios])
    seed = scenarios[0].run.seed if args.seed is None else args.seed
    out = args.out or Path("results") / f"compare-{names[0]}"
    # every output path is checked before the first replication, not after the work
    preflight(out, scenarios[0], args.reps, runs_dir=args.runs_dir if args.save else None, keep_occupancy=False,
              scenarios=len(scenarios))
    started = runs.utc_now()
    results = {}
    with progress_bar(args.quiet, args.reps * len(scenarios)) as update:
        # one Dask LocalCluster for all scenarios, not one per scenario
        with runner.shared_scheduler(executor, args.scheduler, args.workers) as scheduler:
            for i, (name, scen) in enumerate(zip(names, scenarios)):
                cb = (lambda d, _t, off=i * args.reps: update(off + d, 0)) if update else None
                results[name] = runner.run(scen, args.reps, seed=seed, executor=executor, workers=args.workers,
                                           progress=cb, scheduler=scheduler)
    finished = runs.utc_now()
    table = compare.compare({n: r.kpis for n, r in results.items()}, base=names[0], kpis=kpis)

    _write(out, table, results)
    others = [f"{n} ({s.run.seed})" for n, s in zip(names[1:], scenarios[1:]) if s.run.seed != seed]
    print(f"{len(names)} scenarios x {args.reps} replications on seed {seed} (common random numbers)"
          + (f"; run.seed of {', '.join(others)} replaced by the common seed" if others else ""))
    print(compare.format_table(table, names[0]))
    print(f"\nwrote {out}/comparison.csv, kpis.csv")
    if args.save:
        kpi_long = pd.concat([r.kpis.assign(scenario=n) for n, r in results.items()], ignore_index=True)
        summary = pd.concat([stats.summary(r.kpis).assign(scenario=n) for n, r in results.items()], ignore_index=True)
        manifest = runs.new_manifest(
            kind="compare", scenarios={n: resolved_toml(r) for n, r in results.items()}, seed=seed,
            replications=args.reps, executor=executor, started=started, finished=finished,
            extra={"base": names[0], "workers": args.workers, "scheduler": args.scheduler})
        path = runs.save(args.runs_dir, manifest, {"kpis": kpi_long, "summary": summary, "comparison": table})
        print(f"saved run {path.name} in {path.parent}")
    return 0


def _write(out: Path, table: pd.DataFrame, results: dict) -> None:
    """comparison.csv and kpis.csv (long, with a scenario column), both or neither."""
    from sim.storage.output import atomic_folder

    with atomic_folder(out) as tmp:
        table.to_csv(tmp / "comparison.csv", index=False)
        pd.concat([r.kpis.assign(scenario=n) for n, r in results.items()],
                  ignore_index=True).to_csv(tmp / "kpis.csv", index=False)
