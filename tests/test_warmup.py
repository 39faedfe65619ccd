"""Warm-up analysis: MSER-5 and the weekly profile of a run from empty (sim.warmup)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis import warmup


def _series(transient: int, n: int, level: float, noise: float, key: int) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence(77, spawn_key=(key,)))
    x = np.full(n, level) + rng.normal(0.0, noise, n)
    x[:transient] = np.linspace(0.0, level, transient, endpoint=False) + rng.normal(0.0, noise, transient)
    return x


def test_mser5_finds_a_known_linear_transient():
    """A ramp from 0 to the steady level over 40 observations, then noise: MSER-5 cuts near 40.

    It never cuts well short of the transient (the costly error: bias left in); like any MSER it
    now and then cuts too much when the tail happens to wander, which costs only data."""
    cuts = np.array([warmup.mser(_series(40, 400, 10.0, 0.5, k)).truncate for k in range(20)])
    assert (cuts % 5 == 0).all()
    assert (cuts >= 30).all(), cuts
    assert np.median(cuts) == 40
    assert np.mean((cuts >= 35) & (cuts <= 45)) >= 0.75, cuts


def test_mser_on_a_stationary_series_cuts_little():
    rng = np.random.default_rng(np.random.SeedSequence(3))
    cuts = [warmup.mser(rng.normal(5.0, 1.0, 300)).truncate for _ in range(30)]
    assert np.median(cuts) <= 25          # no transient: nothing systematic to remove


def test_mser_statistic_matches_the_definition():
    x = _series(20, 100, 3.0, 0.3, 1)
    res = warmup.mser(x)
    z = x[:100].reshape(20, 5).mean(axis=1)
    for d in (0, 3, 9):
        tail = z[d:]
        assert res.statistic[d] == pytest.approx(((tail - tail.mean()) ** 2).sum() / len(tail) ** 2)
    assert len(res.statistic) == 10 and res.truncate == 5 * int(np.argmin(res.statistic))


def test_constant_series_needs_no_warmup_and_short_series_refused():
    assert warmup.mser(np.full(50, 2.0)).truncate == 0
    with pytest.raises(ValueError, match="at least 4"):
        warmup.mser(np.ones(19))


def test_a_run_too_short_for_its_transient_is_flagged():
    # still rising at the end: the minimum sits at the search limit
    res = warmup.mser(np.linspace(0, 10, 100) + np.random.default_rng(np.random.SeedSequence(9)).normal(0, 0.01, 100))
    assert res.at_limit and res.truncate == 45


def test_weekly_profile_of_a_run_from_empty(short):
    from sim import cohort, model
    from sim.config.scenario import RESOURCES

    cold = short.model_copy(update={"run": short.run.model_copy(update={"warm_start": False})})
    empty = warmup.from_empty(cold, 30)
    assert (empty.run.warmup_weeks, empty.run.horizon_weeks, empty.run.follow_up_weeks) == (0, 30, 0)
    log = model.simulate(empty, cohort.draw(empty, 0))
    prof = warmup.weekly_profile(log, empty)
    assert prof.shape == (30, len(RESOURCES) + 1)
    census = prof[:, -1]
    assert census[0] < census[-1]                      # patients accumulate from an empty start
    started = np.isfinite(log.first_dose)
    t = 29 * 168 + 84.5                                # the middle of week 30 ...
    on = started & (log.first_dose <= t) & ~(log.left_at <= t)
    assert abs(census[-1] - on.sum()) <= 5             # ... the weekly mean is close to that instant
    assert (prof[:, :-1] >= 0).all() and (prof[:, :-1] <= np.array([getattr(empty.capacity, r) for r in RESOURCES])).all()


def test_welch_table_and_suggestion():
    n = len(warmup.SERIES)   # every resource, then the census
    profiles = [np.stack([_series(30, 100, 4.0, 0.2, k)] * n, axis=1) for k in range(5)]
    table = warmup.welch_table(profiles)
    assert list(table["week"])[:3] == [1, 2, 3] and len(table) == 100
    assert table["census"].to_numpy() == pytest.approx(np.mean([p[:, n - 1] for p in profiles], axis=0))
    sugg = warmup.suggest(table).set_index("series")
    assert list(sugg.index) == list(warmup.SERIES)
    assert (sugg["warmup_weeks"].between(20, 40)).all()


def test_warm_start_begins_near_the_steady_census(short):
    """With the warm start the census of week 1 is already most of week 30's; from empty it is not."""
    from sim import cohort, model

    warm = warmup.from_empty(short, 30)
    assert warm.run.warm_start
    census = [warmup.weekly_profile(model.simulate(warm, cohort.draw(warm, r)), warm)[:, -1] for r in range(3)]
    first, last = np.mean([c[0] for c in census]), np.mean([c[-4:].mean() for c in census])
    assert first > 0.8 * last
