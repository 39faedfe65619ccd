"""Every patient's CRS and ICANS, decided up front in numpy: after which doses, of which grade, when, for
how long, with how much tocilizumab and how long a hospital stay it would need.

The model (:mod:`sim.model.pathway`) only replays these events for the doses a patient is given.
Common random numbers: a strategy changes probabilities and grade thresholds, never a draw, so
prophylaxis only removes CRS or lowers its grade for the same patients, and the recurrence effect of
tocilizumab only removes later CRS.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.cohort import Cohort
from sim.cohort.parameters import ProphylaxisDraw
from sim.cohort.toxicity import (
    combination_rates,
    dose_pattern,
    doses_with_repeats,
    grades,
    grades_with_severe_share,
    individual_rates,
    lognormal,
)
from sim.config.drug import Toxicity
from sim.config.scenario import Scenario

CRS, ICANS = 0, 1
# (onset after the dose, kind, grade, duration, tocilizumab doses, hospital stay if admitted)
Event = tuple[float, int, int, float, int, float]


class Prophylaxis(NamedTuple):
    """Who gets prophylactic tocilizumab, its effect, and the first dose (index) the effect covers."""

    given: np.ndarray           # (n,) bool
    effect: ProphylaxisDraw | None
    from_index: int


class ToxicityEvents(NamedTuple):
    grade: list[np.ndarray]            # per kind, (n, D) grade after each dose (0 = none)
    events: dict[int, list[Event]]     # patient i, dose index k -> events, keyed i * D + k


def toxicity_events(s: Scenario, c: Cohort, d: int) -> ToxicityEvents:
    """CRS and ICANS of every patient of cohort ``c`` after each of doses 1..``d`` under scenario ``s``."""
    pro = prophylaxis(s, c)
    crs_p, severe, icans_p = risk_rates(s, c)
    grade_crs = _grades(CRS, s.drug.crs, c, d, crs_p, pro, severe)
    grade_icans = _grades(ICANS, s.drug.icans, c, d, icans_p, pro, None)
    thin_recurrence(s, c, grade_crs)
    events: dict[int, list[Event]] = {}
    _add_events(s, c, CRS, s.drug.crs, grade_crs, events)
    _add_events(s, c, ICANS, s.drug.icans, grade_icans, events)
    return ToxicityEvents([grade_crs, grade_icans], events)


def prophylaxis(s: Scenario, c: Cohort) -> Prophylaxis:
    """The strategy's prophylactic tocilizumab: for whom, with the drug's effect for its timing.

    The studies measure the effect per patient over the course (Kowalski et al. 2025: CRS during the
    step-up after tocilizumab before step-up dose 1), so it covers the doses from the first one given
    with prophylaxis. With prophylaxis at several doses, the entry with the lowest CRS relative risk
    stands for all of them (no study combines them).
    """
    plan = s.strategy.prophylaxis
    if plan is None:
        return Prophylaxis(np.zeros(c.n, dtype=bool), None, 0)
    given = np.ones(c.n, dtype=bool) if plan.patients == "all" else c.high_risk.copy()
    drawn = c.parameters.prophylaxis
    effect = min((drawn[k] for k in plan.keys), key=lambda e: e.crs_relative_risk)
    return Prophylaxis(given, effect, min(plan.doses) - 1)


def risk_rates(s: Scenario, c: Cohort) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Per patient: CRS probability, the chance a CRS event after dose k is grade >= 2 (one array per
    entry of the drug's per-dose grade mix, or one for every dose), ICANS probability.

    Patient risk factors act through a logistic model calibrated to keep the profile's rates.
    """
    names = list(s.population.risk_factors)
    prev = np.array([s.population.risk_factors[f].value for f in names])
    x = np.column_stack([c.risk_factors[f] for f in names]).astype(float) if names else np.zeros((c.n, 0))
    ors = s.drug.risk_odds_ratios
    log_or = lambda table: np.array([math.log(table[f].value) if f in table else 0.0 for f in names])  # noqa: E731
    p = c.parameters
    crs_p = individual_rates(p.crs_rate, x, prev, log_or(ors.crs))
    with_crs = combination_rates(p.crs_rate, prev, log_or(ors.crs))
    severe = [individual_rates(1.0 - mix[0], x, prev, log_or(ors.crs_grade2plus), population_weight=with_crs)
              for mix in (p.crs_dose_mixes or (p.crs_mix,))]
    icans_p = individual_rates(p.icans_rate, x, prev, log_or(ors.icans))
    return crs_p, severe, icans_p


