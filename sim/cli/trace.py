"""``python -m sim trace``: one patient's full journey with times, for humans to check the model."""

from __future__ import annotations

from sim.cli.common import add_scenario_args, load_scenario
from sim.config.errors import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser("trace", help="print one patient's journey (referral, bookings, doses, toxicity, beds)")
    add_scenario_args(p)
    p.add_argument("--patient", type=int, required=True, help="patient number within the replication (from 0)")
    p.add_argument("--replication", type=int, default=0, help="replication (default 0)")
    p.set_defaults(func=run)


def run(args) -> int:
    from sim import cohort, model

    scenario = load_scenario(args)
    if args.replication < 0:
        raise UsageError(f"--replication = {args.replication}; allowed: 0 or more")
    patients = cohort.draw(scenario, args.replication)
    if not 0 <= args.patient < patients.n:
        raise UsageError(f"--patient = {args.patient}; allowed: 0 to {patients.n - 1} (patients referred in "
                         f"replication {args.replication})")
    steps = model.trace(scenario, patients, args.patient)
    print(f"{scenario.name}, replication {args.replication}, patient {args.patient}")
    for t, text in steps:
        day = int(t // 24)
        print(f"day {day:4d} ({('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[day % 7]}) "
              f"{t % 24:05.2f} h   {text}")
    return 0
