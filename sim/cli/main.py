"""Command line: ``python -m sim run|validate ...``. Bad input exits with status 2 and one clear message."""

from __future__ import annotations

import argparse
import importlib
import sys
from contextlib import contextmanager
from pathlib import Path

from sim import __version__
from sim.analysis import runner, stats
from sim.cli import exits
from sim.config import loader
from sim.config.errors import ScenarioError, ScenarioErrors

EXIT_BAD_INPUT = 2


COMMANDS = ("compare", "drugs", "runs", "sensitivity", "size", "stock", "trace", "warmup")
"""Modules of :mod:`sim.cli` that each register their sub-command(s) with ``add_parser(subparsers)``
and set ``func`` (a callable taking the parsed args, returning the exit status)."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{value} is outside 0 to 2^63 - 1")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{value} is outside (0, 1); e.g. 0.05 for 5%")
    return value


def add_executor_args(p: argparse.ArgumentParser) -> None:
    """``--executor``, ``--workers``, ``--scheduler`` and ``--quiet``, shared by run-like commands."""
    p.add_argument("--executor", choices=runner.EXECUTORS, default=None,
                   help="where replications run (default: processes, one per core; "
                        "dask when --scheduler is given)")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="worker processes (default: cores; also the LocalCluster size for dask)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default with --executor dask: a local cluster)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--uncertainty", action="store_true",
                   help="draw CRS/ICANS incidence (Beta) and grade mix (Dirichlet) from the published counts in "
                        "every replication; summary.csv then splits the variance into parameter uncertainty "
                        "and run-to-run noise (runs the replications twice)")


def executor_of(args) -> str:
    """The executor asked for: explicit, else dask when a scheduler is named, else processes."""
    if args.executor is None:
        return "dask" if args.scheduler else "processes"
    if args.scheduler and args.executor != "dask":
        raise ValueError(f"--scheduler needs --executor dask (got --executor {args.executor})")
    return args.executor


def add_save_args(p: argparse.ArgumentParser) -> None:
    """``--save`` and ``--runs-dir``."""
    from sim.storage.runs import DEFAULT_RUNS_DIR

    p.add_argument("--save", action="store_true", help="also store the run (Parquet + manifest) under --runs-dir")
    p.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR,
                   help=f"folder of saved runs (default: {DEFAULT_RUNS_DIR}/)")


def add_scenario_args(p: argparse.ArgumentParser) -> None:
    """The positional SCENARIO (default: the reference scenario) and repeatable ``--set KEY=VALUE``."""
    p.add_argument("scenario", nargs="?", default=str(loader.DEFAULT_SCENARIO),
                   help="scenario TOML file (default: the tarlatamab outpatient reference scenario)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field, e.g. --set capacity.observation_beds=5 (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = exits.OneLineParser(prog="python -m sim", description=(
        "Capacity simulation of bispecific T-cell engager step-up dosing."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="simulate a scenario and print every KPI with its 95%% CI")
    p.set_defaults(func=cmd_run)
    add_scenario_args(p)
    p.add_argument("--reps", type=_positive_int, default=None,
                   help="replications (default 100; with --precision: the first batch)")
    p.add_argument("--seed", type=_seed, default=None, help="seed (default: the scenario's run.seed)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: results/SCENARIO_NAME)")
    add_executor_args(p)
    g = p.add_argument_group("replications by precision (Hoad, Robinson and Davies 2010)")
    g.add_argument("--precision", type=_fraction, default=None, metavar="FRACTION",
                   help="add replications until each --kpis CI half-width is within FRACTION of its mean")
    g.add_argument("--kpis", default=None, metavar="A,B", help="KPIs the precision applies to (comma-separated)")
    g.add_argument("--max-reps", type=_positive_int, default=1000, help="stop here if not precise (default 1000)")
    g.add_argument("--batch", type=_positive_int, default=20, help="replications added per batch (default 20)")
    g.add_argument("--k-limit", type=_positive_int, default=5,
                   help="look-ahead: replications the precision must hold for before it is accepted (default 5)")
    add_save_args(p)

    p = sub.add_parser("validate", help="check a scenario file and print its resolved form")
    p.set_defaults(func=cmd_validate)
    add_scenario_args(p)
    p.add_argument("--print", dest="show", action="store_true", help="print the fully resolved scenario TOML")
    for name in COMMANDS:
        importlib.import_module(f"sim.cli.{name}").add_parser(sub)
    return parser


@contextmanager
def progress_bar(quiet: bool, total: int):
    """Yield a progress callback for :func:`sim.runner.run` (None when quiet); the bar closes on exit."""
    if quiet:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit="rep", file=sys.stderr, disable=None, dynamic_ncols=True)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


def format_summary(summary) -> str:
    lines = [f"{'KPI':36s} {'mean':>14s}   {'95% CI':>31s}"]
    for row in summary.itertuples(index=False):
        ci = "" if row.ci_low != row.ci_low else f"[{row.ci_low:>13.5g}, {row.ci_high:>13.5g}]"
        lines.append(f"{row.kpi:36s} {row.mean:>14.5g}   {ci:>31s}")
    return "\n".join(lines)


OCCUPANCY_BUDGET_BYTES = 2 * 1024**3


def check_occupancy_budget(scenario, reps: int) -> None:
    """Refuse, before any simulation, a run whose kept hourly occupancy (4 bytes x hours x resources
    x replications) would not fit in memory."""
    if not 1 <= reps <= runner.MAX_REPLICATIONS:
        raise ValueError(f"reps = {reps}; allowed: 1 to {runner.MAX_REPLICATIONS}")
    per_rep = scenario.run.horizon_weeks * 168 * 5 * 4
    if reps * per_rep > OCCUPANCY_BUDGET_BYTES:
        raise ValueError(f"--reps = {reps}: the hourly occupancy of {reps} replications of "
                         f"{scenario.run.horizon_weeks} weeks needs {reps * per_rep / 1024**3:.1f} GB; allowed: "
                         f"at most {OCCUPANCY_BUDGET_BYTES // per_rep} replications for this horizon")


def cmd_run(args) -> int:
    from sim.storage import runs
    from sim.storage.output import preflight, save_result, write_run

    executor = executor_of(args)
    if (args.precision is None) != (args.kpis is None):
        raise ValueError("--precision and --kpis go together, e.g. --precision 0.05 --kpis crs_rate,util_observation_beds")
    scenario = loader.load(args.scenario, args.overrides)
    fixed = None
    if args.uncertainty:
        if args.precision is not None:
            raise ValueError("--uncertainty and --precision do not go together; allowed: one of them")
        fixed = scenario
        scenario = scenario.model_copy(update={"run": scenario.run.model_copy(update={"parameter_uncertainty": True})})
    reps = args.reps or 100
    if args.precision is None:
        check_occupancy_budget(scenario, reps)
    out = args.out or Path("results") / scenario.name
    # every output path is checked before the first replication, not after the work
    preflight(out, scenario, args.max_reps if args.precision is not None else reps,
              runs_dir=args.runs_dir if args.save else None)
    started = runs.utc_now()
    assessment = None
    if args.precision is not None:
        result, assessment = run_to_precision(scenario, args, executor)
    else:
        with progress_bar(args.quiet, reps) as update:
            result = runner.run(scenario, reps, seed=args.seed, executor=executor, workers=args.workers,
                                progress=update, keep_occupancy=True, scheduler=args.scheduler)
    finished = runs.utc_now()
    n = len(result.kpis)
    uncertainty = None
    if fixed is not None:
        from sim.analysis.uncertainty import decompose

        noise = runner.run(fixed, n, seed=result.seed, executor=executor, workers=args.workers,
                           scheduler=args.scheduler).kpis
        uncertainty = decompose(result.kpis, noise)
    write_run(result, out, summary=uncertainty)
    print(f"{scenario.name}: {n} replications, seed {result.seed}, statistics over "
          f"{scenario.run.horizon_weeks} weeks after {scenario.run.warmup_weeks} weeks of warm-up")
    print(format_summary(stats.summary(result.kpis)))
    if uncertainty is not None:
        shown = uncertainty[uncertainty["kpi"].isin(["crs_rate", "icans_rate", "ed_visits", "icu_bed_days",
                                                      "unplanned_ward_admissions", "cost_per_patient_started"])]
        print("\nshare of the variance across replications due to parameter uncertainty:")
        for r in shown.itertuples(index=False):
            print(f"  {r.kpi:34s} {r.share_parameter:6.1%}")
    if assessment is not None:
        print()
        print(format_assessment(assessment, args.precision, args.k_limit))
    print(f"\nwrote {out}/kpis.csv, summary.csv, occupancy.parquet, scenario.toml")
    if args.save:
        extra = {"workers": args.workers, "scheduler": args.scheduler}
        if assessment is not None:
            extra["precision"] = {"target": args.precision, "kpis": [s.kpi for s in assessment.solutions],
                                  "k_limit": args.k_limit, "replications_needed": assessment.n_needed}
        path = save_result(result, args.runs_dir, executor=executor, started=started, finished=finished, extra=extra)
        print(f"saved run {path.name} in {path.parent}")
    return 0


def run_to_precision(scenario, args, executor: str):
    """Add batches of replications (``first`` = replications so far) until the replications algorithm
    accepts every named KPI or ``--max-reps`` is reached. Returns (combined RunResult, Assessment)."""
    import numpy as np
    import pandas as pd

    from sim import metrics
    from sim.analysis import precision as replications
    from sim.analysis.runner import RunResult

    names = [k.strip() for k in args.kpis.split(",") if k.strip()]
    # Check the names before any simulation runs.
    replications.assess(pd.DataFrame(columns=list(metrics.KPI_COLUMNS)), names, args.precision)
    if args.reps is not None and args.reps > args.max_reps:
        raise ValueError(f"--reps {args.reps} is above --max-reps {args.max_reps}")
    size = args.reps or max(args.batch, replications.INITIAL_REPLICATIONS + args.k_limit)
    parts: list[RunResult] = []
    done = 0
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=args.max_reps, unit="rep", file=sys.stderr, disable=None, dynamic_ncols=True)
    try:
        # one Dask LocalCluster for all batches, not one per batch
        with runner.shared_scheduler(executor, args.scheduler, args.workers) as scheduler:
            while True:
                k = min(size, args.max_reps - done)
                base = done
                update = (lambda d, _t, base=base: bar.update(base + d - bar.n)) if bar is not None else None
                parts.append(runner.run(scenario, k, seed=args.seed, executor=executor, workers=args.workers,
                                        progress=update, keep_occupancy=True, first=done, scheduler=scheduler))
                done += k
                kpis = pd.concat([p.kpis for p in parts], ignore_index=True)
                assessment = replications.assess(kpis, names, args.precision, k_limit=args.k_limit)
                if assessment.done or done >= args.max_reps:
                    break
                size = args.batch
    finally:
        if bar is not None:
            bar.close()
    occ = np.concatenate([p.occupancy for p in parts]) if parts[0].occupancy is not None else None
    result = RunResult(scenario=scenario, seed=parts[0].seed, kpis=kpis, occupancy=occ)
    return result, assessment


def format_assessment(a, precision: float, k_limit: int) -> str:
    """Replications needed per KPI (Hoad et al. 2010, look-ahead ``k_limit``)."""
    lines = [f"replications for a 95% CI half-width within {precision:.3g} of the mean "
             f"(Hoad et al. 2010, look-ahead {k_limit}):",
             f"{'KPI':36s} {'mean':>12s} {'half-width':>12s} {'rel. prec.':>10s} {'needed':>8s}"]
    for s in a.solutions:
        need = str(s.n_solution) if s.n_solution is not None else "not yet"
        lines.append(f"{s.kpi:36s} {s.mean:>12.5g} {s.half_width:>12.4g} {s.precision:>10.3g} {need:>8s}")
    if a.done:
        lines.append(f"needed: {a.n_needed} replications (ran {a.replications_run}; the look-ahead needs the extra)")
    else:
        lines.append(f"precision NOT reached within {a.replications_run} replications (--max-reps); "
                     "the intervals above are what these replications give")
    return "\n".join(lines)


def cmd_validate(args) -> int:
    scenario = loader.load(args.scenario, args.overrides)
    if args.show:
        print(loader.to_toml(scenario))
    else:
        from sim.config.params import iter_sourced

        unverified = sum(1 for _, v in iter_sourced(scenario) if not v.verified)
        print(f"{args.scenario}: valid. Scenario '{scenario.name}', drug {scenario.drug.name} "
              f"({scenario.drug.profile} profile), strategy '{scenario.strategy.name}'; "
              f"{unverified} values not verified against a source.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with exits.sigterm_as_interrupt():
            return args.func(args)
    except (ScenarioError, ScenarioErrors) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:    # Ctrl-C, or SIGTERM (exits.Terminated)
        return exits.interrupted(exc)
