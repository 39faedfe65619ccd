"""Vectorised toxicity draws: who has CRS or ICANS, after which dose, of which grade, when and for how long.

Occurrence compares a pre-drawn uniform with a probability, so a strategy that lowers the
probability (prophylaxis) changes the outcome but never the draw: common random numbers.
"""

from __future__ import annotations

import math

import numpy as np


def conditional_dose_probabilities(shares: tuple[float, ...] | list[float]) -> np.ndarray:
    """Per-dose probabilities q_k whose pattern, conditioned on at least one event, has marginals ``shares``.

    For a patient who has the toxicity, ``shares[k]`` is the fraction who have it after dose k. With
    independent per-dose events of probability ``q_k = shares[k] * P`` and ``P = 1 - prod(1 - q_k)``
    (the chance of at least one), conditioning on "at least one" gives exactly ``shares``. P is the
    non-zero root of ``1 - prod(1 - s_k P) - P``, found by bisection.
    """
    s = np.asarray(shares, dtype=float)
    if s.sum() <= 1 + 1e-12:  # events are mutually exclusive: exactly one dose, chosen by share
        return s / s.sum()
    f = lambda p: 1.0 - np.prod(1.0 - s * p) - p  # noqa: E731
    lo, hi = 1e-12, 1.0
    if f(hi) >= 0:
        return np.minimum(s, 1.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid == lo or mid == hi:
            break  # lo and hi are adjacent floats: further halving changes nothing
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return s * lo


def dose_pattern(has_event: np.ndarray, shares: tuple[float, ...] | None, u: np.ndarray) -> np.ndarray:
    """Which of doses 1..K each patient has the event after, given that the patient has it at all.

    Samples the independent-per-dose model conditioned on at least one event, dose by dose, using one
    uniform per dose (``u`` of shape (n, K)).

    Returns
    -------
    np.ndarray
        Boolean (n, K); all False for patients without the event.
    """
    n = has_event.shape[0]
    if shares is None:
        out = np.zeros((n, 1), dtype=bool)
        out[:, 0] = has_event
        return out
    s = np.asarray(shares, dtype=float)
    k_max = len(s)
    out = np.zeros((n, k_max), dtype=bool)
    if s.sum() <= 1 + 1e-12:  # exactly one dose per patient
        cum = np.cumsum(s / s.sum())
        k = np.minimum(np.searchsorted(cum, u[:, 0], side="right"), k_max - 1)
        out[np.arange(n), k] = True
        out &= has_event[:, None]
        return out
    q = conditional_dose_probabilities(s)
    # tail_none[k] = P(no event at doses k..K-1)
    tail_none = np.append(np.cumprod((1 - q)[::-1])[::-1], 1.0)
    none_yet = np.ones(n, dtype=bool)
    for k in range(k_max):
        # P(event at k | none before, >=1 overall) for those with none yet; plain q_k otherwise.
        p_cond = q[k] / (1.0 - tail_none[k]) if tail_none[k] < 1 else 1.0
        p = np.where(none_yet, p_cond, q[k])
        hit = u[:, k] < p
        out[:, k] = hit
        none_yet &= ~hit
    out &= has_event[:, None]
    return out


def grades(mix: tuple[float, ...], u: np.ndarray) -> np.ndarray:
    """Grade 1-4 for each uniform, from the grade mix (shares of grades 1..4)."""
    cum = np.cumsum(np.asarray(mix, dtype=float))
    cum[-1] = 1.0 + 1e-12
    return (np.searchsorted(cum, u, side="right") + 1).astype(np.int8)


def lognormal(median: float, sigma: float, z: np.ndarray) -> np.ndarray:
    """Log-normal values with the given median and log-sd, from standard normal draws ``z``."""
    return median * np.exp(sigma * z)


def doses_with_repeats(u: np.ndarray, repeat_probability: float, most: int) -> np.ndarray:
    """Doses of a treatment given once and repeated with ``repeat_probability`` after each dose (a geometric
    number of repeats, from one uniform each), at most ``most`` in all."""
    extra = np.zeros(u.shape, dtype=np.int64)
    if repeat_probability > 0:
        with np.errstate(divide="ignore"):
            extra = (np.floor(np.log(u) / math.log(repeat_probability)) if repeat_probability < 1
                     else np.full(u.shape, float(most)))
        extra = np.minimum(extra, most - 1).astype(np.int64)
    return 1 + extra


def factor_combinations(prevalence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every combination of independent binary risk factors and its population probability.

    Returns
    -------
    (combos, weight)
        ``combos`` (2**F, F) of 0/1 and ``weight`` (2**F,) summing to 1.
    """
    f = prevalence.size
    combos = ((np.arange(2 ** f)[:, None] >> np.arange(f)) & 1).astype(float)
    weight = np.prod(np.where(combos == 1, prevalence, 1 - prevalence), axis=1)
    return combos, weight


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# Every replication of a scenario solves the same calibrations (unless its rates are drawn under
# parameter uncertainty): solutions are kept by their exact inputs, a few hundred at most.
_INTERCEPTS: dict[tuple[float, bytes, bytes], float] = {}
_INTERCEPTS_MAX = 512


def solve_intercept(target: float, linear: np.ndarray, weight: np.ndarray) -> float:
    """Intercept a with sum(weight * expit(a + linear)) / sum(weight) = target (bisection; monotone in a)."""
    if target <= 0:
        return -np.inf
    if target >= 1:
        return np.inf
    key = (float(target), np.ascontiguousarray(linear, dtype=float).tobytes(),
           np.ascontiguousarray(weight, dtype=float).tobytes())
    a = _INTERCEPTS.get(key)
    if a is None:
        if len(_INTERCEPTS) >= _INTERCEPTS_MAX:
            _INTERCEPTS.clear()
        a = _INTERCEPTS[key] = _bisect_intercept(target, linear, weight)
    return a


def _bisect_intercept(target: float, linear: np.ndarray, weight: np.ndarray) -> float:
    total = float(weight.sum())
    # All-zero weight: nobody is in the population the target applies to, so any intercept is right.
    w = weight / total if total > 0 else np.full(weight.shape, 1.0 / weight.size)
    lo, hi = -50.0, 50.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid == lo or mid == hi:
            break  # lo and hi are adjacent floats: further halving changes nothing
        if float(np.sum(w * _expit(mid + linear))) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def individual_rates(rate: float, x: np.ndarray, prevalence: np.ndarray, log_or: np.ndarray,
                     population_weight: np.ndarray | None = None) -> np.ndarray:
    """Per-patient probabilities from a logistic model whose population mean is ``rate``.

    Parameters
    ----------
    rate : float
        Incidence the population must keep (the profile's rate).
    x : ndarray (n, F)
        The patients' risk factors (0/1).
    prevalence : ndarray (F,)
        Prevalence of each factor in the population (factors independent).
    log_or : ndarray (F,)
        Log odds ratio of each factor; all zero gives ``rate`` for everyone.
    population_weight : ndarray (2**F,), optional
        Extra weight per factor combination, e.g. the chance of having CRS when calibrating the share
        of CRS that is grade >= 2 (so the target holds among patients with CRS).
    """
    if x.shape[1] == 0 or not np.any(log_or):
        return np.full(x.shape[0], rate)
    combos, weight = factor_combinations(prevalence)
    if population_weight is not None:
        weight = weight * population_weight
    a = solve_intercept(rate, combos @ log_or, weight)
    return _expit(a + x @ log_or)


def combination_rates(rate: float, prevalence: np.ndarray, log_or: np.ndarray) -> np.ndarray:
    """The calibrated probability of every factor combination (order of :func:`factor_combinations`)."""
    combos, weight = factor_combinations(prevalence)
    if not np.any(log_or):
        return np.full(combos.shape[0], rate)
    return _expit(solve_intercept(rate, combos @ log_or, weight) + combos @ log_or)


def grades_with_severe_share(mix: tuple[float, ...], severe: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Grade 1-4 when each event's chance of grade >= 2 is ``severe`` (per row); within grades 2-4
    the mix's proportions hold. One uniform per event, so common random numbers are kept."""
    m = np.asarray(mix, dtype=float)
    upper = m[1:] / m[1:].sum() if m[1:].sum() > 0 else np.array([1.0, 0.0, 0.0])
    cum = np.cumsum(upper)
    cum[-1] = 1.0 + 1e-12
    sev = severe[:, None] if u.ndim == 2 else severe
    inner = np.clip((u - (1 - sev)) / np.where(sev > 0, sev, 1.0), 0.0, 1.0 - 1e-12)
    g = np.where(u < 1 - sev, 1, np.searchsorted(cum, inner, side="right") + 2)
    return g.astype(np.int8)