def _grades(kind: int, tox: Toxicity, c: Cohort, d: int, p: np.ndarray, pro: Prophylaxis,
            severe: list[np.ndarray] | None) -> np.ndarray:
    """(n, d) grade of the toxicity after each dose; ``onset_from = "treatment_start"`` is an event tied
    to dose 1 with its onset counted from it."""
    patient_u, dose_u, grade_u = ((c.crs_patient_u, c.crs_dose_u, c.crs_grade_u) if kind == CRS
                                  else (c.icans_patient_u, c.icans_dose_u, c.icans_grade_u))
    shares = tox.by_dose.value if tox.by_dose is not None else None
    pattern = dose_pattern(patient_u < p, shares, dose_u)
    k = min(pattern.shape[1], d)
    effect, covered = pro.effect, np.zeros(k, dtype=bool)
    if effect is not None:
        rr = effect.crs_relative_risk if kind == CRS else effect.icans_relative_risk
        # the same uniforms against a lower probability: a subset of the same patients keeps the event
        thinned = dose_pattern(patient_u < np.where(pro.given, np.minimum(p * rr, 1.0), p), shares, dose_u)
        covered[min(pro.from_index, k - 1) if tox.onset_from == "treatment_start" else pro.from_index:] = True
        pattern = np.where(covered[None, :], thinned[:, :k], pattern[:, :k])
    drawn = np.empty((c.n, k), dtype=np.int8)
    mixes = c.parameters.crs_dose_mixes if kind == CRS else c.parameters.icans_dose_mixes
    base_mix = c.parameters.crs_mix if kind == CRS else c.parameters.icans_mix
    for j in range(k):
        mix = mixes[min(j, len(mixes) - 1)] if mixes else base_mix
        drawn[:, j] = (grades_with_severe_share(mix, severe[min(j, len(severe) - 1)], grade_u[:, j])
                       if severe is not None else grades(mix, grade_u[:, j]))
    if kind == CRS and effect is not None and effect.crs_mix is not None and covered.any():
        # the same uniform through the grade mix with prophylaxis: the lower of the two grades, so
        # prophylaxis never raises a grade (exactly its mix where that mix is the milder one)
        milder = np.minimum(drawn, grades(effect.crs_mix, grade_u[:, :k]))
        drawn = np.where(covered[None, :] & pro.given[:, None], milder, drawn)
    g = np.zeros((c.n, d), dtype=np.int8)
    g[:, :k] = np.where(pattern[:, :k], drawn, 0)
    return g


def toci_given(s: Scenario, kind: int, grade: np.ndarray, give_u: np.ndarray) -> np.ndarray:
    """Whether each event (grade 1-4) is treated with tocilizumab, by its grade's management rule."""
    rules = s.drug.management.crs if kind == CRS else s.drug.management.icans
    p_toci = np.array([0.0] + [r.tocilizumab_probability.value for r in rules])
    return give_u < p_toci[grade]


