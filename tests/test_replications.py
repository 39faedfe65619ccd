"""Number of replications: CI method with Hoad, Robinson and Davies' (2010) look-ahead (sim.replications)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from sim.analysis import precision as rp


def _brute_precision(x, n, alpha=0.05):
    y = np.asarray(x[:n], dtype=float)
    half = st.t.ppf(1 - alpha / 2, n - 1) * y.std(ddof=1) / math.sqrt(n)
    return 0.0 if half == 0 else half / abs(y.mean())


def test_look_ahead_grows_beyond_100():
    assert rp.look_ahead(3) == 5 and rp.look_ahead(100) == 5
    assert rp.look_ahead(200) == 10 and rp.look_ahead(250) == 12


def test_relative_precision_matches_direct_formula():
    rng = np.random.default_rng(np.random.SeedSequence(11))
    x = rng.normal(50, 7, 40)
    d = rp.relative_precision(x)
    assert math.isnan(d[0])
    for n in (2, 3, 10, 40):
        assert d[n - 1] == pytest.approx(_brute_precision(x, n), rel=1e-9)


def test_constant_and_all_zero_series_are_precise_at_the_initial_count():
    for value in (0.0, 4.2):
        sol = rp.solve(np.full(20, value), 0.05)
        assert sol.n_solution == 3 and sol.confirmed_at == 8 and sol.precision == 0.0


def test_zero_mean_with_spread_never_meets_relative_precision():
    x = np.tile([-1.0, 1.0], 30)
    d = rp.relative_precision(x)
    assert np.isinf(d[1::2]).all()      # even n: mean exactly 0, half-width > 0
    assert rp.solve(x, 0.5).n_solution is None


def test_known_answer_on_a_constructed_series():
    """Precision (8%) first met at n = 6, lost at n = 8 (an outlier of 14), met again from n = 12 on:
    d_n = .066, .053 at n = 6, 7; .12, .105, .093, .083 at n = 8..11; .076 at n = 12."""
    x = [10, 11, 9, 10, 10, 10, 10, 14, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]
    target = 0.08
    d = rp.relative_precision(x)
    ok = d <= target
    first_ok = int(np.argmax(np.nan_to_num(ok))) + 1
    sol = rp.solve(x, target)
    # brute force over the definition: smallest n >= 3 whose whole look-ahead window holds
    expected = next(n for n in range(3, len(x) - 4) if all(d[m - 1] <= target for m in range(n, n + 6)))
    assert first_ok < expected                # the plain CI method would have stopped too early
    assert sol.n_solution == expected == 12 and sol.confirmed_at == 17
    assert first_ok == 6 and not ok[7] and all(ok[expected - 1:])


def test_not_enough_replications_to_confirm_gives_none():
    x = np.full(7, 1.0)                        # precise from n = 3, but 3 + 5 = 8 > 7
    assert rp.solve(x, 0.05).n_solution is None
    assert rp.solve(np.full(8, 1.0), 0.05).n_solution == 3


def test_normal_data_needs_about_the_textbook_number():
    """iid N(100, 10), 5% precision: n with t_{n-1} * 10 / sqrt(n) <= 5, i.e. about 18."""
    textbook = next(n for n in range(3, 200) if st.t.ppf(0.975, n - 1) * 10 / math.sqrt(n) <= 5)
    found = []
    for k in range(40):
        rng = np.random.default_rng(np.random.SeedSequence(2024, spawn_key=(k,)))
        found.append(rp.solve(rng.normal(100, 10, 400), 0.05).n_solution)
    assert all(n is not None for n in found)
    assert abs(np.median(found) - textbook) <= 4
    # each answer satisfies the definition on its own data
    rng = np.random.default_rng(np.random.SeedSequence(2024, spawn_key=(0,)))
    x = rng.normal(100, 10, 400)
    d = rp.relative_precision(x)
    n = found[0]
    assert (d[n - 1:n + 5] <= 0.05).all()
    assert not all((d[m - 1:m + 5] <= 0.05).all() for m in range(3, n))


def test_assess_takes_the_largest_solution_and_checks_names():
    rng = np.random.default_rng(np.random.SeedSequence(5))
    kpis = pd.DataFrame({"replication": np.arange(300)[::-1],          # deliberately unsorted
                         "easy": rng.normal(100, 1, 300), "hard": rng.normal(100, 20, 300)})
    a = rp.assess(kpis, ["easy", "hard"], 0.05)
    sols = {s.kpi: s.n_solution for s in a.solutions}
    assert a.done and a.n_needed == max(sols.values()) == sols["hard"] > sols["easy"]
    with pytest.raises(ValueError, match="unknown KPI"):
        rp.assess(kpis, ["easy", "nope"], 0.05)
    with pytest.raises(ValueError):
        rp.assess(kpis, [], 0.05)


def test_run_to_precision_adds_batches_until_every_kpi_is_precise():
    import sim

    s = sim.load("tarlatamab_outpatient", set={"run.warmup_weeks": 2, "run.horizon_weeks": 8,
                                               "run.follow_up_weeks": 2})
    seen, progress = [], []
    result, a = sim.run_to_precision(s, ["patients_referred"], 0.10, batch=4, max_reps=40, executor="serial",
                                     on_batch=seen.append, progress=lambda d, t: progress.append((d, t)))
    assert a.done and a.n_needed is not None and a.replications_run == len(result.kpis) <= 40
    assert [b.replications_run for b in seen] == list(range(8, a.replications_run + 1, 4))   # one per batch
    assert progress[-1] == (a.replications_run, 40)
    assert list(result.kpis["replication"]) == list(range(a.replications_run))   # one seed's replications, in order
    # the same replications as one plain run of that many
    plain = sim.run(s, a.replications_run, executor="serial").kpis
    pd.testing.assert_frame_equal(result.kpis.reset_index(drop=True), plain.reset_index(drop=True))


def test_run_to_precision_refuses_an_unknown_kpi_before_running():
    import sim

    with pytest.raises(sim.UsageError, match="no_such_kpi"):
        sim.run_to_precision(sim.load("tarlatamab_outpatient"), ["no_such_kpi"], 0.05,
                             progress=lambda d, t: pytest.fail("ran"))
