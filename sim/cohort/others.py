"""Admissions from other services into the programme's beds, drawn up front like every patient draw."""

from __future__ import annotations

import numpy as np

from sim.cohort.toxicity import doses_with_repeats
from sim.config.scenario import OtherAdmissions, Tocilizumab
from sim.config.units import HOURS_PER_WEEK

# Arrivals are drawn from this far before t = 0 (in log-normal sigmas above the median stay), so the
# beds hold the other services' steady-state census at the start instead of filling during the warm-up.
_PREFILL_SIGMAS = 4.0


def other_admissions(streams: tuple[OtherAdmissions, ...], until: float,
                     rng: np.random.Generator) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(arrival hours, stay hours) of each stream's admissions: Poisson arrivals over (-lead, ``until``),
    log-normal stays; an admission that arrived before 0 and is still in hospital at 0 starts at 0 with
    the rest of its stay (the steady state of an unlimited-bed system: exact while beds are free).
    Every stream draws its count, arrivals and stays in turn, so adding a stream changes no other's."""
    out = []
    for o in streams:
        rate = o.per_week.value / HOURS_PER_WEEK
        median, sigma = o.stay_median_hours.value, o.stay_sigma.value
        lead = median * float(np.exp(_PREFILL_SIGMAS * sigma))
        n = int(rng.poisson(rate * (until + lead))) if rate > 0 else 0
        arrival = np.sort(rng.random(n)) * (until + lead) - lead
        stay = median * np.exp(sigma * rng.standard_normal(n))
        end = arrival + stay
        keep = end > 0
        start = np.maximum(arrival[keep], 0.0)
        out.append((start, end[keep] - start))
    return tuple(out)


def other_toci(streams: tuple[OtherAdmissions, ...], admissions: tuple[tuple[np.ndarray, np.ndarray], ...],
               toci: Tocilizumab, weight: tuple[float, float], rng: np.random.Generator,
               repeat_rng: np.random.Generator) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """Per stream and admission: hours after taking the bed at which a tocilizumab dose is given (NaN: none),
    its mg, and how many doses are given in all (:func:`~sim.cohort.toxicity.doses_with_repeats`: repeated with
    the stream's ``toci_repeat_probability``, at most ``toci.max_doses``; the model gives those the stay reaches).
    The share given one is the stream's ``toci_probability``; the hour is uniform within its
    ``toci_within_hours`` and the stay; the weight is the population's (mg: ``toci.mg_per_kg``, capped at
    ``toci.max_mg``). Each stream draws in turn, and all from their own stream; the repeats from a stream of their
    own (``repeat_rng``), so setting a repeat probability moves no other draw."""
    out = []
    for o, (_, stay) in zip(streams, admissions):
        n = stay.shape[0]
        given = rng.random(n) < o.toci_probability.value
        at = rng.random(n) * np.minimum(stay, o.toci_within_hours.value)
        kg = np.clip(rng.normal(weight[0], weight[1], n), 30.0, 250.0)
        doses = doses_with_repeats(repeat_rng.random(n), o.toci_repeat_probability.value, toci.max_doses)
        out.append((np.where(given, at, np.nan), np.minimum(toci.mg_per_kg.value * kg, toci.max_mg.value),
                    np.where(given, doses, 0)))
    return tuple(out)
