"""``python -m sim validate SCENARIO``: check a scenario file, or print its fully resolved form."""

from __future__ import annotations

import argparse

from sim.cli.common import add_scenario_args, load_scenario


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check a scenario file and print its resolved form")
    p.set_defaults(func=cmd_validate)
    add_scenario_args(p)
    p.add_argument("--print", dest="show", action="store_true", help="print the fully resolved scenario TOML")


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.config import loader
    from sim.config.library import count_sourced
    from sim.config.params import iter_flags

    scenario = load_scenario(args)
    if args.show:
        print(loader.to_toml(scenario))
        return 0
    values = [verified for _, verified in iter_flags(scenario)]
    unverified = sum(1 for v in values if not v)
    drug_unverified, drug_total = count_sourced(scenario.drug)
    print(f"{args.scenario}: valid. Scenario '{scenario.name}', drug {scenario.drug.name} "
          f"({scenario.drug.profile} profile), strategy '{scenario.strategy.name}'; "
          f"{unverified} values not verified against a source: {drug_unverified} of the drug's {drug_total} "
          f"and {unverified - drug_unverified} of the other {len(values) - drug_total} "
          "(list them: python -m sim validate SCENARIO --print, or python -m sim drugs NAME).")
    return 0
