"""The patients of one replication, drawn up front in numpy batches from named streams.

Everything random about a patient is here, before the model runs: referral time, weight,
outpatient eligibility, risk factors, time on therapy, and the
uniforms and normals behind every toxicity. Patient i of replication r gets the same draws in
every strategy (common random numbers); strategies change probabilities, never draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.cohort.background import background_demand
from sim.cohort.others import other_admissions, other_toci
from sim.cohort.parameters import ToxicityParameters, replication_parameters
from sim.cohort.streams import programme_streams, replication_streams
from sim.config.dose_plan import dose_offsets_hours
from sim.config.scenario import Scenario, max_doses, programmes
from sim.config.units import HOURS_PER_WEEK, WEEKS_PER_YEAR

LEAD_TIME_DRAWS = 1024  # more orders than any run places; reused cyclically beyond



@dataclass(frozen=True)
class Cohort:
    """Columns of per-patient draws; arrays of shape (n,) or (n, max_doses)."""

    referral: np.ndarray          # hours; negative for patients in the system at t = 0 (warm start)
    prevalent: np.ndarray         # bool: on treatment at t = 0 (warm start); referral = -(time since first dose)
    weight_kg: np.ndarray
    eligible: np.ndarray          # bool: caregiver and distance allow outpatient monitoring
    risk_factors: dict[str, np.ndarray]
    high_risk: np.ndarray         # bool
    therapy_hours: np.ndarray     # time on therapy from the first dose
    crs_patient_u: np.ndarray     # (n,)
    crs_dose_u: np.ndarray        # (n, K_crs)
    crs_grade_u: np.ndarray       # (n, D)
    crs_onset_z: np.ndarray       # (n, D) standard normal
    crs_duration_z: np.ndarray    # (n, D)
    icans_patient_u: np.ndarray
    icans_dose_u: np.ndarray
    icans_grade_u: np.ndarray
    icans_onset_z: np.ndarray
    icans_duration_z: np.ndarray
    toci_u: np.ndarray            # (n, D, 4): CRS give / repeat, ICANS give / repeat
    pharmacy_lead_u: np.ndarray   # uniforms for successive order lead times
    background_times: np.ndarray  # tocilizumab doses wanted by other services (hours)
    background_mg: np.ndarray
    crs_recurrence_u: np.ndarray  # (n,): later CRS kept after tocilizumab at the first event? (crs.after_tocilizumab)
    # other services' admissions into the same beds: (start hours, stay hours) per [[other_admissions]] stream
    other_admissions: tuple[tuple[np.ndarray, np.ndarray], ...]
    # and their tocilizumab: (hours after taking the bed of the first dose, NaN for none; mg; doses) per
    # admission, per stream
    other_toci: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    # the replication's rates, grade mixes and effects: the drug file's, or drawn from the published counts
    # under parameter uncertainty
    parameters: ToxicityParameters

    @property
    def crs_rate(self) -> float:
        return self.parameters.crs_rate

    @property
    def icans_rate(self) -> float:
        return self.parameters.icans_rate

    @property
    def n(self) -> int:
        return int(self.referral.shape[0])

    @property
    def max_doses(self) -> int:
        return int(self.crs_grade_u.shape[1])


def referral_times(rate_per_week: float, growth_per_year: float, until_hours: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Poisson referrals (optionally growing exponentially) by time-transforming a unit-rate process.

    Drawing unit-rate gaps and mapping them through the inverse cumulative rate keeps the k-th
    referral tied to the k-th draw, so a change of rate moves referrals rather than reshuffling them.
    """
    if rate_per_week <= 0 or until_hours <= 0:
        return np.empty(0)
    lam = rate_per_week / HOURS_PER_WEEK
    c = math.log1p(growth_per_year) / (WEEKS_PER_YEAR * HOURS_PER_WEEK)
    total = lam * until_hours if c == 0 else lam * math.expm1(c * until_hours) / c
    n_guess = int(total + 10 * math.sqrt(total) + 20)
    cum = np.cumsum(rng.exponential(1.0, size=n_guess))
    while cum[-1] < total:  # rare: extend the batch
        cum = np.concatenate([cum, cum[-1] + np.cumsum(rng.exponential(1.0, size=n_guess))])
    cum = cum[cum < total]
    return cum / lam if c == 0 else np.log1p(c * cum / lam) / c


