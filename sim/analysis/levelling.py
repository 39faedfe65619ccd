"""Start-day levelling: the start weekdays of each programme of a centre that spread its load on one resource.

Programmes whose first doses fall on the same weekdays fill the shared beds on the same days. :func:`level`
searches each programme's start weekdays, within what its label allows, for the assignment with the fewest
postponed doses and, among those, the lowest 95th percentile of the resource's daily peak occupancy.

* **What a label allows** (:func:`allowed_weekdays`): a first dose on weekday w is allowed when every
  later step-up dose can be given on an open weekday of the centre within its window: dose k comes
  ``gap_days`` to ``window_days`` (``gap_max_days``) days after dose k - 1 (``ScheduleBlock``), so the days a
  dose may fall on follow from the days the one before may. A dose every patient gets inside a single
  admission (the strategy's ``stay_through_dose``) is given in the bed on its day, open or not. Holidays
  are dates, not weekdays, and are left to the simulation.
* **Candidates** (:func:`candidate_sets`): the programme's own start weekdays, and every other set of
  allowed weekdays of the same size. Keeping the size keeps the number of start days a week, so a
  candidate moves the load without widening or narrowing the doors; the search stays small (a five-day
  centre has at most ten sets of any size).
* **Search**: coordinate descent on common random numbers (one seed, the same replications for every
  assignment). From the scenario's own assignment, each programme in turn tries each of its candidates
  with the others fixed and keeps the best (of equals, the one moving fewer programmes off their own days);
  rounds repeat until one changes nothing (at most ``rounds``).
  The objective is lexicographic: fewer postponed doses (mean over replications) first, then the lower
  mean of the per-replication 95th percentile of the daily peak (:func:`daily_peak_p95`).
* **Answer**: the best assignment against the scenario's own, as paired differences on the same
  replications with 95% CIs. The best is chosen on these replications, so its gain is an optimistic
  estimate; a difference whose CI excludes 0 is still one the search did not invent from nothing.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from itertools import combinations, product
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.analysis import runner
from sim.analysis.compare import paired_differences
from sim.analysis.variants import vary
from sim.config.dose_plan import dose_requirements, plan_dose
from sim.config.drug import DrugProfile
from sim.config.errors import UsageError
from sim.config.scenario import RESOURCES, Scenario, Strategy, programmes
from sim.config.units import DAY_NAMES
from sim.metrics.occupancy import daily_peaks
from sim.model.runlog import RunLog

PEAK_KPI = "daily_peak_p95"
KPIS = ("doses_postponed", "p_dose_postponed", PEAK_KPI)
ROUNDS = 3
Assignment = dict[str, tuple[int, ...]]


# --------------------------------------------------------------------------- what a label allows

def admitted_doses(drug: DrugProfile, strategy: Strategy) -> frozenset[int]:
    """Step-up doses (numbers, 1 = the first) that every kind of patient is given inside a single admission
    begun at an earlier dose (the strategy's ``stay_through_dose``): in the ward bed on the schedule's day,
    whether the centre is open or not. Kinds are high risk or not, outpatient-eligible or not."""
    reqs = dose_requirements(drug, drug.step_up_doses)
    kinds = []
    for high, eligible in product((False, True), repeat=2):
        inside, dose = set(), 1
        while dose <= len(reqs):
            through = plan_dose(drug, strategy, dose, reqs[dose - 1], high, eligible).through
            inside.update(range(dose + 1, through + 1))
            dose = max(through, dose) + 1
        kinds.append(frozenset(inside))
    return frozenset.intersection(*kinds)


def reachable_days(drug: DrugProfile, start: int, open_weekdays: Sequence[int],
                   admitted: frozenset[int] = frozenset()) -> list[set[int]]:
    """Days (from the first dose's, day 0 = ``start``'s) each step-up dose may be given on, doses in order.

    Dose k may fall ``gap_days`` to ``window_days`` after any day dose k - 1 may, on an open weekday; a dose in
    ``admitted`` (:func:`admitted_doses`) falls ``gap_days`` after, in the bed, open or not. An empty set means
    the step-up cannot be completed on the label's days from this start.
    """
    open_days = set(open_weekdays)
    days = [{0} if start in open_days else set()]
    for dose, req in enumerate(dose_requirements(drug, drug.step_up_doses)[1:], start=2):
        block = drug.schedule[req.block]
        if dose in admitted:
            days.append({d + block.gap_days for d in days[-1]})
            continue
        days.append({d + g for d in days[-1] for g in range(block.gap_days, block.window_days + 1)
                     if (start + d + g) % 7 in open_days})
    return days


def allowed_weekdays(drug: DrugProfile, open_weekdays: Sequence[int],
                     admitted: frozenset[int] = frozenset()) -> tuple[int, ...]:
    """Open weekdays from which every step-up dose can be given on an open day within its window.

    Parameters
    ----------
    drug : DrugProfile
        The programme's drug (its schedule and ``step_up_doses``).
    open_weekdays : sequence of int
        The centre's open weekdays, 0 = Monday.
    admitted : frozenset of int
        Step-up doses given in a single admission's bed on their schedule day, open or not
        (:func:`admitted_doses`).

    Returns
    -------
    tuple of int
        The allowed start weekdays, in order.
    """
    return tuple(w for w in sorted(open_weekdays) if reachable_days(drug, w, open_weekdays, admitted)[-1])


def candidate_sets(own: Sequence[int], allowed: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """The programme's own start weekdays first, then every other set of allowed weekdays of the same size."""
    own = tuple(sorted(own))
    others = [c for c in combinations(sorted(allowed), len(own)) if c != own]
    return (own, *others)


# --------------------------------------------------------------------------- the measure

def daily_peak_p95(log: RunLog, scenario: Scenario, resource: str) -> float:
    """95th percentile (linear interpolation) of the resource's whole-day peaks in the statistics window.

    Bind ``resource`` with :func:`functools.partial` to pass it as ``runner.run(..., extract=...)``.
    """
    times, levels = log.pools[resource][0], log.pools[resource][1]
    peaks = daily_peaks(times, levels, *log.window)
    return float(np.percentile(peaks, 95)) if peaks.size else math.nan


# --------------------------------------------------------------------------- the result

@dataclass(frozen=True)
class Evaluation:
    """One assignment run on the search's replications: its per-replication measures and its objective."""

    order: int
    assignment: Assignment
    rows: pd.DataFrame                 # replication, then :data:`KPIS`

    @property
    def objective(self) -> tuple[float, float]:
        """(mean postponed doses, mean p95 daily peak): lower is better, the first first."""
        return float(self.rows["doses_postponed"].mean()), float(self.rows[PEAK_KPI].mean())


@dataclass(frozen=True)
class LevellingResult:
    """What :func:`level` tried and found."""

    resource: str
    seed: int
    reps: int
    allowed: dict[str, tuple[int, ...]]              # per programme: start weekdays its label allows
    candidates: dict[str, tuple[tuple[int, ...], ...]]
    evaluations: list[Evaluation]                    # in the order tried; the first is the scenario's own
    best: Evaluation
    differences: pd.DataFrame                        # best - own: compare.DIFFERENCE_COLUMNS for KPIS
    notes: list[str] = field(default_factory=list)

    @property
    def own(self) -> Evaluation:
        return self.evaluations[0]

    @property
    def improved(self) -> bool:
        """The best assignment distinguishably beats the scenario's own: fewer postponed doses (CI below 0),
        or a lower p95 daily peak (CI below 0) with postponements not distinguishably higher."""
        if self.best is self.own:
            return False
        d = self.differences.set_index("kpi")
        fewer = bool(d.loc["doses_postponed", "diff_ci_high"] < 0)
        more = bool(d.loc["doses_postponed", "diff_ci_low"] > 0)
        return fewer or (not more and bool(d.loc[PEAK_KPI, "diff_ci_high"] < 0))

    @property
    def message(self) -> str:
        """One plain sentence: what the search found against the scenario's own start days."""
        if all(len(c) == 1 for c in self.candidates.values()):
            return "no programme has another set of start weekdays its label allows: nothing to level"
        if self.best is self.own:
            return "no assignment tried beats the scenario's own start weekdays on these replications"
        if self.improved:
            return "the best assignment beats the scenario's own distinguishably (95% CI of the gain excludes 0)"
        return ("the best assignment is ahead on these replications, but no gain is distinguishable from 0 "
                "(95% CI): keep the scenario's own start weekdays unless other reasons favour the change")

    def table(self) -> pd.DataFrame:
        """Every assignment tried: order, one column of start weekdays per programme, the objective's two
        means, and ``best``."""
        rows = []
        for ev in self.evaluations:
            postponed, peak = ev.objective
            rows.append({"order": ev.order, **{n: weekday_names(d) for n, d in ev.assignment.items()},
                         "doses_postponed_mean": postponed, f"{PEAK_KPI}_mean": peak, "best": ev is self.best})
        return pd.DataFrame(rows)


def weekday_names(days: Sequence[int]) -> str:
    """``(0, 3)`` -> ``"Mon Thu"``."""
    return " ".join(DAY_NAMES[d] for d in days)


def better(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """``a`` beats ``b`` lexicographically (beyond rounding: equal means of whole counts are a tie)."""
    if not math.isclose(a[0], b[0], rel_tol=1e-12, abs_tol=1e-12):
        return a[0] < b[0]
    return not math.isclose(a[1], b[1], rel_tol=1e-12, abs_tol=1e-12) and a[1] < b[1]


def with_assignment(scenario: Scenario, assignment: Mapping[str, Sequence[int]]) -> Scenario:
    """The scenario with each programme's start weekdays (a single-drug scenario's: ``calendar.start_weekdays``)."""
    if not scenario.programmes:
        (days,) = assignment.values()
        return vary(scenario, {"calendar.start_weekdays": list(days)})
    return vary(scenario, {f"programmes.{n}.start_weekdays": list(d) for n, d in assignment.items()})


def own_assignment(scenario: Scenario) -> Assignment:
    """Each programme's start weekdays as the scenario has them, sorted."""
    return {name: tuple(sorted(view.calendar.start_weekdays)) for name, view in programmes(scenario)}


# --------------------------------------------------------------------------- the search

def check_resource(scenario: Scenario, resource: str) -> None:
    """Refuse a resource that is unknown or has no places in this scenario (raises :class:`UsageError`)."""
    if resource not in RESOURCES:
        raise UsageError(f"resource = {resource!r}; allowed: one of {', '.join(RESOURCES)}")
    if getattr(scenario.capacity, resource) < 1:
        with_places = [r for r in RESOURCES if getattr(scenario.capacity, r) >= 1]
        raise UsageError(f"resource = {resource!r} has no places in capacity.{resource} = 0; allowed: a resource "
                         f"with places: {', '.join(with_places)}")


def search_space(scenario: Scenario, candidates: Mapping[str, Sequence[Sequence[int]]] | None
                 ) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[tuple[int, ...], ...]]]:
    """Per programme, the start weekdays its label allows and the candidate sets to try (the own first).

    ``candidates`` replaces the candidate sets of the programmes it names (the own set is kept first).
    """
    own = own_assignment(scenario)
    opened = scenario.calendar.open_weekdays
    allowed = {name: allowed_weekdays(view.drug, opened, admitted_doses(view.drug, view.strategy))
               for name, view in programmes(scenario)}
    space = {name: candidate_sets(own[name], allowed[name]) for name in own}
    for name, sets in (candidates or {}).items():
        if name not in own:
            raise UsageError(f"candidates: {name!r} is not a programme; allowed: {', '.join(own)}")
        given = [tuple(sorted(int(d) for d in c)) for c in sets]
        bad = [c for c in given if not c or not set(c) <= set(opened)]
        if bad:
            raise UsageError(f"candidates.{name} = {list(bad[0])}; allowed: non-empty sets of open weekdays "
                             f"{list(opened)} (0 = Monday)")
        space[name] = (own[name], *dict.fromkeys(c for c in given if c != own[name]))
    return allowed, space


