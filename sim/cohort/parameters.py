"""The toxicity parameters of one replication: the drug file's values, or draws from their published counts.

Without parameter uncertainty every replication uses the drug file's values. With it, a rate is drawn
from Beta(events + 1, patients - events + 1), a grade mix from Dirichlet(counts + 1), and a relative
risk as the ratio of the drawn rates with and without (treated / control counts; without control
counts, the drawn rate with prophylaxis over the replication's own CRS rate, the comparator a
single-arm study is read against). A value without counts stays fixed. Every draw is always made, in
the same order, so giving counts to one value never shifts the draws of another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config.drug import ArmCounts, DrugProfile, Recurrence, Toxicity

Mix = tuple[float, ...]


@dataclass(frozen=True)
class ProphylaxisDraw:
    """One prophylaxis entry's effect in this replication."""

    crs_relative_risk: float
    icans_relative_risk: float
    crs_mix: Mix | None   # grade mix of CRS among patients who still have it (None: no grade effect)


@dataclass(frozen=True)
class ToxicityParameters:
    crs_rate: float
    crs_mix: Mix
    crs_dose_mixes: tuple[Mix, ...]   # grade mix after dose 1, 2, ... (empty: crs_mix for every dose)
    icans_rate: float
    icans_mix: Mix
    icans_dose_mixes: tuple[Mix, ...]
    prophylaxis: dict[str, ProphylaxisDraw]
    recurrence_relative_risk: float | None   # CRS at later doses after tocilizumab at the first CRS event


def replication_parameters(drug: DrugProfile, uncertain: bool, rng: np.random.Generator,
                           effect_rng: np.random.Generator) -> ToxicityParameters:
    """The toxicity parameters of one replication (``rng``: the original rate and mix draws;
    ``effect_rng``: per-dose mixes, prophylaxis and recurrence, drawn from their own stream so the
    original draws are the same as before those existed)."""
    crs_rate, crs_mix = toxicity_parameters(drug.crs, uncertain, rng)
    icans_rate, icans_mix = toxicity_parameters(drug.icans, uncertain, rng)
    crs_doses = _dose_mixes(drug.crs, uncertain, effect_rng)
    icans_doses = _dose_mixes(drug.icans, uncertain, effect_rng)
    prophylaxis = {}
    for key in sorted(drug.prophylaxis):
        e = drug.prophylaxis[key]
        mix = _mix(tuple(e.crs_grade_mix.value), e.crs_grade_counts, uncertain, effect_rng) \
            if e.crs_grade_mix is not None else None
        crs_rr = _relative_risk(e.crs_relative_risk.value, e.treated, e.control, crs_rate, uncertain, effect_rng)
        prophylaxis[key] = ProphylaxisDraw(crs_rr, float(e.icans_relative_risk.value), mix)
    return ToxicityParameters(crs_rate, crs_mix, crs_doses, icans_rate, icans_mix, icans_doses, prophylaxis,
                              _recurrence(drug.crs.after_tocilizumab, uncertain, effect_rng))


def toxicity_parameters(tox: Toxicity, uncertain: bool, rng: np.random.Generator) -> tuple[float, Mix]:
    """Incidence and (worst-grade) grade mix of one toxicity for one replication."""
    rate = _rate(tox.rate.value, tox.patients, tox.events, uncertain, rng)
    return rate, _mix(tuple(tox.grade_mix.value), tox.grade_counts, uncertain, rng)


def _dose_mixes(tox: Toxicity, uncertain: bool, rng: np.random.Generator) -> tuple[Mix, ...]:
    return tuple(_mix(tuple(d.grade_mix.value), d.grade_counts, uncertain, rng) for d in tox.dose_grade_mix)


def _rate(value: float, patients: int | None, events: int | None, uncertain: bool,
          rng: np.random.Generator) -> float:
    drawn = rng.beta(1.0 + (events or 0), 1.0 + ((patients or 0) - (events or 0)))
    return float(drawn) if uncertain and patients is not None and events is not None else float(value)


def _mix(value: Mix, counts: tuple[int, ...] | None, uncertain: bool, rng: np.random.Generator) -> Mix:
    drawn = rng.dirichlet(1.0 + np.asarray(counts or (0, 0, 0, 0), dtype=float))
    return tuple(float(x) for x in drawn) if uncertain and counts is not None else value


def _arm(arm: ArmCounts | None, uncertain: bool, rng: np.random.Generator) -> float | None:
    drawn = _rate(0.0, arm.patients if arm else None, arm.events if arm else None, uncertain, rng)
    return drawn if uncertain and arm is not None else None


def _relative_risk(value: float, treated: ArmCounts | None, control: ArmCounts | None, comparator: float,
                   uncertain: bool, rng: np.random.Generator) -> float:
    with_, without = _arm(treated, uncertain, rng), _arm(control, uncertain, rng)
    if with_ is None:
        return float(value)
    base = without if without is not None else comparator
    return with_ / base if base > 0 else float(value)


def _recurrence(rec: Recurrence | None, uncertain: bool, rng: np.random.Generator) -> float | None:
    if rec is None:
        return None
    with_, without = _arm(rec.treated, uncertain, rng), _arm(rec.control, uncertain, rng)
    if with_ is None or without is None or without <= 0:
        return float(rec.relative_risk.value)
    return with_ / without
