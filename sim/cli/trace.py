"""``python -m sim trace``: one patient's full journey with times, for humans to check the model.

In a centre the patient is one programme's (``--programme``), traced on the shared site with every other
programme's patients of the same replication, so the journey shows the places as the centre's run has them.
"""

from __future__ import annotations

from sim.cli.common import add_scenario_args, check_programme, load_scenario, programme_names
from sim.config.errors import UsageError
from sim.config.units import DAY_NAMES


def add_parser(sub) -> None:
    p = sub.add_parser("trace", help="print one patient's journey (referral, bookings, doses, toxicity, beds)")
    add_scenario_args(p)
    p.add_argument("--patient", type=int, required=True,
                   help="patient number within the replication (from 0; in a centre, within the programme)")
    p.add_argument("--replication", type=int, default=0, help="replication (default 0)")
    p.add_argument("--programme", default=None, metavar="NAME",
                   help="in a centre, the programme whose patient is traced (required with more than one)")
    p.set_defaults(func=run)


def run(args) -> int:
    scenario = load_scenario(args)
    if args.replication < 0:
        raise UsageError(f"--replication = {args.replication}; allowed: 0 or more")
    programme = _programme(scenario, args.programme)
    steps = _trace(scenario, programme, args.replication, args.patient)
    who = f"programme {programme}, " if scenario.programmes else ""
    print(f"{scenario.name}, {who}replication {args.replication}, patient {args.patient}")
    for t, text in steps:
        day = int(t // 24)
        print(f"day {day:4d} ({DAY_NAMES[day % 7]}) {t % 24:05.2f} h   {text}")
    return 0


def _programme(scenario, name: str | None) -> str:
    """The programme traced: ``--programme`` (checked), else the only one; a centre of several needs it."""
    names = programme_names(scenario)
    if name is None and len(names) > 1:
        raise UsageError(f"--programme is required: {scenario.name} is a centre of {len(names)} programmes; "
                         f"allowed: {', '.join(names)}")
    return check_programme(scenario, name) or names[0]


def _trace(scenario, programme: str, replication: int, patient: int) -> list[tuple[float, str]]:
    """The patient's steps, drawn and simulated as the runner does for this kind of scenario."""
    from sim import cohort, model

    if scenario.programmes:
        cohorts = cohort.draw_centre(scenario, replication)
        patients = cohorts[programme_names(scenario).index(programme)]
    else:
        patients = cohort.draw(scenario, replication)
    if not 0 <= patient < patients.n:
        raise UsageError(f"--patient = {patient}; allowed: 0 to {patients.n - 1} (patients "
                         f"{f'of {programme} ' if scenario.programmes else ''}referred in replication {replication})")
    if scenario.programmes:
        return model.trace_centre(scenario, cohorts, programme, patient)
    return model.trace(scenario, patients, patient)
