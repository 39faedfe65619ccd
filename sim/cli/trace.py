"""``python -m sim trace``: one patient's full journey with times, for humans to check the model."""

from __future__ import annotations

from sim.cli.main import add_scenario_args


def add_parser(sub) -> None:
    p = sub.add_parser("trace", help="print one patient's journey (referral, bookings, doses, toxicity, beds)")
    add_scenario_args(p)
    p.add_argument("--patient", type=int, required=True, help="patient number within the replication (from 0)")
    p.add_argument("--replication", type=int, default=0, help="replication (default 0)")
    p.set_defaults(func=run)


def run(args) -> int:
    from sim import cohort, model
    from sim.config import loader

    scenario = loader.load(args.scenario, args.overrides)
    if args.replication < 0:
        raise ValueError(f"--replication = {args.replication}; allowed: 0 or more")
    steps = model.trace(scenario, cohort.draw(scenario, args.replication), args.patient)
    print(f"{scenario.name}, replication {args.replication}, patient {args.patient}")
    for t, text in steps:
        day = int(t // 24)
        print(f"day {day:4d} ({('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[day % 7]}) "
              f"{t % 24:05.2f} h   {text}")
    return 0
