"""Typed, frozen scenario: everything one simulation needs, validated before any run.

A scenario is loaded from TOML by :mod:`sim.loader`; this module only says what is allowed.
"""

from __future__ import annotations

import itertools
import math
import re
import typing
from typing import Literal

from pydantic import Field, create_model, model_validator

from sim.config.dose_plan import BED_PLACES, CHAIR_PLACES, dose_requirements, plan_dose
from sim.config.drug import DrugProfile, prophylaxis_key
from sim.config.params import (
    Frozen,
    NonNeg,
    NonNegHours,
    Positive,
    PositiveHours,
    Probability,
    Spread,
    none_stated,
    sourced,
)
from sim.config.registry import BED_RESOURCES, PLACE_RESOURCE, PLACES, RESOURCE_NAMES, resource

RESOURCES = RESOURCE_NAMES  # declared in sim.config.registry; the name stays for the code that uses it

# Guards against inputs that would exhaust memory rather than answer a question.
MAX_PATIENTS_PER_WEEK = 500
MAX_WEEKS = 520
MAX_CAPACITY = 100_000
MAX_RISK_FACTORS = 12          # the risk calibration enumerates all 2**F factor combinations
MAX_PATIENT_DOSES = 5_000_000  # expected patients x possible doses: bounds the per-dose arrays (~0.5 GB)
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"  # names a default output folder: no paths
PROGRAMME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"  # a key of [programmes.<name>] and a dotted path's part
MAX_PROGRAMMES = 12


class RunSettings(Frozen):
    horizon_weeks: int = Field(gt=0, le=MAX_WEEKS, description="weeks after warm-up over which statistics are kept")
    warmup_weeks: int = Field(ge=0, le=MAX_WEEKS, description="weeks simulated from empty and then discarded")
    follow_up_weeks: int = Field(default=8, ge=0, le=104,
                                 description="weeks after the horizon during which patients already started are "
                                             "followed (no new referrals), so late starters' toxicity is observed")
    seed: int = Field(ge=0, lt=2**63)
    warm_start: bool = Field(
        default=True, description="start with the patients a steady state would already have on maintenance "
                                  "(Poisson count, exponential age and remaining time), so a short warm-up suffices")
    parameter_uncertainty: bool = Field(
        default=False, description="each replication first draws CRS/ICANS incidence (Beta) and grade mix "
                                   "(Dirichlet) from the published counts, then simulates")


class Demand(Frozen):
    patients_per_week: float = Field(ge=0, le=MAX_PATIENTS_PER_WEEK, description="new referrals per week")
    growth_per_year: float = Field(default=0.0, gt=-1, le=10, description="relative growth of the referral rate per year")


class CalendarConfig(Frozen):
    open_hour: float = Field(ge=0, lt=24, description="infusion centre opens (hour of day)")
    close_hour: float = Field(gt=0, le=24, description="infusion centre closes (hour of day)")
    open_weekdays: tuple[int, ...] = Field(min_length=1, description="0 = Monday ... 6 = Sunday")
    start_weekdays: tuple[int, ...] = Field(min_length=1, description="weekdays on which a first dose may be given")
    holidays: tuple[int, ...] = Field(default=(), description="closed days, as day numbers from the simulation start")
    lead_time_days: int = Field(ge=0, le=365, description="days from referral to the earliest first dose")
    admission_window_hours: float = Field(default=4, gt=0, le=24,
                                          description="planned bed admissions start within this many hours of opening")
    max_start_delay_days: int = Field(default=90, ge=0, le=365,
                                      description="a patient not started within this many days of the earliest "
                                                  "start is referred elsewhere")

    @model_validator(mode="after")
    def _consistent(self) -> "CalendarConfig":
        if self.close_hour <= self.open_hour:
            raise ValueError(f"close_hour = {self.close_hour} is not after open_hour = {self.open_hour}")
        for name in ("open_weekdays", "start_weekdays"):
            days = getattr(self, name)
            if any(d < 0 or d > 6 for d in days):
                raise ValueError(f"{name} = {list(days)}; allowed: weekdays 0 (Monday) to 6 (Sunday)")
            if len(set(days)) != len(days):
                raise ValueError(f"{name} = {list(days)} repeats a weekday")
        if not set(self.start_weekdays) <= set(self.open_weekdays):
            raise ValueError(f"start_weekdays = {list(self.start_weekdays)} includes days the centre is closed "
                             f"(open_weekdays = {list(self.open_weekdays)})")
        if any(h < 0 for h in self.holidays):
            raise ValueError(f"holidays = {list(self.holidays)}; allowed: day numbers >= 0")
        return self

    @property
    def open_length(self) -> float:
        return self.close_hour - self.open_hour


