"""``python -m sim validate SCENARIO``: check a scenario file, or print its fully resolved form.

A centre's programmes are listed one a line (drug and profile, strategy, referrals a year, start weekdays),
with the other services admitted into its beds.
"""

from __future__ import annotations

import argparse

from sim.cli.common import add_scenario_args, load_scenario
from sim.config.units import DAY_NAMES

# In a centre the top-level drug, strategy, demand and population repeat the first programme's: counted once.
_FIRST_PROGRAMME_COPIES = ("drug", "strategy", "demand", "population")


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check a scenario file and print its resolved form")
    p.set_defaults(func=cmd_validate)
    add_scenario_args(p)
    p.add_argument("--print", dest="show", action="store_true", help="print the fully resolved scenario TOML")


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.config import loader

    scenario = load_scenario(args)
    if args.show:
        print(loader.to_toml(scenario))
        return 0
    unverified, total, drug_unverified, drug_total = _flag_counts(scenario)
    if scenario.programmes:
        print(f"{args.scenario}: valid. Centre '{scenario.name}', {len(scenario.programmes)} programmes sharing "
              "its places:")
        print(format_programmes(scenario))
        drugs = "the programmes' drugs'"
    else:
        print(f"{args.scenario}: valid. Scenario '{scenario.name}', drug {scenario.drug.name} "
              f"({scenario.drug.profile} profile), strategy '{scenario.strategy.name}';", end=" ")
        drugs = "the drug's"
    print(f"{unverified} values not verified against a source: {drug_unverified} of {drugs} {drug_total} "
          f"and {unverified - drug_unverified} of the other {total - drug_total} "
          "(list them: python -m sim validate SCENARIO --print, or python -m sim drugs NAME).")
    return 0


def _flag_counts(scenario) -> tuple[int, int, int, int]:
    """(unverified, total) sourced values of the whole scenario and of its drugs (every programme's)."""
    from sim.config.library import count_sourced
    from sim.config.params import iter_flags

    copies = _FIRST_PROGRAMME_COPIES if scenario.programmes else ()
    values = [verified for path, verified in iter_flags(scenario) if path.split(".")[0].split("[")[0] not in copies]
    drugs = [p.drug for p in scenario.programmes.values()] or [scenario.drug]
    drug_counts = [count_sourced(d) for d in drugs]
    return (sum(1 for v in values if not v), len(values), sum(u for u, _ in drug_counts),
            sum(t for _, t in drug_counts))


def format_programmes(scenario) -> str:
    """A centre's programmes, one a line: drug (profile), strategy, referrals a year (and growth), start
    weekdays; then the other services admitted into its beds."""
    from sim.config.units import WEEKS_PER_YEAR

    rows = [(name, f"{p.drug.name} ({p.drug.profile})", p.strategy.name, p.demand, p.start_weekdays)
            for name, p in scenario.programmes.items()]
    heads = ("programme", "drug (profile)", "strategy")
    w = [max(len(head), *(len(r[i]) for r in rows)) for i, head in enumerate(heads)]
    lines = [f"  {heads[0]:{w[0]}s}  {heads[1]:{w[1]}s}  {heads[2]:{w[2]}s}  {'patients/year':>13s}  start weekdays"]
    for name, drug, strategy, demand, weekdays in rows:
        growth = f" (+{demand.growth_per_year:.0%}/yr)" if demand.growth_per_year else ""
        days = " ".join(DAY_NAMES[d] for d in weekdays)
        lines.append(f"  {name:{w[0]}s}  {drug:{w[1]}s}  {strategy:{w[2]}s}  "
                     f"{demand.patients_per_week * WEEKS_PER_YEAR:>13,.0f}{growth}  {days}")
    for o in scenario.other_admissions:
        lines.append(f"  other services: {o.name}, {o.per_week.value * WEEKS_PER_YEAR:,.0f} admissions a year "
                     f"into {o.resource}")
    return "\n".join(lines)