def draw(s: Scenario, replication: int) -> Cohort:
    """Draw the cohort of replication ``replication`` of a single-drug scenario ``s`` (a centre: :func:`draw_centre`)."""
    if s.programmes:
        raise ValueError(f"scenario {s.name!r} is a centre of {len(s.programmes)} programmes; allowed here: a "
                         "single-drug scenario (draw a centre's cohorts with draw_centre)")
    rng = replication_streams(s.run.seed, replication)
    return _patients(s, rng, _shared(s, rng))


def draw_centre(s: Scenario, replication: int) -> tuple[Cohort, ...]:
    """The cohorts of every programme of ``s`` (:func:`~sim.config.scenario.programmes`) in replication
    ``replication``, each from its programme's own streams, all sharing the draws of what the programmes
    share (from the replication's streams). A single-drug scenario gives ``(draw(s, replication),)``."""
    if not s.programmes:
        return (draw(s, replication),)
    shared = _shared(s, replication_streams(s.run.seed, replication))
    return tuple(_patients(view, programme_streams(s.run.seed, replication, name), shared)
                 for name, view in programmes(s))


def _shared(s: Scenario, rng: dict[str, np.random.Generator]) -> dict:
    """The draws of what a centre's programmes share: pharmacy lead times, other services' tocilizumab
    doses and their admissions into the same beds."""
    bg_times, bg_mg = _background(s, rng)
    admissions = other_admissions(s.other_admissions, s.total_weeks * HOURS_PER_WEEK, rng["other_admissions"])
    pop = s.population
    return {"pharmacy_lead_u": rng["pharmacy_lead"].random(LEAD_TIME_DRAWS),
            "background_times": bg_times, "background_mg": bg_mg, "other_admissions": admissions,
            "other_toci": other_toci(s.other_admissions, admissions, s.tocilizumab,
                                     (pop.weight_kg_mean.value, pop.weight_kg_sd.value), rng["other_toci"],
                                     rng["other_toci_repeats"])}


def _patients(s: Scenario, rng: dict[str, np.random.Generator], shared: dict) -> Cohort:
    """The patients of one programme ``s`` from its streams ``rng``, with the ``shared`` draws."""
    until = (s.run.warmup_weeks + s.run.horizon_weeks) * HOURS_PER_WEEK
    referral = referral_times(s.demand.patients_per_week, s.demand.growth_per_year, until, rng["arrivals"])
    d = max_doses(s)
    median_h = s.drug.time_on_therapy_median_days.value * 24.0
    mean_h = median_h / math.log(2.0)
    # Warm start: the patients a steady state has in the system at t = 0 are appended after the
    # referrals, so every referred patient keeps the draws it has without a warm start.
    start = warm_start(s, mean_h, rng["prevalent"]) if s.run.warm_start else WarmStart.empty()
    n_new = referral.shape[0]
    referral = np.concatenate([referral, -start.maintenance_age, -start.step_up_age, -start.waiting])
    n = referral.shape[0]
    n_maintenance, n_step_up = start.maintenance_age.shape[0], start.step_up_age.shape[0]
    prevalent = np.zeros(n, dtype=bool)
    prevalent[n_new:n_new + n_maintenance + n_step_up] = True   # the waiting are referred, not yet dosed
    pop = s.population
    weight = np.clip(rng["weight"].normal(pop.weight_kg_mean.value, pop.weight_kg_sd.value, n), 30.0, 250.0)
    eligible = rng["eligibility"].random(n) < pop.outpatient_eligible.value
    factor_u = rng["risk_factors"].random((n, len(pop.risk_factors)))
    factors = {name: factor_u[:, j] < prev.value for j, (name, prev) in enumerate(pop.risk_factors.items())}
    high = np.zeros(n, dtype=bool)
    for name in pop.high_risk_if:
        high |= factors[name]
    therapy = rng["therapy"].exponential(mean_h, n)
    therapy[n_new:n_new + n_maintenance] = start.maintenance_age + start.maintenance_remaining
    parameters = replication_parameters(s.drug, s.run.parameter_uncertainty, rng["parameters"],
                                        rng["effect_parameters"])
    k_crs = len(s.drug.crs.by_dose.value) if s.drug.crs.by_dose else 1
    k_icans = len(s.drug.icans.by_dose.value) if s.drug.icans.by_dose else 1
    return Cohort(
        referral=referral, prevalent=prevalent, weight_kg=weight, eligible=eligible, risk_factors=factors, high_risk=high,
        therapy_hours=therapy,
        crs_patient_u=rng["crs_patient"].random(n),
        crs_dose_u=rng["crs_dose"].random((n, k_crs)),
        crs_grade_u=rng["crs_grade"].random((n, d)),
        crs_onset_z=rng["crs_onset"].standard_normal((n, d)),
        crs_duration_z=rng["crs_duration"].standard_normal((n, d)),
        icans_patient_u=rng["icans_patient"].random(n),
        icans_dose_u=rng["icans_dose"].random((n, k_icans)),
        icans_grade_u=rng["icans_grade"].random((n, d)),
        icans_onset_z=rng["icans_onset"].standard_normal((n, d)),
        icans_duration_z=rng["icans_duration"].standard_normal((n, d)),
        toci_u=rng["toci"].random((n, d, 4)),
        crs_recurrence_u=rng["crs_recurrence"].random(n),
        parameters=parameters,
        **shared,
    )