def thin_recurrence(s: Scenario, c: Cohort, g: np.ndarray) -> None:
    """Patients given tocilizumab at their first CRS event keep CRS at later doses only with the drug's
    relative risk (drug.crs.after_tocilizumab; Searle et al., Cancer 2023), one uniform per patient:
    the patient-level recurrence ratio the study reports. Changes ``g`` in place."""
    rr = c.parameters.recurrence_relative_risk
    if rr is None:
        return
    has = g > 0
    rows = np.nonzero(has.any(axis=1))[0]
    first = has[rows].argmax(axis=1)
    treated = toci_given(s, CRS, g[rows, first], c.toci_u[rows, first, 0])
    stops = treated & (c.crs_recurrence_u[rows] >= rr)
    drop = rows[stops]
    later = np.arange(g.shape[1])[None, :] > first[stops][:, None]
    g[drop] = np.where(later, 0, g[drop])


def _add_events(s: Scenario, c: Cohort, kind: int, tox: Toxicity, g: np.ndarray,
                events: dict[int, list[Event]]) -> None:
    """The events of the few (patient, dose) pairs with one: only theirs are computed."""
    onset_z, duration_z = (c.crs_onset_z, c.crs_duration_z) if kind == CRS else (c.icans_onset_z, c.icans_duration_z)
    col = 0 if kind == CRS else 2   # toci_u columns: CRS give / repeat, ICANS give / repeat
    d = g.shape[1]
    rows, cols = np.nonzero(g)
    onset = lognormal(tox.onset_median_hours.value, tox.onset_sigma.value, onset_z[rows, cols])
    z = duration_z[rows, cols]
    dur = lognormal(tox.duration_median_hours.value, tox.duration_sigma.value, z)
    grade = g[rows, cols]
    rules = s.drug.management.crs if kind == CRS else s.drug.management.icans
    stay = hospital_stays(rules, grade, dur, z)
    toci_n = _toci_doses(s, kind, grade, c.toci_u[rows, cols, col], c.toci_u[rows, cols, col + 1])
    for key, on, gr, du, tn, st in zip((rows * d + cols).tolist(), onset.tolist(), grade.tolist(),
                                       dur.tolist(), toci_n.tolist(), stay.tolist()):
        events.setdefault(key, []).append((on, kind, gr, du, tn, st))


def _toci_doses(s: Scenario, kind: int, grade: np.ndarray, give_u: np.ndarray, repeat_u: np.ndarray) -> np.ndarray:
    """Tocilizumab doses for each event: none, or one plus a geometric number of repeats."""
    toci = s.tocilizumab
    doses = doses_with_repeats(repeat_u, toci.repeat_probability.value, toci.max_doses)
    return np.where(toci_given(s, kind, grade, give_u), doses, 0)


def repeat_times(doses: int, every: float, until: float, first: float = 0.0) -> list[float]:
    """When each of ``doses`` tocilizumab doses is given: the first at ``first``, always; a repeat every ``every``
    hours after it while that is before ``until`` (the end of the episode, or of the stay)."""
    return [first + j * every for j in range(doses) if j == 0 or first + j * every < until]


def hospital_stays(rules, grade: np.ndarray, duration: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Hours in hospital (in the ICU for an ICU grade) of each toxicity event if it is managed there.

    With a sourced length of stay for its grade (``stay_median_hours``, ``stay_sigma``) the stay is
    log-normal, drawn from the event's own duration normal ``z`` (so a longer episode has a longer stay
    and no draw is added), and the patient goes home when the grade allows, at the latest when the
    episode ends; without one, the stay lasts the episode. ``min_stay_hours`` and ``max_stay_hours`` bound it.
    """
    stay = np.array(duration, dtype=float)
    for g, rule in enumerate(rules, start=1):
        at = grade == g
        if not at.any():
            continue
        if rule.stay_median_hours is not None:
            los = lognormal(rule.stay_median_hours.value, rule.stay_sigma.value, z[at])
            stay[at] = np.minimum(los, duration[at])
        lo = rule.min_stay_hours.value
        if rule.max_stay_hours is not None:
            stay[at] = np.minimum(stay[at], max(rule.max_stay_hours.value, lo))
        stay[at] = np.maximum(stay[at], lo)
    return stay
