"""Command line: ``python -m sim run|validate ...``. Bad input exits with status 2 and one clear message."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from sim import __version__, loader, runner, stats
from sim.errors import ScenarioError, ScenarioErrors

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def command_modules() -> list[str]:
    """Further command groups: every module in sim/commands/, each with ``add_parser(subparsers)``
    that registers its sub-command(s) and sets ``func`` (a callable taking the parsed args, returning
    the exit status)."""
    import sim.commands

    return sorted(m.name for m in pkgutil.iter_modules(sim.commands.__path__))


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


def add_scenario_args(p: argparse.ArgumentParser) -> None:
    """The positional SCENARIO (default: the reference scenario) and repeatable ``--set KEY=VALUE``."""
    p.add_argument("scenario", nargs="?", default=str(loader.DEFAULT_SCENARIO),
                   help="scenario TOML file (default: the tarlatamab outpatient reference scenario)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field, e.g. --set capacity.observation_beds=5 (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sim", description=(
        "Capacity simulation of bispecific T-cell engager step-up dosing."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="simulate a scenario and print every KPI with its 95%% CI")
    p.set_defaults(func=cmd_run)
    add_scenario_args(p)
    p.add_argument("--reps", type=_positive_int, default=100, help="replications (default 100)")
    p.add_argument("--seed", type=_seed, default=None, help="seed (default: the scenario's run.seed)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: results/SCENARIO_NAME)")
    p.add_argument("--executor", choices=("serial", "processes"), default="processes",
                   help="where replications run (default: processes, one per core)")
    p.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("validate", help="check a scenario file and print its resolved form")
    p.set_defaults(func=cmd_validate)
    add_scenario_args(p)
    p.add_argument("--print", dest="show", action="store_true", help="print the fully resolved scenario TOML")
    for name in command_modules():
        importlib.import_module(f"sim.commands.{name}").add_parser(sub)
    return parser


def progress_bar(quiet: bool, total: int):
    """A (callback, bar) pair for :func:`sim.runner.run`; (None, None) when quiet."""
    if quiet:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="rep", file=sys.stderr, disable=None, dynamic_ncols=True)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return update, bar


def format_summary(summary) -> str:
    lines = [f"{'KPI':36s} {'mean':>14s}   {'95% CI':>31s}"]
    for row in summary.itertuples(index=False):
        ci = "" if row.ci_low != row.ci_low else f"[{row.ci_low:>13.5g}, {row.ci_high:>13.5g}]"
        lines.append(f"{row.kpi:36s} {row.mean:>14.5g}   {ci:>31s}")
    return "\n".join(lines)


def cmd_run(args) -> int:
    from sim.output import write_run

    scenario = loader.load(args.scenario, args.overrides)
    update, bar = progress_bar(args.quiet, args.reps)
    try:
        result = runner.run(scenario, args.reps, seed=args.seed, executor=args.executor,
                            workers=args.workers, progress=update, keep_occupancy=True)
    finally:
        if bar is not None:
            bar.close()
    out = args.out or Path("results") / scenario.name
    write_run(result, out)
    print(f"{scenario.name}: {args.reps} replications, seed {result.seed}, statistics over "
          f"{scenario.run.horizon_weeks} weeks after {scenario.run.warmup_weeks} weeks of warm-up")
    print(format_summary(stats.summary(result.kpis)))
    print(f"\nwrote {out}/kpis.csv, summary.csv, occupancy.parquet, scenario.toml")
    return 0


def cmd_validate(args) -> int:
    scenario = loader.load(args.scenario, args.overrides)
    if args.show:
        print(loader.to_toml(scenario))
    else:
        from sim.params import iter_sourced

        unverified = sum(1 for _, v in iter_sourced(scenario) if not v.verified)
        print(f"{args.scenario}: valid. Scenario '{scenario.name}', drug {scenario.drug.name} "
              f"({scenario.drug.profile} profile), strategy '{scenario.strategy.name}'; "
              f"{unverified} values not verified against a source.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, ScenarioErrors) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: no output written", file=sys.stderr)
        return EXIT_INTERRUPTED
