"""Toxicity draws reproduce the published per-dose split and grade mix."""

from __future__ import annotations

import numpy as np
import pytest

from sim.cohort.toxicity import (
    conditional_dose_probabilities,
    dose_pattern,
    doses_with_repeats,
    grades,
    lognormal,
)


def test_conditional_probabilities_give_the_shares_exactly():
    shares = np.array([0.73, 0.60, 0.15])
    q = conditional_dose_probabilities(shares)
    p_any = 1 - np.prod(1 - q)
    np.testing.assert_allclose(q / p_any, shares, rtol=1e-9)


def test_mutually_exclusive_shares():
    q = conditional_dose_probabilities([0.5, 0.3, 0.2])
    np.testing.assert_allclose(q, [0.5, 0.3, 0.2])


def test_dose_pattern_marginals_within_ci():
    rng = np.random.default_rng(7)
    n = 200_000
    shares = (0.73, 0.60, 0.15)
    has = rng.random(n) < 0.57
    pat = dose_pattern(has, shares, rng.random((n, 3)))
    assert not pat[~has].any()
    assert pat[has].any(axis=1).all()  # every patient with the toxicity has it after some dose
    m = has.sum()
    for k, s in enumerate(shares):
        half = 4 * np.sqrt(s * (1 - s) / m)
        assert abs(pat[has, k].mean() - s) < half


def test_grades_follow_the_mix():
    rng = np.random.default_rng(3)
    mix = (0.6977, 0.2683, 0.0304, 0.0036)
    g = grades(mix, rng.random(400_000))
    assert set(np.unique(g)) <= {1, 2, 3, 4}
    freq = np.bincount(g, minlength=5)[1:] / g.size
    np.testing.assert_allclose(freq, mix, atol=0.004)


def test_lognormal_median():
    z = np.random.default_rng(1).standard_normal(100_001)
    assert np.median(lognormal(16.0, 1.0, z)) == pytest.approx(16.0, rel=0.02)


def test_doses_with_repeats_are_geometric_and_bounded():
    u = np.random.default_rng(7).random(200_000)
    assert (doses_with_repeats(u, 0.0, 4) == 1).all()           # never repeated
    assert (doses_with_repeats(u, 1.0, 4) == 4).all()           # always, up to the most
    d = doses_with_repeats(u, 0.3, 4)
    for k in (1, 2, 3):   # P(k doses) = 0.3^(k-1) * 0.7; the last takes the rest
        assert abs((d == k).mean() - 0.3 ** (k - 1) * 0.7) < 0.005
    assert abs((d == 4).mean() - 0.3 ** 3) < 0.005
