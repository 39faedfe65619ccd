"""Where a dose goes and how long it keeps its place: the one rule the model books by, the scenario's
feasibility checks test, and (through the stays the model records) the dosing calendar draws.

Pure: no SimPy, no state but the plans already made (:func:`plans_made`), which the model reuses
(``sim.model.pathway.Model._plan``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, NamedTuple

from sim.config.drug import DrugProfile
from sim.config.registry import PLACE_RESOURCE

if TYPE_CHECKING:   # the scenario schema checks its strategies with plan_dose, so it imports this module
    from sim.config.scenario import Strategy

BED_PLACES = ("ward", "observation")  # admitted within the admission window, may stay overnight
CHAIR_PLACES = ("clinic", "home")     # an infusion chair, within the open day


class DoseRequirement(NamedTuple):
    """What the drug label asks of one dose, before the strategy places it."""

    block: int              # index of its block in drug.schedule
    monitor_hours: float    # monitoring the label requires, in hours from the infusion start
    hydration: bool         # post-infusion hydration
    gap_days: int           # days after the previous dose


def dose_requirements(drug: DrugProfile, n_doses: int) -> list[DoseRequirement]:
    """The label's requirement of each dose 1..n, in order (index 0 is dose 1)."""
    out: list[DoseRequirement] = []
    for b, block in enumerate(drug.schedule):
        reps = block.count if block.count else n_doses
        for _ in range(reps):
            if len(out) == n_doses:
                return out
            out.append(DoseRequirement(b, block.monitor_from_start(drug.chair), block.hydration, block.gap_days))
    return out  # a schedule of finite blocks may define fewer than n doses


def dose_offsets_hours(drug: DrugProfile, n_doses: int) -> list[float]:
    """Nominal hours from the first dose to each dose 1..n, by the schedule's gaps."""
    out, t = [], 0.0
    for requirement in dose_requirements(drug, n_doses):
        t += requirement.gap_days * 24.0
        out.append(t)
    return out


class DosePlan(NamedTuple):
    """One dose for one kind of patient, as planned before it is booked."""

    place: str            # "ward", "observation", "clinic" or "home" (monitored at home after the chair)
    resource: str         # the resource the place takes (PLACE_RESOURCE)
    premed_hours: float   # from taking the place to the infusion start: premedication and prophylaxis
    stay_hours: float     # from taking the place to giving it back
    monitor_hours: float  # monitoring the strategy asks for
    bed: bool             # a bed place (BED_PLACES), not a chair
    prophylaxis: bool     # prophylactic tocilizumab before the dose
    through: int          # the last dose given in this stay: a later step-up dose for a single admission


def plan_dose(drug: DrugProfile, strategy: Strategy, dose: int, requirement: DoseRequirement, high_risk: bool,
              eligible: bool, after_toxicity_hours: float = 0.0) -> DosePlan:
    """Place, premedication and stay of one dose.

    Parameters
    ----------
    drug, strategy
        The scenario's drug profile and monitoring strategy.
    dose : int
        Dose number, 1 = first dose.
    requirement : DoseRequirement
        The label's requirement of this dose (:func:`dose_requirements`).
    high_risk, eligible : bool
        The patient is high risk; the patient may be monitored as an outpatient.
    after_toxicity_hours : float
        Monitoring a previous toxicity asks of this dose (0: none).

    Returns
    -------
    DosePlan
        The stay holds premedication (plus prophylactic tocilizumab), then the monitoring hours or the
        infusion (with hydration) if longer; a dose monitored at home keeps its chair for the infusion only.
        A single admission (the rule's ``stay_through_dose``) holds the bed from this dose's infusion to the
        end of the last dose's monitoring, the doses in between given on their nominal days.
    """
    # Any follow-up requirement marks the dose, even one no longer than the dose's own: the
    # strategy may monitor such doses differently (e.g. in hospital rather than at home).
    required = max(after_toxicity_hours, requirement.monitor_hours)
    place, hours = strategy.place_for(dose, required, high_risk, eligible, after_toxicity_hours > 0)
    rule = strategy.rule_for(dose, required, high_risk, eligible, after_toxicity_hours > 0)
    through = rule.stay_through_dose if rule is not None and rule.stay_through_dose else dose
    pro = strategy.gives_prophylaxis(dose, high_risk)
    premed, infusion = drug.chair_times(drug.schedule[requirement.block])
    pre = premed + (strategy.prophylaxis.chair_hours.value if strategy.prophylaxis_before(dose, high_risk) else 0.0)
    if through > dose:
        through, hours = admission_hours(drug, dose, through)
    stay = pre + (max(hours, infusion) if place != "home" else infusion)
    return DosePlan(place, PLACE_RESOURCE[place], pre, stay, hours, place in BED_PLACES, pro, through)


PlanKey = tuple[int, DoseRequirement, bool, bool, float]   # plan_dose's arguments after the drug and strategy

# The plans made for the drug-and-strategy pairs in use, most recent last (see plans_made). A run's replications
# share its scenario's objects, as a centre's programme views share their drug and strategy; a dashboard session
# moves on to new pairs as it edits, so only the last few are kept. The lock: the dashboard's sessions run
# replications in threads of one server too.
_MADE: OrderedDict[tuple[int, int], tuple[DrugProfile, Strategy, dict[PlanKey, DosePlan]]] = OrderedDict()
_MADE_LOCK = threading.Lock()
PAIRS_KEPT = 16


def plans_made(drug: DrugProfile, strategy: Strategy) -> dict[PlanKey, DosePlan]:
    """The plans already made for ``drug`` under ``strategy``, by :func:`plan_dose`'s other arguments
    ``(dose, requirement, high_risk, eligible, after_toxicity_hours)``; the caller adds those it makes.

    Both are frozen, so a plan made once holds for every replication that uses the same two objects: each
    replication need not plan its doses again (about a thousand plans a replication in a six-programme
    centre). The pair is held while its entry is kept, so its identity cannot pass to another object.
    """
    key = (id(drug), id(strategy))
    with _MADE_LOCK:
        made = _MADE.get(key)
        if made is not None and made[0] is drug and made[1] is strategy:
            _MADE.move_to_end(key)
            return made[2]
        plans: dict[PlanKey, DosePlan] = {}
        _MADE[key] = (drug, strategy, plans)
        if len(_MADE) > PAIRS_KEPT:
            _MADE.popitem(last=False)
        return plans


def admission_hours(drug: DrugProfile, first: int, last: int) -> tuple[int, float]:
    """A single admission from dose ``first`` to dose ``last`` (both numbers; ``last`` capped at the doses the
    schedule defines): (its last dose, hours from the first dose's infusion start to the end of the last
    dose's monitoring or infusion, the doses given on the schedule's days)."""
    requirements = dose_requirements(drug, last)
    last = min(last, len(requirements))
    final = requirements[last - 1]
    days = sum(r.gap_days for r in requirements[first:last])
    _, infusion = drug.chair_times(drug.schedule[final.block])
    return last, days * 24.0 + max(final.monitor_hours, infusion)