# One field per resource of the registry (places of each kind), so a new resource needs no edit here.
Capacity = create_model(
    "Capacity", __base__=Frozen, __module__=__name__,
    **{name: (int, Field(ge=0, le=MAX_CAPACITY, description=f"{resource(name).label} available"))
       for name in RESOURCE_NAMES})


class Booking(Frozen):
    ward_beds_reserved_for_unplanned: int = Field(default=0, ge=0, le=MAX_CAPACITY,
                                                  description="ward beds never booked for planned monitoring")
    # How a scheduler fills a day varies between centres. Packing stays back to back keeps whole places
    # free for long stays, but then an infusion's hour depends on what else is booked that day (in a centre,
    # on the other programmes); booking the earliest start makes each patient's times independent of
    # others' while places are free.
    pack_stays: bool = Field(default=True, description="book a stay back to back with another on a place in use "
                             "(model assumption: a scheduler packing the day); false: the earliest start first")


class Population(Frozen):
    weight_kg_mean: Positive
    weight_kg_sd: NonNeg
    outpatient_eligible: Probability
    risk_factors: dict[str, Probability] = Field(default_factory=dict, max_length=MAX_RISK_FACTORS,
                                                 description="prevalence of each patient risk factor")
    high_risk_if: tuple[str, ...] = Field(default=(), description="risk factors any one of which makes a patient high risk")

    @model_validator(mode="after")
    def _known_factors(self) -> "Population":
        unknown = [f for f in self.high_risk_if if f not in self.risk_factors]
        if unknown:
            raise ValueError(f"high_risk_if names {unknown}, which are not in risk_factors "
                             f"(allowed: {sorted(self.risk_factors)})")
        return self


class Operations(Frozen):
    ed_hours: PositiveHours
    icu_step_down_ward_hours: NonNegHours
    clinic_visit_hours: PositiveHours = Field(description="length of a follow-up clinic visit "
                                                          "(strategy.follow_up_visit_days) in a clinic room")


