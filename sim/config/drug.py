"""Schema of a drug profile: step-up schedule, chair times, toxicity rates and management.

A drug file in ``scenarios/drugs/`` holds one or more toxicity profiles under
``[toxicity.<name>]``; the loader selects one and the resolved :class:`DrugProfile` carries
that profile's ``crs`` and ``icans`` directly, so overrides read ``drug.crs.rate``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from sim.config.params import (
    DoseShares,
    Frozen,
    GradeMix,
    NonNegHours,
    PositiveHours,
    Probability,
    Spread,
    none_stated,
    sourced,
)

RelativeRisk = sourced(0, 10, what="a relative risk in [0, 10]")
Count = Annotated[int, Field(ge=0, le=10_000_000)]
OddsRatio = sourced(0.01, 100, what="an odds ratio in [0.01, 100]")
TherapyDays = sourced(0, 3650, lo_open=True, what="days > 0 and at most 3650 (ten years)")


class ScheduleBlock(Frozen):
    """Consecutive doses that share a spacing and a monitoring requirement.

    ``count = 0`` means "repeat until time on therapy ends" and is allowed only on the last block.
    """

    label: str
    count: int = Field(ge=0, le=1000)
    gap_days: int = Field(ge=0, le=365, description="days after the previous dose (0 for the first dose)")
    gap_max_days: int | None = Field(default=None, ge=0, le=365,
                                     description="latest permitted gap; defaults to gap_days")
    monitor_hours: PositiveHours
    hydration: bool = False
    premedication: bool = Field(default=True, description="premedication (chair.premedication_hours) before "
                                                          "these doses")
    infusion_hours: PositiveHours | None = Field(default=None, description="this block's infusion (or "
                                                 "injection) time when it differs from chair.infusion_hours")
    monitor_from: Literal["infusion_start", "infusion_end"] = Field(
        default="infusion_start", description="monitor_hours count from the infusion start, or from its end "
                                              "(labels that say 'observe X h after the infusion')")
    source: str = Field(min_length=1)
    verified: bool = True

    @model_validator(mode="after")
    def _window(self) -> "ScheduleBlock":
        if self.gap_max_days is not None and self.gap_max_days < self.gap_days:
            raise ValueError(f"gap_max_days = {self.gap_max_days} is below gap_days = {self.gap_days}; "
                             "allowed: gap_max_days >= gap_days")
        return self

    @property
    def window_days(self) -> int:
        return self.gap_days if self.gap_max_days is None else self.gap_max_days

    def infusion(self, chair: "ChairTimes") -> float:
        """Hours of this block's infusion (or injection): its own, else the chair's."""
        return self.infusion_hours.value if self.infusion_hours is not None else chair.infusion_hours.value

    def monitor_from_start(self, chair: "ChairTimes") -> float:
        """The label's monitoring in hours from the infusion start (the model's clock for every stay).

        Monitoring counted from the end of the infusion adds the infusion; post-infusion hydration runs in
        the chair or bed during that observation, so it adds nothing.
        """
        hours = self.monitor_hours.value
        return hours + self.infusion(chair) if self.monitor_from == "infusion_end" else hours


class RestartRule(Frozen):
    """One row of a label's "restarting after a delay" table.

    When the last dose given was dose ``last_dose_from..last_dose_to`` and the next dose's first
    permitted day is more than ``days_over`` days after it, the next dose given is dose ``restart_at``
    (a repeat of the step-up when it is not above the last dose given). Of the rules for one last
    dose, the one with the largest ``days_over`` exceeded applies.
    """

    last_dose_from: int = Field(ge=1, le=1000, description="the last dose given was this dose number or later")
    last_dose_to: int | None = Field(default=None, ge=1, le=1000,
                                     description="... and at most this one (omitted: any later dose)")
    days_over: int = Field(ge=0, le=3650, description="more than this many days since the last dose given")
    restart_at: int = Field(ge=1, le=1000, description="the dose number given next")
    source: str = Field(min_length=1)
    verified: bool = True
    note: str = ""

    @model_validator(mode="after")
    def _doses(self) -> "RestartRule":
        if self.last_dose_to is not None and self.last_dose_to < self.last_dose_from:
            raise ValueError(f"last_dose_to = {self.last_dose_to} is below last_dose_from = {self.last_dose_from}; "
                             "allowed: last_dose_to >= last_dose_from (or omitted: any later dose)")
        top = self.last_dose_from if self.last_dose_to is None else self.last_dose_to
        if self.restart_at > top + 1:
            raise ValueError(f"restart_at = {self.restart_at} is after dose {top + 1}, the next dose due after "
                             f"dose {top}; allowed: restart_at from 1 to {top + 1}")
        return self

    def covers(self, dose: int) -> bool:
        """The rule is for a last dose given of number ``dose``."""
        return dose >= self.last_dose_from and (self.last_dose_to is None or dose <= self.last_dose_to)


class Resume(Frozen):
    """When the dose after a toxicity hold is given."""

    after_hold: Literal["next_scheduled", "after_resolution"] = Field(
        default="after_resolution", description="'next_scheduled': the first day of the patient's own schedule "
                                                "on or after the hold ends; 'after_resolution': the day after the "
                                                "hold ends")
    source: str = Field(min_length=1)
    verified: bool = True
    note: str = ""


def _resume_default() -> Resume:
    return Resume(after_hold="after_resolution", verified=False,
                  source="not given in the drug file: the model's rule, the dose is due the day after the hold ends")


class ChairTimes(Frozen):
    """Chair time of a dose: premedication before, the infusion, and post-infusion hydration."""

    premedication_hours: NonNegHours
    infusion_hours: PositiveHours
    hydration_hours: NonNegHours


GradeCounts = tuple[Count, Count, Count, Count]


class ArmCounts(Frozen):
    """Patients in one arm of a study and how many of them had the event (for parameter uncertainty)."""

    patients: int = Field(ge=1, le=10_000_000)
    events: int = Field(ge=0, le=10_000_000)

    @model_validator(mode="after")
    def _events(self) -> "ArmCounts":
        if self.events > self.patients:
            raise ValueError(f"events = {self.events} exceeds patients = {self.patients}")
        return self


class DoseGradeMix(Frozen):
    """The grade mix of the events after one dose (entry k of ``Toxicity.dose_grade_mix``)."""

    grade_mix: GradeMix
    grade_counts: GradeCounts | None = Field(
        default=None, description="events of grade 1..4 after this dose behind grade_mix (for parameter uncertainty)")


class Recurrence(Frozen):
    """Relative risk of the toxicity at later doses for a patient given tocilizumab at the first event.

    Only where the evidence is for the drug itself (e.g. Searle et al., Cancer 2023, teclistamab).
    """

    relative_risk: RelativeRisk
    treated: ArmCounts | None = Field(default=None, description="patients given tocilizumab at the first event, "
                                                                "and how many had it again")
    control: ArmCounts | None = Field(default=None, description="patients not given it, and how many had it again")
    source: str = Field(min_length=1)
    verified: bool = True


class Toxicity(Frozen):
    """Per-patient incidence of one toxicity (CRS or ICANS) and its timing.

    ``by_dose`` gives, for patients who have the toxicity, the share who have it after dose 1, 2,
    ..., K (the last entry counts "dose K or later" and is placed at dose K). Shares may sum to more
    than 1 because a patient can have it after several doses. ``grade_mix`` is the per-patient
    worst-grade mix a label reports; ``dose_grade_mix`` (one entry per ``by_dose`` entry) gives the
    grades of the events after each dose where the source splits them by dose, and is then what the
    events are drawn from.
    """

    rate: Probability
    by_dose: DoseShares | None = None
    grade_mix: GradeMix
    onset_from: Literal["last_dose", "treatment_start"] = "last_dose"
    onset_median_hours: PositiveHours
    onset_sigma: Spread
    duration_median_hours: PositiveHours
    duration_sigma: Spread
    patients: int | None = Field(default=None, ge=1, description="sample size behind rate, if published")
    events: int | None = Field(default=None, ge=0, description="patients with the event, if published")
    grade_counts: GradeCounts | None = Field(
        default=None, description="events of grade 1..4 behind grade_mix, if published (for parameter uncertainty)")
    dose_grade_mix: tuple[DoseGradeMix, ...] = Field(
        default=(), max_length=20, description="grade mix of the events after dose 1, 2, ... (the last entry "
                                               "also serves later doses, as by_dose's does)")
    after_tocilizumab: Recurrence | None = None

    @model_validator(mode="after")
    def _timing(self) -> "Toxicity":
        shares = self.by_dose.value if self.by_dose is not None else ()
        if self.dose_grade_mix and len(self.dose_grade_mix) != len(shares):
            raise ValueError(f"dose_grade_mix has {len(self.dose_grade_mix)} entries and by_dose {len(shares)}; "
                             "allowed: one grade mix per by_dose entry")
        if self.onset_from == "treatment_start" and self.by_dose is not None:
            raise ValueError("by_dose is given but onset_from = 'treatment_start'; "
                             "allowed: by_dose only with onset_from = 'last_dose'")
        if (self.patients is None) != (self.events is None):
            raise ValueError(f"events = {self.events} and patients = {self.patients}; allowed: both counts "
                             "(patients with the event out of patients treated) or neither")
        if self.patients is not None and self.events is not None and self.events > self.patients:
            raise ValueError(f"events = {self.events} exceeds patients = {self.patients}")
        return self


class RiskOddsRatios(Frozen):
    """Odds ratios of patient risk factors (names as in the scenario's population.risk_factors)."""

    crs: dict[str, OddsRatio] = Field(default_factory=dict, description="on CRS of any grade")
    crs_grade2plus: dict[str, OddsRatio] = Field(default_factory=dict,
                                                 description="on a CRS event being grade >= 2")
    icans: dict[str, OddsRatio] = Field(default_factory=dict, description="on ICANS")


class GradeRule(Frozen):
    """What one grade of a toxicity does to the patient and to the centre (label management)."""

    grade: int = Field(ge=1, le=4)
    setting: Literal["none", "ward", "icu"]
    min_stay_hours: NonNegHours = Field(default_factory=none_stated)
    max_stay_hours: PositiveHours | None = Field(
        default=None, description="cap on the hospital stay; the toxicity (and the dose hold) may outlast it")
    stay_median_hours: PositiveHours | None = Field(
        default=None, description="median hospital stay (ICU stay for setting 'icu') of an admission for this "
                                  "grade, log-normal; the patient goes home when the grade allows and the rest "
                                  "of the episode is at home. Without it the stay lasts the whole episode")
    stay_sigma: Spread | None = Field(default=None, description="log-normal spread of the stay")
    discontinue_if_unresolved_hours: PositiveHours | None = Field(
        default=None, description="discontinue treatment when the toxicity lasts longer than this (e.g. ICANS "
                                  "not back to grade <= 1 within 7 days)")
    tocilizumab_probability: Probability = Field(default_factory=none_stated)
    withhold: bool = True
    resume_delay_hours: NonNegHours = Field(default_factory=none_stated)
    next_dose_monitor_hours: NonNegHours = Field(default_factory=none_stated)
    discontinue: bool = False
    discontinue_if_recurrent: bool = False
    source: str = Field(min_length=1)
    verified: bool = True

    @model_validator(mode="after")
    def _stay(self) -> "GradeRule":
        if (self.stay_median_hours is None) != (self.stay_sigma is None):
            raise ValueError("stay_median_hours and stay_sigma: allowed: both (a log-normal length of stay) "
                             "or neither (the stay lasts the episode)")
        return self


class Management(Frozen):
    crs: tuple[GradeRule, GradeRule, GradeRule, GradeRule]
    icans: tuple[GradeRule, GradeRule, GradeRule, GradeRule]

    @model_validator(mode="after")
    def _ordered(self) -> "Management":
        for kind in ("crs", "icans"):
            grades = [r.grade for r in getattr(self, kind)]
            if grades != [1, 2, 3, 4]:
                raise ValueError(f"{kind} rules are for grades {grades}; allowed: one rule each for grades 1, 2, 3, 4 in order")
        return self


PROPHYLAXIS_TIMINGS = ("before_dose", "after_dose")
_PROPHYLAXIS_KEY = re.compile(r"^(before_dose|after_dose)_([1-9][0-9]?)$")


def prophylaxis_key(timing: str, dose: int) -> str:
    """The name of the drug's prophylaxis entry for tocilizumab given at ``timing`` of ``dose``."""
    return f"{timing}_{dose}"


class ProphylaxisEffect(Frozen):
    """What prophylactic tocilizumab given at one timing (the entry's name) does to a patient.

    The relative risk applies to the patient's chance of any CRS (ICANS) over the course, as the
    studies measure it per patient; ``crs_grade_mix`` is the grade mix of CRS among patients who still
    have it. Common random numbers hold: prophylaxis only removes CRS or lowers its grade.
    """

    hours_after: NonNegHours | None = Field(default=None, description="hours after the dose (after_dose_<k> only)")
    crs_relative_risk: RelativeRisk
    icans_relative_risk: RelativeRisk
    crs_grade_mix: GradeMix | None = None
    crs_grade_counts: GradeCounts | None = None
    treated: ArmCounts | None = Field(default=None, description="CRS with this prophylaxis (for parameter uncertainty)")
    control: ArmCounts | None = Field(default=None, description="CRS without it: the comparator of the relative risk")
    source: str = ""
    verified: bool = True


def prophylaxis_by_timing(v: Any) -> Any:
    """A drug file written before timing mattered has one ``[prophylaxis]`` table of relative risks: the
    nearest reading is tocilizumab before the first dose, ``[prophylaxis.before_dose_1]``."""
    if isinstance(v, dict) and "crs_relative_risk" in v:
        return {"before_dose_1": v}
    return v


def _named_entries(v: Any) -> Any:
    """:func:`prophylaxis_by_timing`, then a badly named entry refused by its name before its contents are read."""
    v = prophylaxis_by_timing(v)
    if isinstance(v, dict):
        for key in v:
            if _PROPHYLAXIS_KEY.match(str(key)) is None:
                raise ValueError(f"entry '{key}'; allowed: entries named before_dose_<k> or after_dose_<k> "
                                 "(k = the dose number), e.g. [prophylaxis.before_dose_1]")
    return v


def _check_prophylaxis(table: dict[str, ProphylaxisEffect]) -> dict[str, ProphylaxisEffect]:
    for key, effect in table.items():
        m = _PROPHYLAXIS_KEY.match(key)
        if m is None:
            raise ValueError(f"entry '{key}'; allowed: entries named before_dose_<k> or after_dose_<k> "
                             "(k = the dose number), e.g. [prophylaxis.before_dose_1]")
        if (m.group(1) == "after_dose") != (effect.hours_after is not None):
            raise ValueError(f"entry '{key}': hours_after is "
                             + ("missing; allowed: after_dose_<k> says how many hours after the dose"
                                if effect.hours_after is None else "given; allowed: only for after_dose_<k>"))
    return table


ProphylaxisTable = Annotated[dict[str, ProphylaxisEffect], BeforeValidator(_named_entries),
                             AfterValidator(_check_prophylaxis)]


class DrugProfile(Frozen):
    """One drug, with the toxicity profile the scenario selected."""

    name: str = Field(min_length=1)
    brand: str = ""
    indication: str = ""
    route: Literal["IV", "SC", "continuous IV"]
    profile: str = Field(min_length=1, description="name of the selected toxicity profile")
    profile_description: str = ""
    schedule: tuple[ScheduleBlock, ...] = Field(min_length=1)
    step_up_doses: int = Field(ge=1, le=20, description="doses of the step-up phase: booked as one sequence, and "
                                                         "all given before time on therapy can end")
    chair: ChairTimes
    time_on_therapy_median_days: TherapyDays
    crs: Toxicity
    icans: Toxicity
    management: Management
    prophylaxis: ProphylaxisTable = Field(default_factory=dict, description="effect of prophylactic tocilizumab by "
                                          "timing: entries before_dose_<k> / after_dose_<k>")
    risk_odds_ratios: RiskOddsRatios = RiskOddsRatios()
    restart: tuple[RestartRule, ...] = Field(default=(), description="the label's restart-after-a-delay rules")
    resume: Resume = Field(default_factory=_resume_default, description="when the dose after a toxicity hold "
                                                                         "is given")

    @model_validator(mode="after")
    def _recurrence(self) -> "DrugProfile":
        if self.icans.after_tocilizumab is not None:
            raise ValueError("icans.after_tocilizumab is given; allowed: only crs.after_tocilizumab (the evidence "
                             "is for CRS recurrence after tocilizumab at the first CRS event)")
        return self

    @model_validator(mode="after")
    def _schedule(self) -> "DrugProfile":
        first = self.schedule[0]
        if first.gap_days != 0 or first.count != 1:
            raise ValueError(f"schedule[0] has count = {first.count}, gap_days = {first.gap_days}; allowed: the first "
                             "block is the first dose alone (count = 1, gap_days = 0)")
        for i, block in enumerate(self.schedule[1:], start=1):
            if block.gap_days < 1:
                raise ValueError(f"schedule[{i}].gap_days = {block.gap_days}; allowed: at least 1 day after the previous dose")
        defined = sum(b.count for b in self.schedule) if all(b.count for b in self.schedule) else None
        if defined is not None and self.step_up_doses > defined:
            raise ValueError(f"step_up_doses = {self.step_up_doses} exceeds the {defined} doses the schedule defines")
        for i, block in enumerate(self.schedule[:-1]):
            if block.count == 0:
                raise ValueError(f"schedule[{i}].count = 0 (repeat until the end) on a block that is not the last; "
                                 "allowed: count = 0 only on the last block")
        return self

    @model_validator(mode="after")
    def _restart(self) -> "DrugProfile":
        for i, rule in enumerate(self.restart):
            if rule.restart_at > self.step_up_doses:
                raise ValueError(f"restart[{i}].restart_at = {rule.restart_at} is not a step-up dose; allowed: "
                                 f"1 to step_up_doses = {self.step_up_doses}")
            for j, other in enumerate(self.restart[:i]):
                shared = max(rule.last_dose_from, other.last_dose_from)
                if rule.days_over == other.days_over and rule.covers(shared) and other.covers(shared):
                    raise ValueError(f"restart[{i}] and restart[{j}] both apply to last dose {shared} with "
                                     f"days_over = {rule.days_over}; allowed: one rule per last dose and days_over")
        return self

    def restart_dose(self, last_dose: int, days: float) -> int | None:
        """Dose to give next when it comes ``days`` after dose ``last_dose``, by the restart rules (None: none
        applies)."""
        best: RestartRule | None = None
        for rule in self.restart:
            if rule.covers(last_dose) and days > rule.days_over and (best is None or rule.days_over > best.days_over):
                best = rule
        return None if best is None else best.restart_at

    def chair_times(self, block: ScheduleBlock) -> tuple[float, float]:
        """(hours before the infusion starts, hours from infusion start to end of infusion and hydration)."""
        ch = self.chair
        pre = ch.premedication_hours.value if block.premedication else 0.0
        return pre, block.infusion(ch) + (ch.hydration_hours.value if block.hydration else 0.0)
