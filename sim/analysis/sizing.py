"""Capacity sizing to a service level: the smallest capacity (or cheapest pair) meeting every target.

A target is ``KPI<=NUMBER`` or ``KPI>=NUMBER``. It holds at a capacity when the confidence
interval of the KPI's mean across replications lies on the right side of it: the upper bound for
``<=``, the lower bound for ``>=``. With the default two-sided 95% interval that bound is a
one-sided 97.5% bound, so "holds" means "holds with at least 95% confidence"; it is the rule the
stock curve (:func:`sim.analysis.stock.smallest_meeting`) uses too, so every part of the project gives
the same answer for the same runs. :func:`size` is the entry point; the CLI and the dashboard call it.

The search assumes that meeting the targets never stops as capacity grows (monotonicity), which is
what makes a few evaluations enough:

* one resource: from a starting capacity (the scenario's own) step by 1, 2, 4, ... until the targets
  flip, then bisect the bracket. The search ends on two neighbours, ``answer - 1`` failing and
  ``answer`` meeting the targets, evaluated on the same seeds; at most about ``2 log2(max - min) + 2``
  capacities are run, so an unreachable target ends at the upper bound instead of running forever.
* two resources (A, B): the smallest A that works with the most B, then for each A upward the
  smallest B by the same search, capped by the B found for A - 1 (more A never needs more B). The
  walk stops once A's cost alone (plus the least B) exceeds the cheapest feasible pair found.

Every capacity is evaluated by a pluggable ``evaluate(point) -> DataFrame`` (one row per
replication, a column per KPI), so the search can size any monotone KPI: :func:`model_evaluator`
runs the simulation through :func:`sim.analysis.runner.run` with the same seed at every point (common random
numbers); the tests plug in an Erlang-B loss system whose answer is known.

After the search the evaluated points are checked for what monotonicity forbids: a point meeting the
targets below one that fails, or a target KPI getting significantly worse with more capacity (a
paired 95% CI of the difference, same replications, excluding zero). Both are reported, not hidden.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim import metrics
from sim.analysis import runner
from sim.analysis.stats import mean_ci, paired_diff
from sim.analysis.variants import vary
from sim.config.errors import UsageError
from sim.config.scenario import MAX_CAPACITY, RESOURCES, Scenario, programmes

KPI_NAMES = tuple(k for k in metrics.KPI_COLUMNS if k != "replication")
PROGRAMME_KPI_NAMES = metrics.PROGRAMME_KPI_NAMES   # what a target on one programme of a centre may name
OPERATORS = ("<=", ">=")
LEVEL = 0.95
DEFAULT_MIN = 1
DEFAULT_MAX = 40

Point = Mapping[str, int]
Evaluate = Callable[[Point], pd.DataFrame]
OnCandidate = Callable[["Candidate"], None]

# KPI name, operator, number. Nothing else is accepted, and nothing is ever evaluated as code.
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_TARGET = re.compile(rf"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=)\s*({_NUMBER})\s*$")
_ANY_OPERATOR = re.compile(r"(<=|>=|==|!=|=<|=>|<|>|=)")


# --------------------------------------------------------------------------- targets

@dataclass(frozen=True)
class Target:
    """A service level: ``kpi op value`` with ``op`` one of ``<=`` and ``>=``."""

    kpi: str
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.kpi}{self.op}{self.value:g}"

    @property
    def bound(self) -> str:
        """Which end of the confidence interval must meet the target: ``ci_high`` or ``ci_low``."""
        return "ci_high" if self.op == "<=" else "ci_low"

    def met(self, ci_low: float, ci_high: float) -> bool:
        """Whether the interval ``[ci_low, ci_high]`` meets the target (an undefined bound does not)."""
        b = ci_high if self.op == "<=" else ci_low
        if b is None or not math.isfinite(b):
            return False
        return b <= self.value if self.op == "<=" else b >= self.value


def parse_target(text: str, allowed: Sequence[str] = KPI_NAMES) -> Target:
    """Parse ``"KPI<=NUMBER"`` or ``"KPI>=NUMBER"`` (spaces allowed) with a tiny grammar, never eval.

    Parameters
    ----------
    text : str
        The target as typed, e.g. ``"p_dose_postponed<=0.02"``.
    allowed : sequence of str
        KPI names the target may use (default: every KPI column of :mod:`sim.metrics`).

    Returns
    -------
    Target

    Raises
    ------
    UsageError
        For a malformed target, an operator other than ``<=``/``>=``, a non-finite number or an
        unknown KPI; the message names the target and lists what is allowed.
    """
    if not isinstance(text, str):
        raise UsageError(f"target {text!r}: expected text such as \"p_dose_postponed<=0.02\"")
    m = _TARGET.match(text)
    if m is None:
        op = _ANY_OPERATOR.search(text)
        if op is not None and op.group(1) not in OPERATORS:
            why = f"operator {op.group(1)!r} is not allowed; allowed operators: <= and >="
        else:
            why = "expected KPI<=NUMBER or KPI>=NUMBER"
        raise UsageError(f"target {text!r}: {why}, e.g. \"p_dose_postponed<=0.02\"")
    kpi, op, number = m.group(1), m.group(2), float(m.group(3))
    if not math.isfinite(number):
        raise UsageError(f"target {text!r}: {m.group(3)} is not a finite number")
    if kpi not in allowed:
        raise UsageError(f"target {text!r}: unknown KPI {kpi!r}; allowed KPIs: {', '.join(allowed)}")
    return Target(kpi, op, number)


def targets_of(targets: str | Target | Iterable[str | Target], allowed: Sequence[str] = KPI_NAMES) -> list[Target]:
    """Targets given as :class:`Target` objects or ``"KPI<=NUMBER"`` text, one or several; at least one.

    Raises
    ------
    UsageError
        For a malformed target, an unknown KPI, or none at all.
    """
    items = [targets] if isinstance(targets, (str, Target)) else list(targets)
    out = [t if isinstance(t, Target) else parse_target(t, allowed) for t in items]
    unknown = [t.kpi for t in out if t.kpi not in allowed]
    if unknown:
        raise UsageError(f"target on {unknown[0]!r}: unknown KPI; allowed KPIs: {', '.join(allowed)}")
    if not out:
        raise UsageError('targets is empty; allowed: one or more, e.g. "p_dose_postponed<=0.02"')
    return out


# --------------------------------------------------------------------------- resources, bounds, costs

def resources_of(resources: str | Sequence[str]) -> tuple[str, ...]:
    """One resource name, or two (a pair), checked against :data:`RESOURCES`.

    Raises
    ------
    UsageError
        For an unknown or repeated resource, none, or more than two.
    """
    names = (resources,) if isinstance(resources, str) else tuple(resources)
    unknown = [n for n in names if n not in RESOURCES]
    if unknown:
        raise UsageError(f"unknown resource {unknown[0]!r}; allowed: {', '.join(RESOURCES)}")
    if len(set(names)) != len(names):
        raise UsageError(f"resources {list(names)}: a resource is named twice; allowed: two different resources")
    if not 1 <= len(names) <= 2:
        raise UsageError(f"resources {list(names)}: allowed: one resource, or a pair (cheapest feasible pair)")
    return names


def bounds_of(value: int | Mapping[str, int] | None, resources: Sequence[str], default: int, what: str
              ) -> dict[str, int]:
    """A bound for every resource: one number for all, or ``{resource: number}`` (others keep ``default``)."""
    if value is None:
        return dict.fromkeys(resources, default)
    if not isinstance(value, Mapping):
        return dict.fromkeys(resources, _whole(value, what))
    stray = [r for r in value if r not in resources]
    if stray:
        raise UsageError(f"{what}: {stray[0]!r} is not a resource being sized; allowed: {', '.join(resources)}")
    return {r: _whole(value.get(r, default), f"{what} {r}") for r in resources}


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UsageError(f"{what} = {value!r}; allowed: a whole number")
    return int(value)


def check_bounds(lo: Mapping[str, int], hi: Mapping[str, int]) -> None:
    """Raise :class:`UsageError` unless ``0 <= lo <= hi <= MAX_CAPACITY`` for every resource."""
    for r in lo:
        if lo[r] < 0:
            raise UsageError(f"low {r} = {lo[r]}; allowed: 0 or more")
        if hi[r] > MAX_CAPACITY:
            raise UsageError(f"high {r} = {hi[r]}; allowed: up to {MAX_CAPACITY}")
        if lo[r] > hi[r]:
            raise UsageError(f"low {r} = {lo[r]} is above high {r} = {hi[r]}")


def open_hours_in_window(s: Scenario) -> float:
    """Hours the infusion centre is open in the statistics window (after warm-up, before follow-up)."""
    cal = s.calendar
    first = s.run.warmup_weeks * 7
    days = range(first, first + s.run.horizon_weeks * 7)
    holidays = set(cal.holidays)
    open_days = sum(1 for d in days if d % 7 in cal.open_weekdays and d not in holidays)
    return open_days * cal.open_length


def default_unit_costs(s: Scenario) -> dict[str, float]:
    """Capacity cost of one unit of each resource over the statistics window, from per-use prices.

    The scenario prices use (a bed-day, a chair-hour, an ED visit), not capacity, so a unit's cost
    is taken as its use price times the hours it is available in the horizon: chairs
    ``chair_hour`` x opening hours (holidays excluded); observation, ward and ICU beds their
    ``*_day`` price x days in the horizon; an ED bay ``ed_visit / operations.ed_hours`` per hour x
    every hour; an urgent-care bay ``urgent_care_visit / urgent_care.assessment_hours`` per hour x its
    opening hours; a clinic room ``clinic_visit / operations.clinic_visit_hours`` per hour x opening hours.
    Only the ratios matter when choosing the cheapest pair.

    Returns
    -------
    dict
        ``{resource: cost per unit}`` in the scenario's currency.
    """
    c = s.costs
    days = s.run.horizon_weeks * 7
    return {
        "chairs": c.chair_hour.value * open_hours_in_window(s),
        "observation_beds": c.observation_day.value * days,
        "ward_beds": c.ward_day.value * days,
        "ed_bays": c.ed_visit.value / s.operations.ed_hours.value * 24 * days,
        "icu_beds": c.icu_day.value * days,
        "urgent_care_bays": c.urgent_care_visit.value / s.urgent_care.assessment_hours.value
        * s.urgent_care.open_hours_between(0.0, days * 24.0),
        "clinic_rooms": c.clinic_visit.value / s.operations.clinic_visit_hours.value * open_hours_in_window(s),
    }


def unit_costs_of(scenario: Scenario, resources: Sequence[str], given: Mapping[str, float] | None
                  ) -> dict[str, float]:
    """Unit costs of the sized resources: ``given`` over :func:`default_unit_costs`.

    Raises
    ------
    UsageError
        For a resource not being sized, or a negative or non-finite cost.
    """
    out = {r: float(c) for r, c in default_unit_costs(scenario).items() if r in resources}
    for name, value in (given or {}).items():
        if name not in resources:
            raise UsageError(f"unit cost of {name!r}: not a resource being sized; allowed: {', '.join(resources)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
            raise UsageError(f"unit cost of {name} = {value!r}; allowed: a number >= 0")
        out[name] = float(value)
    return out


# --------------------------------------------------------------------------- candidates and results

@dataclass(frozen=True)
class Candidate:
    """One capacity point evaluated: its KPI means and intervals and which targets it meets."""

    order: int                                   # 1 for the first point evaluated
    point: dict[str, int]
    stats: dict[str, tuple[float, float, float, int]]   # kpi -> (mean, ci_low, ci_high, n)
    meets: tuple[bool, ...]                     # one per target, in target order
    feasible: bool                               # meets every target


@dataclass
class SizingResult:
    """What a sizing search found, and everything it evaluated to find it."""

    resources: tuple[str, ...]
    targets: list[Target]
    level: float
    candidates: list[Candidate]
    answer: dict[str, int] | None
    status: str                                  # "found", "at_min" (the lower bound meets it), "unreachable"
    message: str
    bounds: dict[str, tuple[int, int]]
    notes: list[str] = field(default_factory=list)
    unit_costs: dict[str, float] | None = None
    frontier: list[dict[str, float]] = field(default_factory=list)   # pairs: (A, smallest B, cost) per A

    @property
    def found(self) -> bool:
        return self.answer is not None

    def candidate(self, **point: int) -> Candidate | None:
        """The evaluated candidate at ``point`` (e.g. ``observation_beds=4``), or None."""
        for c in self.candidates:
            if c.point == point:
                return c
        return None

    def cost(self, point: Mapping[str, int]) -> float:
        """Capacity cost of a point under :attr:`unit_costs` (NaN without unit costs)."""
        if not self.unit_costs:
            return math.nan
        return float(sum(self.unit_costs[r] * point[r] for r in self.resources))

    def curve(self, kpi: str) -> pd.DataFrame:
        """One KPI against the capacity of a one-resource search: capacity, mean, ci_low, ci_high, n,
        one row per capacity evaluated, in capacity order (the capacity curve the dashboard draws)."""
        if len(self.resources) != 1:
            raise UsageError(f"curve() is for one resource; this search sized {list(self.resources)}")
        (r,) = self.resources
        rows = [{"capacity": c.point[r], "mean": c.stats[kpi][0], "ci_low": c.stats[kpi][1],
                 "ci_high": c.stats[kpi][2], "n": c.stats[kpi][3]}
                for c in sorted(self.candidates, key=lambda c: c.point[r]) if kpi in c.stats]
        return pd.DataFrame(rows, columns=["capacity", "mean", "ci_low", "ci_high", "n"])

    def table(self) -> pd.DataFrame:
        """The candidates, in evaluation order: capacities, (cost), whether each target is met, the
        answer flag, and mean with CI of each KPI reported."""
        kpis: list[str] = []
        for c in self.candidates:
            for k in c.stats:
                if k not in kpis:
                    kpis.append(k)
        rows = []
        for c in self.candidates:
            row: dict[str, object] = {"evaluation": c.order, **c.point}
            if self.unit_costs:
                row["capacity_cost"] = self.cost(c.point)
            row["feasible"] = c.feasible
            row["answer"] = self.answer is not None and c.point == self.answer
            for t, ok in zip(self.targets, c.meets):
                row[f"meets {t}"] = ok
            n = 0
            for k in kpis:
                mean, lo, hi, n_k = c.stats.get(k, (math.nan, math.nan, math.nan, 0))
                row.update({f"{k}_mean": mean, f"{k}_ci_low": lo, f"{k}_ci_high": hi})
                n = max(n, n_k)
            row["replications"] = n
            rows.append(row)
        return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the search

def bracket_and_bisect(feasible: Callable[[int], bool], lo: int, hi: int, start: int | None = None
                       ) -> tuple[int | None, int | None]:
    """Smallest integer ``c`` in ``[lo, hi]`` with ``feasible(c)``, assuming feasibility never turns
    off as ``c`` grows.

    From ``start`` (clamped to the bounds; default ``lo``) steps of 1, 2, 4, ... go down while
    feasible or up while not, until the answer is bracketed; the bracket is then bisected. Calls
    ``feasible`` at most about ``2 log2(hi - lo + 1) + 2`` times.

    Parameters
    ----------
    feasible : callable
        ``feasible(c) -> bool``; cache it if evaluations are expensive (the search may not repeat
        points, but callers running several searches do).
    lo, hi : int
        Search bounds, inclusive.
    start : int, optional
        First capacity evaluated: a good guess (the current capacity) saves evaluations.

    Returns
    -------
    (answer, below)
        ``answer`` is the smallest feasible capacity, or None when ``hi`` is infeasible; ``below`` is
        the largest infeasible capacity evaluated (``answer - 1`` when both exist), or None when
        ``lo`` is feasible.
    """
    if lo > hi:
        raise UsageError(f"search bounds [{lo}, {hi}] are empty")
    c = lo if start is None else min(max(int(start), lo), hi)
    if feasible(c):
        good, bad, step = c, None, 1
        while good > lo:
            c = max(lo, good - step)
            if feasible(c):
                good, step = c, step * 2
            else:
                bad = c
                break
        if bad is None:
            return good, None
    else:
        bad, good, step = c, None, 1
        while bad < hi:
            c = min(hi, bad + step)
            if feasible(c):
                good = c
                break
            bad, step = c, step * 2
        if good is None:
            return None, bad
    while good - bad > 1:
        mid = (good + bad) // 2
        if feasible(mid):
            good = mid
        else:
            bad = mid
    return good, bad


class _Judge:
    """Evaluates points once each (cache), summarises them and judges the targets."""

    def __init__(self, evaluate: Evaluate, resources: Sequence[str], targets: Sequence[Target],
                 report_kpis: Sequence[str], level: float, on_candidate: OnCandidate | None):
        self.evaluate = evaluate
        self.resources = tuple(resources)
        self.targets = list(targets)
        kpis = [t.kpi for t in targets]
        self.kpis = list(dict.fromkeys([*kpis, *report_kpis]))
        self.level = level
        self.on_candidate = on_candidate
        self.candidates: list[Candidate] = []
        self.by_key: dict[tuple[int, ...], Candidate] = {}
        self.values: dict[tuple[int, ...], pd.DataFrame] = {}   # per-replication target KPIs, for paired checks

    def __call__(self, point: Mapping[str, int]) -> Candidate:
        key = tuple(int(point[r]) for r in self.resources)
        got = self.by_key.get(key)
        if got is not None:
            return got
        pt = dict(zip(self.resources, key))
        frame = self.evaluate(pt)
        missing = [t.kpi for t in self.targets if t.kpi not in frame.columns]
        if missing:
            raise UsageError(f"the evaluation at {pt} has no KPI {missing[0]!r}")
        stats = {}
        for k in self.kpis:
            if k in frame.columns:
                mean, _sd, lo, hi, n = mean_ci(frame[k].to_numpy(dtype=float), self.level)
                stats[k] = (mean, lo, hi, n)
        meets = tuple(t.met(stats[t.kpi][1], stats[t.kpi][2]) for t in self.targets)
        cand = Candidate(order=len(self.candidates) + 1, point=pt, stats=stats, meets=meets, feasible=all(meets))
        self.candidates.append(cand)
        self.by_key[key] = cand
        cols = list(dict.fromkeys(t.kpi for t in self.targets))
        if "replication" in frame.columns:
            cols = ["replication", *cols]
        self.values[key] = frame[cols].reset_index(drop=True)
        if self.on_candidate is not None:
            self.on_candidate(cand)
        return cand

    def feasible(self, point: Mapping[str, int]) -> bool:
        return self(point).feasible


def _describe_failure(c: Candidate, targets: Sequence[Target], level: float = LEVEL) -> str:
    parts = []
    for t, ok in zip(targets, c.meets):
        if not ok:
            mean, lo, hi, _ = c.stats[t.kpi]
            parts.append(f"{t.kpi} mean {mean:.4g}, {level:.0%} CI [{lo:.4g}, {hi:.4g}] (target {t.op} {t.value:g})")
    return "; ".join(parts)


def _point_text(point: Mapping[str, int]) -> str:
    return ", ".join(f"{r} = {v}" for r, v in point.items())


def monotonicity_notes(judge: "_Judge") -> list[str]:
    """What the evaluated points say against monotonicity, along each resource with the others fixed.

    Reports (1) a point meeting the targets while a larger capacity (others equal) fails, and (2) a
    target KPI significantly worse at the larger of two neighbouring evaluated capacities (paired
    CI of the per-replication difference excluding zero; the same seeds make the pairing valid).
    """
    notes: list[str] = []
    res = judge.resources
    for i, r in enumerate(res):
        lines: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
        for key in judge.by_key:
            lines.setdefault(key[:i] + key[i + 1:], []).append(key)
        for keys in lines.values():
            keys.sort(key=lambda k: k[i])
            for a_pos, a in enumerate(keys):
                if judge.by_key[a].feasible:
                    fails = [b for b in keys[a_pos + 1:] if not judge.by_key[b].feasible]
                    if fails:
                        b = fails[0]
                        notes.append(f"monotonicity violated: {_point_text(judge.by_key[a].point)} meets every "
                                     f"target but {_point_text(judge.by_key[b].point)} does not (same seeds); "
                                     "the answer may not be the smallest")
                        break
            for a, b in zip(keys, keys[1:]):
                notes.extend(_worse_with_more(judge, i, a, b))
    return notes


def _worse_with_more(judge: "_Judge", i: int, a: tuple[int, ...], b: tuple[int, ...]) -> list[str]:
    """Target KPIs significantly worse at ``b`` (one more of resource ``i``) than at ``a``, paired on seeds."""
    res, r = judge.resources, judge.resources[i]
    notes = []
    for t in judge.targets:
        try:
            mean, lo, hi = paired_diff(judge.values[a], judge.values[b], t.kpi)
        except UsageError:          # evaluations that cannot be paired say nothing here
            continue
        if not (math.isfinite(lo) and math.isfinite(hi)):
            continue
        if (t.op == "<=" and lo > 0) or (t.op == ">=" and hi < 0):
            others = (f" (others: {_point_text({q: v for q, v in zip(res, a) if q != r})})"
                      if len(res) > 1 else "")
            notes.append(f"{t.kpi} is worse at {r} = {b[i]} than at {r} = {a[i]}{others}: paired difference "
                         f"{mean:+.4g}, 95% CI [{lo:.4g}, {hi:.4g}] on the same seeds; the KPI is not monotone "
                         "in this resource")
    return notes


def size_one(evaluate: Evaluate, resource: str, targets: Sequence[Target], lo: int = DEFAULT_MIN,
             hi: int = DEFAULT_MAX, start: int | None = None, *, report_kpis: Sequence[str] = (),
             level: float = LEVEL, on_candidate: OnCandidate | None = None) -> SizingResult:
    """Smallest capacity of one resource in ``[lo, hi]`` at which every target holds.

    Parameters
    ----------
    evaluate : callable
        ``evaluate({resource: capacity}) -> DataFrame`` with one row per replication and a column per
        KPI (a ``replication`` column, when present, pairs replications across capacities). Use the
        same seeds at every capacity (common random numbers), as :func:`model_evaluator` does.
    resource : str
        Name of the capacity being sized (any name for a custom evaluator).
    targets : sequence of Target
        Every one must hold (CI bound on the right side, see :class:`Target`).
    lo, hi : int
        Search bounds, inclusive.
    start : int, optional
        First capacity evaluated (default ``lo``); the scenario's current capacity is a good guess.
    report_kpis : sequence of str
        Further KPIs to summarise at every candidate (reported, not judged).
    level : float
        Two-sided confidence level of the intervals.
    on_candidate : callable, optional
        Called with each :class:`Candidate` as soon as it is evaluated (progress).

    Returns
    -------
    SizingResult
        ``status`` "found" (``answer - 1`` evaluated and failing), "at_min" (``lo`` already meets the
        targets) or "unreachable" (``hi`` fails; ``answer`` is None); ``notes`` carries any sign of
        non-monotonicity.
    """
    if lo > hi:
        raise UsageError(f"low = {lo} is above high = {hi}")
    judge = _Judge(evaluate, (resource,), targets, report_kpis, level, on_candidate)
    answer, below = bracket_and_bisect(lambda c: judge.feasible({resource: c}), lo, hi, start)
    status, message, notes = _one_verdict(judge, resource, answer, below, lo, hi)
    notes.extend(monotonicity_notes(judge))
    return SizingResult(resources=(resource,), targets=list(targets), level=level, candidates=judge.candidates,
                        answer=None if answer is None else {resource: answer}, status=status, message=message,
                        bounds={resource: (lo, hi)}, notes=notes)


def _one_verdict(judge: "_Judge", resource: str, answer: int | None, below: int | None, lo: int, hi: int
                 ) -> tuple[str, str, list[str]]:
    """Status, message and notes of a one-resource search that ended on ``answer`` (``below`` failing)."""
    targets, level = judge.targets, judge.level
    tt = ", ".join(str(t) for t in targets)
    if answer is None:
        worst = judge({resource: hi})
        return "unreachable", (f"no {resource} in [{lo}, {hi}] meets {tt} with {level:.0%} confidence: at "
                               f"{resource} = {hi} {_describe_failure(worst, targets, level)}. Raise the upper "
                               "bound or relax the target."), []
    if below is None:
        return "at_min", (f"{resource} = {answer} meets {tt} with {level:.0%} confidence; it is the lower bound "
                          f"({lo}), so a smaller value was not tried"), []
    # the search always ends on answer - 1; asked again here only to read its result (cached)
    neighbour = judge({resource: answer - 1})
    notes = [f"{resource} = {answer - 1} also meets the targets"] if neighbour.feasible else []
    return "found", (f"smallest {resource} meeting {tt} with {level:.0%} confidence: {answer} "
                     f"({resource} = {answer - 1} fails: {_describe_failure(neighbour, targets, level)})"), notes


def size_pair(evaluate: Evaluate, resources: Sequence[str], targets: Sequence[Target],
              bounds: Mapping[str, tuple[int, int]], unit_costs: Mapping[str, float],
              start: Mapping[str, int] | None = None, *, report_kpis: Sequence[str] = (), level: float = LEVEL,
              on_candidate: OnCandidate | None = None) -> SizingResult:
    """Cheapest pair of capacities (A, B) within bounds at which every target holds.

    For each A from the smallest that works with the most B, the smallest feasible B is found by
    :func:`bracket_and_bisect`, searching below the B found for A - 1 (more A never needs more B,
    under monotonicity). The walk stops when ``cost(A) + cost(least B)`` can no longer beat the best
    pair, when B reaches its lower bound, or at A's upper bound. Ties in cost go to the smaller A.

    Parameters
    ----------
    evaluate : callable
        ``evaluate({A: a, B: b}) -> DataFrame`` (see :func:`size_one`).
    resources : (str, str)
        A (walked) and B (bisected for each A).
    targets : sequence of Target
    bounds : mapping
        ``{resource: (lo, hi)}``, inclusive.
    unit_costs : mapping
        ``{resource: cost of one unit}``; the pair minimising ``sum(cost * units)`` wins.
    start : mapping, optional
        Starting guesses (the scenario's current capacities).
    report_kpis, level, on_candidate
        As in :func:`size_one`.

    Returns
    -------
    SizingResult
        With ``unit_costs`` and ``frontier`` (for each A walked: the smallest B and the pair's cost).
    """
    if len(resources) != 2:
        raise UsageError(f"size_pair needs two resources, got {list(resources)}")
    ra, rb = resources
    (lo_a, hi_a), (lo_b, hi_b) = bounds[ra], bounds[rb]
    costs = {ra: float(unit_costs[ra]), rb: float(unit_costs[rb])}
    start = dict(start or {})
    judge = _Judge(evaluate, (ra, rb), targets, report_kpis, level, on_candidate)
    box = {ra: (lo_a, hi_a), rb: (lo_b, hi_b)}
    # The smallest A that can work at all is the one that works with the most B.
    a_min, _ = bracket_and_bisect(lambda a: judge.feasible({ra: a, rb: hi_b}), lo_a, hi_a, start.get(ra))
    if a_min is None:
        return _unreachable_pair(judge, box, costs)
    notes: list[str] = []
    frontier = _walk_pairs(judge, box, costs, a_min, start.get(rb), notes)
    best = min(frontier, key=lambda f: f["capacity_cost"])   # the first of equal costs: the smaller A
    answer = {ra: int(best[ra]), rb: int(best[rb])}
    neighbours = _cheaper_neighbours(judge, answer, box, notes)
    tt = ", ".join(str(t) for t in targets)
    message = (f"cheapest {ra} and {rb} meeting {tt} with {level:.0%} confidence: {ra} = {answer[ra]}, "
               f"{rb} = {answer[rb]} (capacity cost {best['capacity_cost']:,.0f}; with one unit less, "
               f"{'; '.join(neighbours)})")
    notes.extend(monotonicity_notes(judge))
    return SizingResult(resources=(ra, rb), targets=list(targets), level=level, candidates=judge.candidates,
                        answer=answer, status="found", message=message, bounds=box,
                        notes=list(dict.fromkeys(notes)), unit_costs=costs, frontier=frontier)


def _unreachable_pair(judge: "_Judge", box: Mapping[str, tuple[int, int]], costs: dict[str, float]) -> SizingResult:
    """The result when even the largest pair fails the targets."""
    (ra, (lo_a, hi_a)), (rb, (lo_b, hi_b)) = box.items()
    worst = judge({ra: hi_a, rb: hi_b})
    tt = ", ".join(str(t) for t in judge.targets)
    message = (f"no pair in {ra} [{lo_a}, {hi_a}] x {rb} [{lo_b}, {hi_b}] meets {tt} with {judge.level:.0%} "
               f"confidence: at {ra} = {hi_a}, {rb} = {hi_b} {_describe_failure(worst, judge.targets, judge.level)}. "
               "Raise the upper bounds or relax the target.")
    return SizingResult(resources=(ra, rb), targets=judge.targets, level=judge.level, candidates=judge.candidates,
                        answer=None, status="unreachable", message=message, bounds=dict(box),
                        notes=monotonicity_notes(judge), unit_costs=costs)


def _walk_pairs(judge: "_Judge", box: Mapping[str, tuple[int, int]], costs: Mapping[str, float], a_min: int,
                b_start: int | None, notes: list[str]) -> list[dict[str, float]]:
    """For each A from ``a_min`` up, the smallest feasible B (searched below the B of A - 1) and the pair's
    cost, until more A can no longer be cheaper. Non-empty: ``(a_min, hi_b)`` meets every target."""
    (ra, (_lo_a, hi_a)), (rb, (lo_b, hi_b)) = box.items()
    ca, cb = costs[ra], costs[rb]
    frontier: list[dict[str, float]] = []
    best = math.inf
    cap_b = hi_b
    for a in range(a_min, hi_a + 1):
        if frontier and ca * a + cb * lo_b >= best:
            break       # even the least B cannot make a larger A cheaper
        b, _ = bracket_and_bisect(lambda b: judge.feasible({ra: a, rb: b}), lo_b, cap_b,
                                  b_start if not frontier else cap_b)
        if b is None:
            # only on a later line: (previous A, cap_b) met every target, yet (A, cap_b) does not
            notes.append(f"monotonicity violated: {ra} = {int(frontier[-1][ra])}, {rb} = {cap_b} meets every "
                         f"target but {ra} = {a}, {rb} = {cap_b} does not (same seeds)")
            if cap_b < hi_b:
                b, _ = bracket_and_bisect(lambda b: judge.feasible({ra: a, rb: b}), cap_b + 1, hi_b, cap_b + 1)
        if b is None:
            continue
        cost = ca * a + cb * b
        frontier.append({ra: a, rb: b, "capacity_cost": cost})
        best = min(best, cost)
        cap_b = b
        if b == lo_b:
            break       # B cannot go lower, so more A only costs more
    return frontier


def _cheaper_neighbours(judge: "_Judge", answer: dict[str, int], box: Mapping[str, tuple[int, int]],
                        notes: list[str]) -> list[str]:
    """The pairs one unit cheaper in each resource must fail (same seeds); at most two more runs."""
    out = []
    for r, (lo_r, _hi_r) in box.items():
        if answer[r] > lo_r:
            nb = {**answer, r: answer[r] - 1}
            c = judge(nb)
            out.append(f"{r} = {nb[r]} {'also meets them (not monotone)' if c.feasible else 'fails'}")
            if c.feasible:
                notes.append(f"{_point_text(nb)} also meets every target and costs less: monotonicity is violated "
                             "and the answer may not be the cheapest")
        else:
            out.append(f"{r} = {lo_r} is its lower bound")
    return out


# --------------------------------------------------------------------------- the simulation as evaluator

def model_evaluator(scenario: Scenario, reps: int, seed: int | None = None, executor: runner.Executor = "processes",
                    workers: int | None = None, scheduler=None, programme: str | None = None) -> Evaluate:
    """An ``evaluate(point)`` that runs the scenario with ``capacity.<resource> = value`` set.

    Each point is a :func:`~sim.analysis.variants.vary` of ``scenario`` (validated like the file) run
    by :func:`sim.analysis.runner.run` for replications ``0 .. reps - 1`` on one seed (``seed``, else the
    scenario's ``run.seed``), so every point sees the same patients and toxicity draws (common random
    numbers). The KPIs are the scenario's (a centre's totals), or with ``programme`` that programme's own
    (``RunResult.by_programme``).
    """
    run_seed = scenario.run.seed if seed is None else seed

    def evaluate(point: Point) -> pd.DataFrame:
        s = vary(scenario, {f"capacity.{r}": int(v) for r, v in point.items()})
        result = runner.run(s, reps, seed=run_seed, executor=executor, workers=workers, scheduler=scheduler)
        if programme is None:
            return result.kpis
        rows = result.by_programme
        return rows[rows["programme"] == programme].drop(columns="programme").reset_index(drop=True)

    return evaluate


def check_programme(scenario: Scenario, programme: str | None) -> None:
    """Refuse a ``programme`` that is not one of the scenario's (:func:`~sim.config.scenario.programmes`)."""
    names = [name for name, _ in programmes(scenario)]
    if programme is not None and programme not in names:
        raise UsageError(f"programme = {programme!r}; allowed: {', '.join(names)}")


def size(scenario: Scenario, resources: str | Sequence[str], targets: str | Target | Iterable[str | Target],
         reps: int = 30, *, low: int | Mapping[str, int] | None = None, high: int | Mapping[str, int] | None = None,
         unit_costs: Mapping[str, float] | None = None, report_kpis: Sequence[str] = (), seed: int | None = None,
         executor: runner.Executor = "processes", workers: int | None = None, scheduler=None,
         on_candidate: OnCandidate | None = None, level: float = LEVEL, programme: str | None = None) -> SizingResult:
    """The smallest capacity of one resource (or the cheapest pair of two) at which every target holds.

    Parameters
    ----------
    scenario : Scenario
        The scenario; its own capacities are the starting guesses.
    resources : str or (str, str)
        A resource of :data:`~sim.config.scenario.RESOURCES`, or two for the cheapest feasible pair.
    targets : str, Target or several
        E.g. ``"p_dose_postponed<=0.02"``; every one must hold with ``level`` confidence.
    reps : int
        Replications per capacity tried (at least 2, for an interval), on one seed.
    low, high : int or mapping, optional
        Search bounds, inclusive: one number for every resource or ``{resource: number}``
        (default :data:`DEFAULT_MIN` to :data:`DEFAULT_MAX`).
    unit_costs : mapping, optional
        Pairs only: cost of one unit of each resource (default :func:`default_unit_costs`).
    report_kpis : sequence of str
        Further KPIs summarised at every candidate (the sized resources' utilisation always is).
    seed, executor, workers, scheduler
        As in :func:`sim.analysis.runner.run`; one seed for every candidate.
    on_candidate : callable, optional
        Called with each :class:`Candidate` as soon as it is evaluated (progress).
    level : float
        Two-sided confidence level.
    programme : str, optional
        Size on this programme's own KPIs (its rows of ``RunResult.by_programme``) rather than the
        scenario's totals; targets and report KPIs are then among :data:`PROGRAMME_KPI_NAMES`. The other
        programmes still run and share the places.

    Returns
    -------
    SizingResult

    Raises
    ------
    UsageError
        For bad arguments; ScenarioError(s) for a bound the scenario cannot take. Both before any run.
    """
    names = resources_of(resources)
    goals, allowed = _programme_targets(scenario, targets, programme)
    lo, hi = _checked_box(scenario, names, low, high, reps, report_kpis, allowed)
    if len(names) == 1 and unit_costs:
        raise UsageError("unit_costs are used only with two resources (the cheapest feasible pair)")
    costs = unit_costs_of(scenario, names, unit_costs) if len(names) == 2 else None
    start = {r: getattr(scenario.capacity, r) for r in names}
    report = list(dict.fromkeys([*(f"util_{r}" for r in names), *report_kpis]))
    with runner.shared_scheduler(executor, scheduler, workers) as shared:
        evaluate = model_evaluator(scenario, reps, seed, executor, workers, shared, programme)
        if len(names) == 1:
            (r,) = names
            return size_one(evaluate, r, goals, lo[r], hi[r], start[r], report_kpis=report, level=level,
                            on_candidate=on_candidate)
        return size_pair(evaluate, names, goals, {r: (lo[r], hi[r]) for r in names}, costs, start,
                         report_kpis=report, level=level, on_candidate=on_candidate)


def _programme_targets(scenario: Scenario, targets, programme: str | None) -> tuple[list[Target], Sequence[str]]:
    """The targets, and the KPIs they and the report may name: the scenario's, or one programme's own."""
    check_programme(scenario, programme)
    goals = targets_of(targets)
    allowed = KPI_NAMES if programme is None else PROGRAMME_KPI_NAMES
    shared = [t.kpi for t in goals if t.kpi not in allowed]
    if shared:
        raise UsageError(f"target on {shared[0]!r}: a KPI of the centre as a whole, not of one programme; allowed "
                         f"with a programme: {', '.join(allowed)}")
    return goals, allowed


def _checked_box(scenario: Scenario, names: Sequence[str], low, high, reps: int, report_kpis: Sequence[str],
                 allowed: Sequence[str] = KPI_NAMES) -> tuple[dict[str, int], dict[str, int]]:
    """The search bounds, with everything :func:`size` needs checked before the first run."""
    unknown = [k for k in report_kpis if k not in allowed]
    if unknown:
        raise UsageError(f"report_kpis: unknown KPI {unknown[0]!r}; allowed KPIs: {', '.join(allowed)}")
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 2:
        raise UsageError(f"reps = {reps!r}; allowed: 2 or more (a confidence interval needs two replications)")
    runner.check_run_args(scenario, reps, "serial")
    lo = bounds_of(low, names, DEFAULT_MIN, "low")
    hi = bounds_of(high, names, DEFAULT_MAX, "high")
    check_bounds(lo, hi)
    # Both corners of the search box are validated before anything runs, so a bound the scenario
    # cannot take (e.g. no bookable ward bed) is reported at once rather than mid-search.
    for corner in (lo, hi):
        vary(scenario, {f"capacity.{r}": v for r, v in corner.items()})
    return lo, hi
