"""``python -m sim size SCENARIO --resource R --target "KPI<=X" [...]``: the smallest capacity meeting a service level.

One resource: the smallest capacity in ``[--min, --max]`` at which every target holds with 95%
confidence (see :mod:`sim.analysis.sizing`). Two resources (``--resource chairs,observation_beds``): the
cheapest feasible pair under ``--unit-cost``. Every capacity tried runs the same replications on the
same seed (common random numbers). Writes sizing.csv: every candidate evaluated, with its KPI means
and CIs, whether it meets each target, and the answer flagged. Exit status 0 when an answer is
found, 1 when no capacity within the bounds meets the targets, 2 for bad input.

For a centre the targets are on its totals (every programme on the shared places); ``--programme NAME``
puts them on one programme's own KPIs instead, with every programme still running on the same places.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Sequence

from sim.cli.common import (
    add_executor_args,
    add_scenario_args,
    centre_note,
    check_out_folder,
    check_programme,
    executor_of,
    kpi_list,
    load_scenario,
    positive_int,
    seed,
    write_csv,
)
from sim.config.errors import UsageError
from sim.config.scenario import RESOURCES

EXIT_UNREACHABLE = 1
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "size", help="smallest capacity (or cheapest pair) meeting service-level targets with 95%% confidence",
        description="Find the smallest capacity of --resource at which every --target holds with 95% confidence "
                    "(the CI's upper bound for <=, its lower bound for >=), by bracketing and bisection on common "
                    "random numbers; with two resources, the cheapest feasible pair under --unit-cost. Writes "
                    "sizing.csv with every candidate evaluated. Exit status 1 when no capacity within "
                    "[--min, --max] meets the targets.")
    add_scenario_args(p)
    p.add_argument("--resource", required=True, metavar="NAME[,NAME]",
                   help=f"resource to size: {', '.join(RESOURCES)}; two "
                        "separated by a comma for the cheapest feasible pair")
    p.add_argument("--target", dest="targets", action="append", default=[], metavar="KPI<=X",
                   help="service level, KPI<=NUMBER or KPI>=NUMBER, e.g. \"p_dose_postponed<=0.02\" "
                        "(repeatable; all must hold)")
    p.add_argument("--reps", type=positive_int, default=30,
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
                        "ed_visit / operations.ed_hours x hours, urgent_care_visit / "
                        "urgent_care.assessment_hours x its opening hours, clinic_visit / "
                        "operations.clinic_visit_hours x opening hours)")
    p.add_argument("--kpis", default=None, metavar="A,B",
                   help="further KPIs to report for every candidate (default: the targets' KPIs and the "
                        "sized resources' utilisation)")
    p.add_argument("--programme", default=None, metavar="NAME",
                   help="in a centre, size on this programme's own KPIs (its row of kpis_by_programme.csv) "
                        "instead of the centre's totals; the other programmes still share the places")
    p.add_argument("--seed", type=seed, default=None, help="seed for every candidate (default: the scenario's run.seed)")
    p.add_argument("--out", type=Path, default=None, help="folder for sizing.csv (default: results/NAME-size)")
    add_executor_args(p)
    p.set_defaults(func=cmd_size)


# --------------------------------------------------------------------------- option syntax

def parse_resources(text: str) -> tuple[str, ...]:
    """``"observation_beds"`` or ``"chairs,observation_beds"`` -> the names (checked by the library)."""
    names = tuple(n.strip() for n in str(text).split(",") if n.strip())
    if not names:
        raise UsageError(f"--resource {text!r}: allowed: one of {', '.join(RESOURCES)}, or two separated by a comma")
    return names


def _int_value(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise UsageError(f"{what} = {text.strip()!r}; allowed: a whole number") from None


def _resource_items(text: str, resources: Sequence[str], what: str, expected: str):
    """Yield (resource, raw value) from ``"chairs=4,observation_beds=1"``, refusing malformed items and
    resources not being sized."""
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise UsageError(f"{what} {text!r}: expected {expected}")
        name, raw = (part.strip() for part in item.split("=", 1))
        if name not in resources:
            raise UsageError(f"{what} {text!r}: {name!r} is not a resource being sized; allowed: {', '.join(resources)}")
        yield name, raw


def parse_bounds(text: str | None, resources: Sequence[str], what: str) -> int | dict[str, int] | None:
    """``"4"`` (every resource) or ``"chairs=4,observation_beds=1"`` (those named); None when not given.
    ``what`` names the option in messages (``--min``)."""
    if text is None or not str(text).strip():
        return None
    text = str(text)
    if "=" not in text:
        return _int_value(text, what)
    return {name: _int_value(raw, f"{what} {name}") for name, raw in _resource_items(
        text, resources, what, "NUMBER or RESOURCE=NUMBER,..., e.g. chairs=4,observation_beds=1")}


def parse_unit_costs(text: str | None, resources: Sequence[str]) -> dict[str, float] | None:
    """``"chairs=2e6,observation_beds=5e5"`` -> ``{resource: cost}``; None when not given."""
    if text is None or not str(text).strip():
        return None
    out = {}
    for name, raw in _resource_items(str(text), resources, "--unit-cost",
                                     "RESOURCE=COST,..., e.g. chairs=2000000,observation_beds=500000"):
        if not re.fullmatch(_NUMBER, raw) or float(raw) < 0:
            raise UsageError(f"--unit-cost {name} = {raw!r}; allowed: a number >= 0")
        out[name] = float(raw)
    return out


# --------------------------------------------------------------------------- the command

def cmd_size(args: argparse.Namespace) -> int:
    import time

    from sim.analysis import sizing

    executor = executor_of(args)
    resources = parse_resources(args.resource)
    if not args.targets:
        raise UsageError('at least one --target is required, e.g. --target "p_dose_postponed<=0.02"')
    if args.reps < 2:
        raise UsageError(f"--reps {args.reps}; allowed: 2 or more (a confidence interval needs two replications)")
    if len(resources) == 1 and args.unit_cost:
        raise UsageError("--unit-cost is used only with two resources (the cheapest feasible pair)")
    low, high = parse_bounds(args.min, resources, "--min"), parse_bounds(args.max, resources, "--max")
    unit_costs = parse_unit_costs(args.unit_cost, resources)
    targets = sizing.targets_of(args.targets)
    scenario = load_scenario(args)
    check_programme(scenario, args.programme)
    out = check_out_folder(args.out or Path("results") / f"{scenario.name}-size")   # before the work
    t0 = time.perf_counter()
    result = sizing.size(scenario, resources, targets, args.reps, low=low, high=high, unit_costs=unit_costs,
                         report_kpis=kpi_list(args.kpis), seed=args.seed, executor=executor, workers=args.workers,
                         scheduler=args.scheduler, on_candidate=None if args.quiet else _shouter(targets),
                         programme=args.programme)
    seconds = time.perf_counter() - t0
    write_csv(result.table(), out / "sizing.csv")
    _report(result, scenario, args, seconds)
    print(f"wrote {out}/sizing.csv")
    return 0 if result.found else EXIT_UNREACHABLE


def _shouter(targets):
    """A candidate callback printing one line on stderr per capacity evaluated: target KPIs and verdict."""
    from sim.metrics.formats import format_ci, format_value

    kpis = list(dict.fromkeys(t.kpi for t in targets))

    def shout(c) -> None:
        verdict = "meets every target" if c.feasible else "fails"
        parts = [f"{k} {format_value(k, c.stats[k][0])} [{format_ci(k, c.stats[k][1], c.stats[k][2])}]" for k in kpis]
        print(f"  #{c.order} {', '.join(f'{r}={v}' for r, v in c.point.items())}: {'; '.join(parts)}: {verdict}",
              file=sys.stderr, flush=True)

    return shout


def _report(result, scenario, args: argparse.Namespace, seconds: float) -> None:
    run_seed = scenario.run.seed if args.seed is None else args.seed
    whose = f"programme {args.programme}'s " if args.programme else ""
    print(f"{scenario.name}: sizing {' and '.join(result.resources)} for {whose}"
          f"{', '.join(str(t) for t in result.targets)}; {args.reps} replications per candidate on seed {run_seed} "
          f"(common random numbers); {len(result.candidates)} candidates evaluated in {seconds:.1f} s"
          + ("" if args.programme else centre_note(scenario)))
    print(format_table(result))
    if result.unit_costs:
        print("unit costs (per unit over the statistics window): "
              + ", ".join(f"{r} {c:,.0f}" for r, c in result.unit_costs.items())
              + ("" if args.unit_cost else " (default: per-use price x hours available)"))
    print()
    print(result.message)
    for note in result.notes:
        print(f"note: {note}")


def format_table(result) -> str:
    """The candidates sorted by capacity: each target KPI's mean and 95% CI in its unit, and the verdict."""
    from sim.metrics.formats import format_ci, format_value

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
            ci = f"{format_value(k, row[f'{k}_mean'])} [{format_ci(k, row[f'{k}_ci_low'], row[f'{k}_ci_high'])}]"
            cells.append(f"{ci:>40s}")
        mark = ("yes" if row["feasible"] else "no") + ("  <- answer" if row["answer"] else "")
        lines.append("".join(f"{c} " for c in cells) + f"{mark:>6s}")
    return "\n".join(lines)