class UrgentCare(Frozen):
    """The oncology urgent-care (immediate-care) centre: when it is open and how long an assessment takes.

    An onset the strategy sends there outside these hours goes to the ED instead.
    """

    open_hour: float = Field(ge=0, lt=24, description="opens (hour of day)")
    close_hour: float = Field(gt=0, le=24, description="closes (hour of day); an arrival before this is seen")
    open_weekdays: tuple[int, ...] = Field(min_length=1, description="0 = Monday ... 6 = Sunday")
    assessment_hours: PositiveHours

    @model_validator(mode="after")
    def _consistent(self) -> "UrgentCare":
        if self.close_hour <= self.open_hour:
            raise ValueError(f"close_hour = {self.close_hour} is not after open_hour = {self.open_hour}")
        if any(d < 0 or d > 6 for d in self.open_weekdays) or len(set(self.open_weekdays)) != len(self.open_weekdays):
            raise ValueError(f"open_weekdays = {list(self.open_weekdays)}; allowed: distinct weekdays 0 (Monday) "
                             "to 6 (Sunday)")
        return self

    def is_open(self, t: float) -> bool:
        """Open at ``t`` hours from the simulation start (day 0 is a Monday, as in the calendar)."""
        day, hour = divmod(t, 24.0)
        return int(day) % 7 in self.open_weekdays and self.open_hour <= hour < self.close_hour

    def open_hours_between(self, t0: float, t1: float) -> float:
        """Hours it is open in [t0, t1) (whole days; the statistics window starts and ends at midnight)."""
        days = range(int(t0 // 24), int(t1 // 24))
        return sum(self.close_hour - self.open_hour for d in days if d % 7 in self.open_weekdays)


AdmissionsPerWeek = sourced(0, MAX_PATIENTS_PER_WEEK, what=f"admissions per week from 0 to {MAX_PATIENTS_PER_WEEK}")


class OtherAdmissions(Frozen):
    """Patients of another service (CAR-T, general oncology) admitted to the same beds: Poisson arrivals,
    log-normal lengths of stay. They take a bed when one is free (first come, first served with the
    programme's unplanned admissions) and are never booked, so a planner can leave room for them."""

    name: str = Field(min_length=1, max_length=60, description="the service, e.g. \"CAR-T\"")
    resource: str = Field(description="the beds they use: " + ", ".join(BED_RESOURCES))
    per_week: AdmissionsPerWeek
    stay_median_hours: PositiveHours
    stay_sigma: Spread
    # Their tocilizumab comes from the same stock (a CAR-T patient's CRS): a dose (tocilizumab.mg_per_kg,
    # capped at max_mg) for this share of admissions, at a uniform time within toci_within_hours of taking
    # the bed (and within the stay); after each dose another follows with toci_repeat_probability, every
    # tocilizumab.repeat_interval_hours while the stay lasts, at most tocilizumab.max_doses in all.
    toci_probability: Probability = Field(default_factory=none_stated,
                                          description="share of admissions given a tocilizumab dose")
    toci_within_hours: PositiveHours = Field(default_factory=lambda: {
        "value": 168, "source": "model assumption: the dose falls in the first week of the stay (CRS after CAR-T "
        "infusion starts within days)", "verified": False})
    toci_repeat_probability: Probability = Field(default_factory=lambda: {
        "value": 0.0, "source": "model default: one dose per treated admission, never repeated (a lower bound of "
        "the service's use; set it from the service's records)", "verified": False},
        description="chance that another tocilizumab dose follows each dose of a treated admission")

    @model_validator(mode="after")
    def _bed(self) -> "OtherAdmissions":
        if self.resource not in BED_RESOURCES:
            raise ValueError(f"resource = {self.resource!r}; allowed: {', '.join(BED_RESOURCES)}")
        return self


class Tocilizumab(Frozen):
    mg_per_kg: Positive
    max_mg: Positive
    repeat_probability: Probability
    repeat_interval_hours: PositiveHours
    max_doses: int = Field(ge=1, le=10)


class Costs(Frozen):
    currency: str = "USD"
    ward_day: NonNeg
    observation_day: NonNeg
    icu_day: NonNeg
    ed_visit: NonNeg
    urgent_care_visit: NonNeg
    clinic_visit: NonNeg = Field(description="cost of a follow-up clinic visit")
    chair_hour: NonNeg = Field(description="operating cost of a chair-hour (nursing time and overhead)")
    chair_opportunity_hour: NonNeg = Field(description="chair revenue forgone per chair-hour; reported as "
                                                       "chair_opportunity_cost, outside cost_total")
    tocilizumab_per_mg: NonNeg


WeeklyDoses = sourced(0, 1000, what="doses a week from 0 to 1000")


class VialSplit(Frozen):
    """Share of the stock's mg held in each vial size."""

    mg80: float = Field(ge=0, le=1)
    mg200: float = Field(ge=0, le=1)
    mg400: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sums(self) -> "VialSplit":
        total = self.mg80 + self.mg200 + self.mg400
        if abs(total - 1) > 1e-6:
            raise ValueError(f"mg80 + mg200 + mg400 = {total:.4f}; allowed: shares summing to 1")
        return self


class Pharmacy(Frozen):
    """Tocilizumab stock policy. Quantities are mg-equivalents, split into vial sizes by ``vial_split``."""

    policy: Literal["periodic", "continuous"] = Field(
        description="periodic: order up to order_up_to every review_days; continuous: order order_quantity "
                    "when stock on hand plus on order falls to reorder_point")
    review_days: int = Field(default=7, ge=1, le=365)
    review_hour: float = Field(default=9, ge=0, lt=24, description="hour of the first day the review happens")
    order_up_to: float = Field(default=2400, ge=0, le=1_000_000, description="mg (periodic review)")
    reorder_point: float = Field(default=800, ge=0, le=1_000_000, description="mg (continuous review)")
    order_quantity: float = Field(default=1600, gt=0, le=1_000_000, description="mg (continuous review)")
    initial_stock_mg: float | None = Field(default=None, ge=0, le=1_000_000,
                                           description="stock at the start; default: the policy's full level")
    vial_split: VialSplit
    lead_time_days_min: NonNeg
    lead_time_days_max: NonNeg
    emergency_order: bool = True
    emergency_lead_hours: NonNegHours
    emergency_surcharge: NonNeg
    shelf_life_months: Positive
    background_doses_per_week: WeeklyDoses
    hold_step_up_without_stock: bool = Field(
        default=False, description="give a step-up dose only when a tocilizumab dose for the patient is on hand")

    @model_validator(mode="after")
    def _lead(self) -> "Pharmacy":
        if self.lead_time_days_max.value < self.lead_time_days_min.value:
            raise ValueError(f"lead_time_days_max = {self.lead_time_days_max.value} is below lead_time_days_min = "
                             f"{self.lead_time_days_min.value}")
        return self


class MonitoringRule(Frozen):
    """Where a dose is monitored. Rules are tried in order; the first whose conditions all hold wins.

    Conditions left out match everything. ``hours`` overrides the drug's required monitoring time.
    """

    doses: tuple[int, ...] | None = Field(default=None, description="dose numbers, 1 = first dose")
    min_required_hours: float | None = Field(default=None, ge=0,
                                             description="match doses whose required monitoring is at least this")
    risk: Literal["any", "high", "standard"] = "any"
    eligible: bool | None = Field(default=None, description="match on outpatient eligibility (caregiver, distance)")
    after_toxicity: bool | None = Field(default=None, description="match doses given after a toxicity that "
                                                                  "requires extended monitoring of the next dose")
    place: Literal[PLACES]
    hours: float | None = Field(default=None, gt=0, le=24 * 30)
    stay_through_dose: int | None = Field(
        default=None, ge=2, le=20, description="one admission: the patient keeps this bed until the monitoring of "
        "this later step-up dose ends, the doses in between given in the bed on their due days (no new booking)")

    @model_validator(mode="after")
    def _doses(self) -> "MonitoringRule":
        if self.doses is not None and (not self.doses or min(self.doses) < 1):
            raise ValueError(f"doses = {list(self.doses)}; allowed: dose numbers >= 1")
        through = self.stay_through_dose
        if through is not None:
            if self.place not in BED_PLACES:
                raise ValueError(f"stay_through_dose = {through} with place = '{self.place}'; allowed: "
                                 f"stay_through_dose only with a bed place ({', '.join(BED_PLACES)})")
            if self.doses is None or max(self.doses) >= through:
                raise ValueError(f"stay_through_dose = {through} with doses = "
                                 f"{None if self.doses is None else list(self.doses)}; allowed: doses listed, all "
                                 "before stay_through_dose")
        return self

    def matches(self, dose: int, required: float, high_risk: bool, eligible: bool, after_toxicity: bool) -> bool:
        return ((self.doses is None or dose in self.doses)
                and (self.min_required_hours is None or required >= self.min_required_hours)
                and (self.risk == "any" or (self.risk == "high") == high_risk)
                and (self.eligible is None or self.eligible == eligible)
                and (self.after_toxicity is None or self.after_toxicity == after_toxicity))


class Prophylaxis(Frozen):
    """Prophylactic tocilizumab at the listed doses (before each, or a set time after it, as the drug's
    prophylaxis entry of that timing says), for all or for high-risk patients."""

    doses: tuple[int, ...] = Field(min_length=1)
    timing: Literal["before_dose", "after_dose"] = Field(
        default="before_dose", description="before_dose: infused before the dose (chair_hours added to the stay); "
        "after_dose: given in the monitoring bed the drug entry's hours_after after the dose")
    patients: Literal["all", "high_risk"] = "all"
    chair_hours: PositiveHours = Field(description="extra chair (or bed) time for a tocilizumab infusion given "
                                                   "before the dose")

    @property
    def keys(self) -> tuple[str, ...]:
        """The drug prophylaxis entries this strategy uses, one per dose."""
        return tuple(prophylaxis_key(self.timing, d) for d in self.doses)


OnsetCare = Literal["home", "urgent_care", "ed", "admit"]
ONSET_CARE: tuple[str, ...] = typing.get_args(OnsetCare)
TOXICITY_KINDS = ("crs", "icans")


class OnsetAtHome(Frozen):
    """Where a CRS or ICANS onset outside hospital is managed, by toxicity and grade.

    ``home``: phone triage and oral dexamethasone at home, no visit; ``urgent_care``: same-day assessment in
    the oncology urgent-care centre (the ED outside its hours), then home, ward or ICU as the drug's
    management says; ``ed``: the same from the ED; ``admit``: straight to a ward bed (ICU where the drug's
    management says ICU).
    """

    crs_grade1: OnsetCare
    crs_grade2: OnsetCare
    crs_grade3: OnsetCare
    crs_grade4: OnsetCare
    icans_grade1: OnsetCare
    icans_grade2: OnsetCare
    icans_grade3: OnsetCare
    icans_grade4: OnsetCare
    source: str = Field(min_length=1)
    verified: bool = True
    note: str = ""

    def route(self, kind: str, grade: int) -> str:
        """Where an onset of ``kind`` ("crs" or "icans") and ``grade`` (1-4) at home is managed."""
        return getattr(self, f"{kind}_grade{grade}")


class Strategy(Frozen):
    name: str = Field(min_length=1)
    description: str = ""
    monitoring: tuple[MonitoringRule, ...] = Field(min_length=1)
    prophylaxis: Prophylaxis | None = None
    onset_at_home: OnsetAtHome
    follow_up_visit_days: tuple[int, ...] = Field(
        default=(), max_length=60, description="planned clinic visits after the first dose, "
        "by day of treatment (day 1 = the first dose's day), e.g. DeLLphi-300 Part F's [2, 3, 5, 9, 16, 22]")

    @model_validator(mode="after")
    def _visit_days(self) -> "Strategy":
        days = list(self.follow_up_visit_days)
        if days and (days[0] < 2 or days[-1] > 365 or any(b <= a for a, b in itertools.pairwise(days))):
            raise ValueError(f"follow_up_visit_days = {days}; allowed: increasing days of treatment from 2 "
                             "(the day after the first dose) to 365")
        return self

    def rule_for(self, dose: int, required: float, high_risk: bool, eligible: bool,
                 after_toxicity: bool) -> MonitoringRule | None:
        """The first monitoring rule that matches the dose (None: none does)."""
        return next((r for r in self.monitoring if r.matches(dose, required, high_risk, eligible, after_toxicity)),
                    None)

    def place_for(self, dose: int, required: float, high_risk: bool, eligible: bool,
                  after_toxicity: bool) -> tuple[str, float]:
        """Monitoring place and hours for one dose; falls back to the clinic chair for the required time."""
        rule = self.rule_for(dose, required, high_risk, eligible, after_toxicity)
        if rule is None:
            return "clinic", required
        return rule.place, (rule.hours if rule.hours is not None else required)

    def gives_prophylaxis(self, dose: int, high_risk: bool) -> bool:
        p = self.prophylaxis
        return p is not None and dose in p.doses and (p.patients == "all" or high_risk)

    def prophylaxis_before(self, dose: int, high_risk: bool) -> bool:
        """Tocilizumab infused before this dose (its chair time is part of the dose's stay)."""
        return self.gives_prophylaxis(dose, high_risk) and self.prophylaxis.timing == "before_dose"


class Programme(Frozen):
    """One BTCE programme of a centre (``[programmes.<name>]``): its own drug, strategy, patients and start
    days. It shares the centre's run, calendar (but its start weekdays), capacity, booking, operations,
    urgent care, tocilizumab, costs, pharmacy and other admissions."""

    description: str = ""
    demand: Demand
    population: Population
    start_weekdays: tuple[int, ...] = Field(min_length=1, description="weekdays on which this programme's first "
                                                                      "doses may be given (0 = Monday)")
    drug: DrugProfile
    strategy: Strategy


class Scenario(Frozen):
    name: str = Field(pattern=NAME_PATTERN, description="letters, digits, '_', '-', '.'; it names the "
                                                         "default output folder, so it cannot be a path")
    description: str = ""
    run: RunSettings
    demand: Demand
    calendar: CalendarConfig
    capacity: Capacity
    booking: Booking = Booking()
    population: Population
    operations: Operations
    urgent_care: UrgentCare
    tocilizumab: Tocilizumab
    costs: Costs
    pharmacy: Pharmacy | None = None
    other_admissions: tuple[OtherAdmissions, ...] = Field(
        default=(), max_length=20, description="other services' admissions into the same beds ([[other_admissions]])")
    drug: DrugProfile
    strategy: Strategy
    # A centre: several programmes sharing the sections above. Empty for a single-drug scenario, which is a
    # centre of one programme (the top-level drug, strategy, demand and population). In a centre, those
    # top-level fields are the first programme's (the loader sets them); :func:`programmes` gives each.
    programmes: dict[str, Programme] = Field(default_factory=dict, max_length=MAX_PROGRAMMES,
                                             description="a centre's programmes ([programmes.<name>])")

    @model_validator(mode="after")
    def _feasible(self) -> "Scenario":
        for msg in feasibility_problems(self):
            raise ValueError(msg)
        for msg in _centre_problems(self):
            raise ValueError(msg)
        return self

    @property
    def total_weeks(self) -> int:
        return self.run.warmup_weeks + self.run.horizon_weeks + self.run.follow_up_weeks


def programmes(s: Scenario) -> tuple[tuple[str, Scenario], ...]:
    """Every programme of ``s`` as a single-programme scenario sharing the centre's sections, in the
    file's order: ``(name, scenario)``. A single-drug scenario is one programme named after its drug."""
    if not s.programmes:
        return ((s.drug.name, s),)
    return tuple((name, s.model_copy(update={
        "drug": p.drug, "strategy": p.strategy, "demand": p.demand, "population": p.population,
        "calendar": s.calendar.model_copy(update={"start_weekdays": p.start_weekdays}), "programmes": {}}))
        for name, p in s.programmes.items())


def _centre_problems(s: Scenario) -> list[str]:
    """Each programme must be a feasible scenario on the centre's sections, and the centre must fit in memory."""
    if not s.programmes:
        return []
    for name in s.programmes:
        if not re.match(PROGRAMME_PATTERN, name):
            return [f"programmes.{name}: a programme name of letters, digits and '_', starting with a letter "
                    "(at most 40 characters)"]
    problems = []
    for name, p in s.programmes.items():
        try:
            CalendarConfig.model_validate({**s.calendar.model_dump(), "start_weekdays": p.start_weekdays})
        except ValueError as exc:
            problems.append(f"programmes.{name}.start_weekdays: {_first_message(exc)}")
    views = programmes(s)
    problems += [f"programmes.{name}: {msg}" for name, view in views for msg in feasibility_problems(view)]
    size = sum(expected_patients(v) * max_doses(v) for _, v in views)
    if size > MAX_PATIENT_DOSES:
        problems.append(f"programmes: the centre's expected patients x possible doses is {size:,.0f}; allowed: at "
                        f"most {MAX_PATIENT_DOSES:,} (shorten the run or lower the demand)")
    return problems


def _first_message(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    return errors()[0]["msg"].removeprefix("Value error, ") if callable(errors) else str(exc)


def max_doses(s: "Scenario") -> int:
    """Upper bound on doses any patient can receive within the simulated time."""
    total_days = s.total_weeks * 7
    n = 0
    for block in s.drug.schedule:
        n += block.count if block.count else total_days // block.gap_days + 1
    return max(1, min(n, total_days + 1))


def expected_patients(s: "Scenario") -> float:
    """Expected referrals over warm-up and horizon (with growth, at the final rate: an upper bound)."""
    weeks = s.run.warmup_weeks + s.run.horizon_weeks
    referred = s.demand.patients_per_week * weeks * max(1.0, (1 + s.demand.growth_per_year) ** (weeks / 52))
    # with a warm start, the patients already on treatment (about rate x mean time on therapy)
    on_treatment = (s.demand.patients_per_week * s.drug.time_on_therapy_median_days.value / 7 / math.log(2)
                    if s.run.warm_start else 0.0)
    return referred + on_treatment


def feasibility_problems(s: Scenario) -> list[str]:
    """Cross-field checks a single field cannot make: the run must fit in memory, clinic monitoring
    must fit in the infusion centre's day, and every place and resource the strategy or a toxicity
    can use must exist."""
    too_big = _size_problem(s)
    if too_big:
        return [too_big]
    places, too_long = _monitoring_places(s)
    if too_long:
        return [too_long]
    return (_place_problems(s, places) + _risk_factor_problems(s) + _toxicity_resource_problems(s)
            + _follow_up_problems(s) + _reserve_problems(s, places) + _prophylaxis_problems(s)
            + _other_admission_problems(s) + _admission_problems(s))


def _admission_problems(s: Scenario) -> list[str]:
    """A single admission (``stay_through_dose``) covers step-up doses only: later doses are booked one by one."""
    return [f"strategy.monitoring[{i}].stay_through_dose = {r.stay_through_dose} is after the step-up; allowed: "
            f"a step-up dose, at most drug.step_up_doses = {s.drug.step_up_doses}"
            for i, r in enumerate(s.strategy.monitoring)
            if r.stay_through_dose is not None and r.stay_through_dose > s.drug.step_up_doses]


def _size_problem(s: Scenario) -> str | None:
    size = expected_patients(s) * max_doses(s)
    if size <= MAX_PATIENT_DOSES:
        return None
    return (f"run: about {expected_patients(s):,.0f} patients x {max_doses(s)} possible doses each is "
            f"{size:,.0f}; allowed: at most {MAX_PATIENT_DOSES:,} (shorten the run or lower the demand)")


def _monitoring_places(s: Scenario) -> tuple[list[str], str | None]:
    """Every place the strategy can send a dose to, and the first chair stay longer than the open day.

    Each dose of the finite blocks (and one of the repeating block) is planned for every kind of
    patient, with and without the longest follow-up monitoring a toxicity can ask for.
    """

    drug, open_length = s.drug, s.calendar.open_length
    after_hours = max([r.next_dose_monitor_hours.value for r in drug.management.crs + drug.management.icans] + [0])
    follow_ups = (0.0, after_hours) if after_hours > 0 else (0.0,)
    places: list[str] = []
    n_check = sum(b.count for b in drug.schedule) + 1
    for dose, requirement in enumerate(dose_requirements(drug, n_check), start=1):
        for high, eligible, after in itertools.product((False, True), (False, True), follow_ups):
            plan = plan_dose(drug, s.strategy, dose, requirement, high, eligible, after)
            if plan.place not in places:
                places.append(plan.place)
            if plan.place in CHAIR_PLACES and plan.stay_hours > open_length + 1e-9:
                return places, (
                    f"strategy.monitoring: dose {dose} ({'high' if high else 'standard'} risk, "
                    f"{'eligible' if eligible else 'not eligible'} for outpatient"
                    f"{', after toxicity' if after else ''}) goes to '{plan.place}' for {plan.monitor_hours:g} h, "
                    f"needing {plan.stay_hours:g} chair hours, but the infusion centre is open {open_length:g} h a "
                    "day; allowed: a bed place (ward, observation) for long monitoring, or a longer opening day")
    return places, None


def _place_problems(s: Scenario, places: list[str]) -> list[str]:
    return [f"capacity.{PLACE_RESOURCE[place]} = 0, but the strategy sends doses to '{place}'; allowed: at least 1"
            for place in places if getattr(s.capacity, PLACE_RESOURCE[place]) < 1]


def _risk_factor_problems(s: Scenario) -> list[str]:
    known = set(s.population.risk_factors)
    problems = []
    for table in ("crs", "crs_grade2plus", "icans"):
        unknown = sorted(set(getattr(s.drug.risk_odds_ratios, table)) - known)
        if unknown:
            problems.append(f"drug.risk_odds_ratios.{table} names {unknown}, which are not in "
                            f"population.risk_factors (allowed: {sorted(known)})")
    return problems


def _toxicity_resource_problems(s: Scenario) -> list[str]:
    problems = [f"capacity.{res} = 0; allowed: at least 1 (patients with toxicity need it)"
                for res in ("chairs", "ward_beds", "ed_bays", "icu_beds") if getattr(s.capacity, res) < 1]
    routed = [f for f in OnsetAtHome.model_fields if getattr(s.strategy.onset_at_home, f) == "urgent_care"]
    if routed and s.capacity.urgent_care_bays < 1:
        problems.append(f"capacity.urgent_care_bays = 0, but strategy.onset_at_home sends {', '.join(routed)} to "
                        "'urgent_care'; allowed: at least 1 bay, or another place for those onsets")
    return problems


def _follow_up_problems(s: Scenario) -> list[str]:
    """Planned follow-up visits need a clinic room and must fit in the centre's day."""
    if not s.strategy.follow_up_visit_days:
        return []
    problems = []
    if s.capacity.clinic_rooms < 1:
        problems.append("capacity.clinic_rooms = 0, but strategy.follow_up_visit_days plans clinic visits; "
                        "allowed: at least 1 room, or no follow-up visits")
    hours = s.operations.clinic_visit_hours.value
    if hours > s.calendar.open_length:
        problems.append(f"operations.clinic_visit_hours = {hours:g} is longer than the {s.calendar.open_length:g} h "
                        "the centre is open; allowed: at most that")
    return problems


def _reserve_problems(s: Scenario, places: list[str]) -> list[str]:
    reserved = s.booking.ward_beds_reserved_for_unplanned
    if reserved < s.capacity.ward_beds or "ward" not in places:
        return []
    return [f"booking.ward_beds_reserved_for_unplanned = {reserved} "
            f"leaves no bookable ward bed out of capacity.ward_beds = {s.capacity.ward_beds}"]


def _prophylaxis_problems(s: Scenario) -> list[str]:
    """The strategy's prophylaxis needs the drug's evidence for that timing, and tocilizumab given after a
    dose needs the patient still in a monitoring bed then."""
    pro = s.strategy.prophylaxis
    if pro is None:
        return []
    have = sorted(s.drug.prophylaxis)
    missing = [k for k in pro.keys if k not in s.drug.prophylaxis]
    if missing:
        return [f"strategy.prophylaxis asks for tocilizumab {missing[0].replace('_', ' ', 1).replace('_', ' ')} of "
                f"{s.drug.name}, but the drug file has no [prophylaxis.{missing[0]}] entry; allowed: "
                + (", ".join(f"timing = '{k.rsplit('_', 1)[0]}' with dose {k.rsplit('_', 1)[1]}" for k in have)
                   if have else "none (no published prophylaxis evidence for this drug)")]
    if pro.timing == "before_dose":
        return []
    problems = []
    requirements = dose_requirements(s.drug, max(pro.doses))
    for dose in pro.doses:
        if dose > len(requirements):
            return [f"strategy.prophylaxis.doses includes {dose}; allowed: doses the schedule defines "
                    f"(1 to {len(requirements)})"]
        after = s.drug.prophylaxis[prophylaxis_key(pro.timing, dose)].hours_after.value
        for high, eligible in itertools.product((False, True), (False, True)):
            if pro.patients == "high_risk" and not high:
                continue
            plan = plan_dose(s.drug, s.strategy, dose, requirements[dose - 1], high, eligible)
            if plan.place not in BED_PLACES or plan.stay_hours - plan.premed_hours < after:
                problems.append(
                    f"strategy.prophylaxis gives tocilizumab {after:g} h after dose {dose}, but the strategy "
                    f"monitors that dose ({'high' if high else 'standard'} risk, "
                    f"{'eligible' if eligible else 'not eligible'} for outpatient) in '{plan.place}' for "
                    f"{plan.monitor_hours:g} h; allowed: a bed place (ward, observation) kept at least that long")
                return problems
    return problems


def _other_admission_problems(s: Scenario) -> list[str]:
    return [f"other_admissions[{i}] ({o.name}) uses {o.resource}, but capacity.{o.resource} = 0; allowed: at least 1 "
            "bed, or per_week = 0" for i, o in enumerate(s.other_admissions)
            if o.per_week.value > 0 and getattr(s.capacity, o.resource) < 1]