def level(scenario: Scenario, resource: str, reps: int = 20, seed: int | None = None,
          executor: runner.Executor = "processes", workers: int | None = None,
          progress: runner.Progress | None = None, candidates: Mapping[str, Sequence[Sequence[int]]] | None = None,
          rounds: int = ROUNDS, scheduler: Any = None,
          on_evaluation: Callable[[Evaluation], None] | None = None) -> LevellingResult:
    """Search the start weekdays of each programme for the assignment that levels the load on ``resource``.

    Parameters
    ----------
    scenario : Scenario
        A centre (its programmes) or a single-drug scenario (a centre of one programme).
    resource : str
        The resource whose daily peak is levelled, e.g. ``"observation_beds"``; it must have places.
    reps : int
        Replications per assignment (at least 2, for the CIs); every assignment runs the same ones.
    seed : int, optional
        The seed of every assignment (default: the scenario's ``run.seed``).
    executor, workers, scheduler
        As in :func:`sim.analysis.runner.run`.
    progress : callable, optional
        ``progress(done, total)`` after each assignment evaluated; ``total`` is what the rounds so far may
        evaluate (a new round raises it).
    candidates : mapping of programme name to sets of weekdays, optional
        The sets to try for the programmes named, instead of :func:`candidate_sets` (the own set is always
        tried first); e.g. ``{"tarlatamab": [(0, 1), (2, 3)]}``.
    rounds : int
        Most rounds of coordinate descent (a round tries every programme's candidates once).
    on_evaluation : callable, optional
        Called with each :class:`Evaluation` as it finishes.

    Returns
    -------
    LevellingResult
        Every assignment tried, the best, and its paired differences from the scenario's own on
        ``doses_postponed``, ``p_dose_postponed`` and :data:`PEAK_KPI` with 95% CIs.

    Raises
    ------
    UsageError
        For an unknown resource or one without places, fewer than 2 replications, or bad ``candidates``.
    """
    check_args(scenario, resource, reps, rounds, executor, workers, scheduler)
    seed = scenario.run.seed if seed is None else seed
    allowed, space = search_space(scenario, candidates)
    extract = functools.partial(daily_peak_p95, resource=resource)
    with runner.shared_scheduler(executor, scheduler, workers) as shared:
        def run_one(assignment: Assignment) -> pd.DataFrame:
            result = runner.run(with_assignment(scenario, assignment), reps, seed=seed, executor=executor,
                                workers=workers, scheduler=shared, extract=extract)
            rows = result.kpis[["replication", "doses_postponed", "p_dose_postponed"]].copy()
            rows[PEAK_KPI] = result.extras
            return rows

        evaluations, best = descend(run_one, own_assignment(scenario), space, rounds, progress, on_evaluation)
    notes = [f"{name}: no other start weekdays its label allows on open weekdays "
             f"{weekday_names(scenario.calendar.open_weekdays)}; kept {weekday_names(sets[0])}"
             for name, sets in space.items() if len(sets) == 1]
    return LevellingResult(resource=resource, seed=seed, reps=reps, allowed=allowed, candidates=space,
                           evaluations=evaluations, best=best,
                           differences=paired_differences(evaluations[0].rows, best.rows, KPIS), notes=notes)