def _background(s: Scenario, rng: dict[str, np.random.Generator]) -> tuple[np.ndarray, np.ndarray]:
    """Times and mg of the tocilizumab doses other services take from the stock (none without a pharmacy)."""
    if s.pharmacy is None:
        return np.empty(0), np.empty(0)
    pop = s.population
    weight = np.clip(rng["background_weight"].normal(pop.weight_kg_mean.value, pop.weight_kg_sd.value,
                                                     int(s.pharmacy.background_doses_per_week.value
                                                         * s.total_weeks * 2 + 50)), 30.0, 250.0)
    return background_demand(s.pharmacy, s.total_weeks * HOURS_PER_WEEK, rng["background_times"],
                             weight, s.tocilizumab.mg_per_kg.value, s.tocilizumab.max_mg.value)


@dataclass(frozen=True)
class WarmStart:
    """Who is in the system at t = 0 in steady state, in three groups (hours)."""

    maintenance_age: np.ndarray        # time since the first dose, past the last step-up dose
    maintenance_remaining: np.ndarray  # time on therapy still to come
    step_up_age: np.ndarray            # time since the first dose, before the last step-up dose
    waiting: np.ndarray                # time since referral, first dose not yet given

    @staticmethod
    def empty() -> "WarmStart":
        return WarmStart(*(np.empty(0),) * 4)


def warm_start(s: Scenario, mean_hours: float, rng: np.random.Generator) -> WarmStart:
    """The patients referred before t = 0 who are still in the system at t = 0, in steady state.

    With referrals at rate lambda and exponential time on therapy of mean m:

    * past the last step-up dose (age > a0), patients of age a are on treatment at density
      lambda exp(-a / m): Poisson(lambda m exp(-a0 / m)) of them, ages a0 + Exp(m) and, by
      memorylessness, remaining times Exp(m);
    * within the step-up (age < a0) everyone still is (time on therapy is checked only from the
      first maintenance dose): Poisson(lambda a0), ages uniform on (0, a0);
    * referred within the lead time and not yet dosed: Poisson(lambda L), times since referral
      uniform on (0, L).

    Leaving out the last two groups leaves a gap of about (a0 + L) lambda patients that closes only as
    the cohort that should have filled it would have finished therapy: a transient with the time
    scale of m (months), which the warm-up would otherwise have to cover.
    """
    offsets = dose_offsets_hours(s.drug, s.drug.step_up_doses)
    a0 = offsets[-1] if offsets else 0.0
    lam = s.demand.patients_per_week / HOURS_PER_WEEK
    lead = s.calendar.lead_time_days * 24.0
    n0 = int(rng.poisson(lam * mean_hours * math.exp(-a0 / mean_hours)))
    age, remaining = a0 + rng.exponential(mean_hours, n0), rng.exponential(mean_hours, n0)
    step_up = rng.uniform(0.0, a0, int(rng.poisson(lam * a0)))
    waiting = rng.uniform(0.0, lead, int(rng.poisson(lam * lead)))
    return WarmStart(age, remaining, step_up, waiting)
