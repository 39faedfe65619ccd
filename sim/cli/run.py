"""``python -m sim run SCENARIO``: simulate, print every KPI with its 95% CI, write kpis.csv and summary.csv.

With ``--precision`` replications are added in batches until the named KPIs are precise enough (Hoad,
Robinson and Davies 2010, :mod:`sim.analysis.precision`); with ``--uncertainty`` the variance across
replications is split into parameter uncertainty and run-to-run noise (:mod:`sim.analysis.uncertainty`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.analysis import runner
from sim.cli import exits
from sim.cli.common import (
    add_executor_args,
    add_save_args,
    add_scenario_args,
    executor_of,
    format_programmes,
    format_summary,
    fraction,
    kpi_list,
    load_scenario,
    positive_int,
    progress_bar,
    seed,
)
from sim.config.errors import UsageError
from sim.config.registry import RESOURCE_NAMES
from sim.config.units import HOURS_PER_WEEK

OCCUPANCY_BUDGET_BYTES = 2 * 1024**3
UNCERTAINTY_SHOWN = ("crs_rate", "icans_rate", "ed_visits", "icu_bed_days", "unplanned_ward_admissions",
                     "cost_per_patient_started")


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="simulate a scenario and print every KPI with its 95%% CI")
    p.set_defaults(func=cmd_run)
    add_scenario_args(p)
    p.add_argument("--reps", type=positive_int, default=None,
                   help="replications (default 100; with --precision: the first batch)")
    p.add_argument("--seed", type=seed, default=None, help="seed (default: the scenario's run.seed)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: results/SCENARIO_NAME)")
    add_executor_args(p)
    g = p.add_argument_group("replications by precision (Hoad, Robinson and Davies 2010)")
    g.add_argument("--precision", type=fraction, default=None, metavar="FRACTION",
                   help="add replications until each --kpis CI half-width is within FRACTION of its mean")
    g.add_argument("--kpis", default=None, metavar="A,B", help="KPIs the precision applies to (comma-separated)")
    g.add_argument("--max-reps", type=positive_int, default=1000, help="stop here if not precise (default 1000)")
    g.add_argument("--batch", type=positive_int, default=20, help="replications added per batch (default 20)")
    g.add_argument("--k-limit", type=positive_int, default=5,
                   help="look-ahead: replications the precision must hold for before it is accepted (default 5)")
    add_save_args(p)


def check_occupancy_budget(scenario, reps: int) -> None:
    """Refuse, before any simulation, a run whose kept hourly occupancy (4 bytes x hours x resources
    x replications) would not fit in memory."""
    if not 1 <= reps <= runner.MAX_REPLICATIONS:
        raise UsageError(f"--reps = {reps}; allowed: 1 to {runner.MAX_REPLICATIONS}")
    per_rep = scenario.run.horizon_weeks * HOURS_PER_WEEK * len(RESOURCE_NAMES) * 4   # float32 occupancy
    if reps * per_rep > OCCUPANCY_BUDGET_BYTES:
        raise UsageError(f"--reps = {reps}: the hourly occupancy of {reps} replications of "
                         f"{scenario.run.horizon_weeks} weeks needs {reps * per_rep / 1024**3:.1f} GB; allowed: "
                         f"at most {OCCUPANCY_BUDGET_BYTES // per_rep} replications for this horizon")


def cmd_run(args: argparse.Namespace) -> int:
    from sim.storage import runs
    from sim.storage.output import preflight, write_run

    executor = executor_of(args)
    scenario, fixed = _scenarios(args)
    out = args.out or Path("results") / scenario.name
    reps = args.max_reps if args.precision is not None else (args.reps or 100)
    if args.precision is None:
        check_occupancy_budget(scenario, reps)
    # every output path is checked before the first replication, not after the work
    preflight(out, scenario, reps, runs_dir=args.runs_dir if args.save else None)
    started = runs.utc_now()
    result, assessment = _simulate(scenario, args, executor)
    finished = runs.utc_now()
    uncertainty = _uncertainty(result, fixed, args, executor)
    with exits.writing(out):
        write_run(result, out, summary=uncertainty)
    _report(result, uncertainty, assessment, args)
    print(f"\nwrote {out}/kpis.csv, summary.csv, kpis_by_programme.csv, summary_by_programme.csv, occupancy.parquet, "
          "occupancy_by_programme.parquet, scenario.toml")
    if args.save:
        _save(result, assessment, args, executor, started, finished)
    return 0


def _scenarios(args: argparse.Namespace):
    """The scenario to run and, with ``--uncertainty``, the same with fixed parameters (noise alone)."""
    if (args.precision is None) != (args.kpis is None):
        raise UsageError("--precision and --kpis go together, e.g. --precision 0.05 --kpis crs_rate,util_observation_beds")
    if args.uncertainty and args.precision is not None:
        raise UsageError("--uncertainty and --precision do not go together; allowed: one of them")
    scenario = load_scenario(args)
    if not args.uncertainty:
        return scenario, None
    drawn = scenario.model_copy(update={"run": scenario.run.model_copy(update={"parameter_uncertainty": True})})
    return drawn, scenario


def _simulate(scenario, args: argparse.Namespace, executor: str):
    """The run (and its precision assessment with ``--precision``)."""
    if args.precision is not None:
        return run_to_precision(scenario, args, executor)
    reps = args.reps or 100
    with progress_bar(args.quiet, reps) as update:
        result = runner.run(scenario, reps, seed=args.seed, executor=executor, workers=args.workers,
                            progress=update, keep_occupancy=True, scheduler=args.scheduler)
    return result, None


def _uncertainty(result, fixed, args: argparse.Namespace, executor: str):
    """With ``--uncertainty``: the same replications with fixed parameters, and the variance split."""
    if fixed is None:
        return None
    from sim.analysis.uncertainty import decompose

    noise = runner.run(fixed, len(result.kpis), seed=result.seed, executor=executor, workers=args.workers,
                       scheduler=args.scheduler).kpis
    return decompose(result.kpis, noise)


def _report(result, uncertainty, assessment, args: argparse.Namespace) -> None:
    s = result.scenario
    print(f"{s.name}: {len(result.kpis)} replications, seed {result.seed}, statistics over "
          f"{s.run.horizon_weeks} weeks after {s.run.warmup_weeks} weeks of warm-up")
    print(format_summary(result.summary(), s.costs.currency))
    if s.programmes:
        print(f"\nper programme (every KPI in summary_by_programme.csv):{format_programmes(result.programme_summary(), s.costs.currency)}")
    if uncertainty is not None:
        print("\nshare of the variance across replications due to parameter uncertainty:")
        for r in uncertainty[uncertainty["kpi"].isin(UNCERTAINTY_SHOWN)].itertuples(index=False):
            print(f"  {r.kpi:34s} {r.share_parameter:6.1%}")
    if assessment is not None:
        print()
        print(format_assessment(assessment, args.precision, args.k_limit))


def _save(result, assessment, args: argparse.Namespace, executor: str, started: str, finished: str) -> None:
    from sim.storage.output import save_result

    extra = {"workers": args.workers, "scheduler": args.scheduler}
    if assessment is not None:
        extra["precision"] = {"target": args.precision, "kpis": [s.kpi for s in assessment.solutions],
                              "k_limit": args.k_limit, "replications_needed": assessment.n_needed}
    path = save_result(result, args.runs_dir, executor=executor, started=started, finished=finished, extra=extra)
    print(f"saved run {path.name} in {path.parent}")


def run_to_precision(scenario, args: argparse.Namespace, executor: str):
    """Batches of replications until every ``--kpis`` is precise enough or ``--max-reps`` is reached
    (:func:`sim.analysis.precision.run_to_precision`). Returns (combined RunResult, Assessment)."""
    from sim.analysis import precision as replications

    if args.reps is not None and args.reps > args.max_reps:
        raise UsageError(f"--reps {args.reps} is above --max-reps {args.max_reps}")
    with _bar(args.quiet, args.max_reps) as bar:
        update = (lambda done, _total: bar.update(done - bar.n)) if bar is not None else None
        return replications.run_to_precision(
            scenario, kpi_list(args.kpis), args.precision, first_batch=args.reps, batch=args.batch,
            max_reps=args.max_reps, k_limit=args.k_limit, seed=args.seed, executor=executor, workers=args.workers,
            scheduler=args.scheduler, keep_occupancy=True, progress=update)


class _NoBar:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _bar(quiet: bool, total: int):
    """A tqdm bar over ``total`` replications as a context manager, or one yielding None when quiet."""
    if quiet:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="rep", file=sys.stderr, disable=None, dynamic_ncols=True)


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