def check_args(scenario: Scenario, resource: str, reps: int, rounds: int, executor: str, workers: int | None,
               scheduler: Any) -> None:
    """Refuse, before anything runs, what :func:`level` cannot do (raises :class:`UsageError`)."""
    runner.check_run_args(scenario, reps, executor, workers=workers, scheduler=scheduler)
    check_resource(scenario, resource)
    if reps < 2:
        raise UsageError(f"reps = {reps}; allowed: 2 or more (a confidence interval needs two replications)")
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise UsageError(f"rounds = {rounds!r}; allowed: a whole number, 1 or more")


def descend(run_one: Callable[[Assignment], pd.DataFrame], start: Assignment,
            space: Mapping[str, Sequence[tuple[int, ...]]], rounds: int, progress: runner.Progress | None = None,
            on_evaluation: Callable[[Evaluation], None] | None = None) -> tuple[list[Evaluation], Evaluation]:
    """Coordinate descent from ``start``: each programme in turn takes its best candidate with the others fixed,
    round after round until a round changes nothing (at most ``rounds``). Each assignment runs once.

    Returns every evaluation in the order run (``start``'s first) and the best. The assignment in hand only
    changes for a better one, or an equal one that moves fewer programmes off their own start days, so it
    ends at least as good as everything tried and changes no programme without a gain.
    """
    seen: dict[tuple, Evaluation] = {}
    order: list[Evaluation] = []
    budget = 1 + sum(len(c) - 1 for c in space.values())

    def evaluate(assignment: Assignment) -> Evaluation:
        key = tuple(sorted(assignment.items()))
        if key not in seen:
            seen[key] = Evaluation(len(order) + 1, dict(assignment), run_one(assignment))
            order.append(seen[key])
            if on_evaluation is not None:
                on_evaluation(seen[key])
            if progress is not None:
                progress(len(order), max(budget, len(order)))
        return seen[key]

    def moves(ev: Evaluation) -> int:
        return sum(ev.assignment[n] != start[n] for n in start)

    current = evaluate(start)
    for _ in range(rounds):
        before = current
        for name, sets in space.items():
            for days in sets:
                trial = evaluate({**current.assignment, name: days})
                # a tie goes to the assignment that moves fewer programmes off their own days
                if better(trial.objective, current.objective) or (
                        not better(current.objective, trial.objective) and moves(trial) < moves(current)):
                    current = trial
        if current is before:
            break
        budget = len(order) + sum(len(c) - 1 for c in space.values())
    return order, current
