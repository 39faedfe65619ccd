"""Paired comparisons under common random numbers (sim.compare)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from sim.analysis import compare as cmp
from sim.analysis import runner, stats
from tests.conftest import SCENARIOS, SHORT, load

FAST = ("run.warmup_weeks=4", "run.horizon_weeks=8", "run.follow_up_weeks=2")


def _frame(values, name="x"):
    return pd.DataFrame({"replication": np.arange(len(values)), name: values})


def test_paired_ci_matches_one_sample_t_on_differences():
    rng = np.random.default_rng(np.random.SeedSequence(1))
    b = rng.normal(10, 3, 15)
    o = b + rng.normal(0.5, 0.2, 15)
    mean, lo, hi = stats.paired_ci(b, o)
    d = o - b
    ref = st.t.interval(0.95, 14, loc=d.mean(), scale=st.sem(d))
    assert mean == pytest.approx(d.mean()) and (lo, hi) == pytest.approx(ref)


def test_welch_ci_matches_scipy():
    rng = np.random.default_rng(np.random.SeedSequence(2))
    b, o = rng.normal(0, 1, 12), rng.normal(1, 2, 9)
    diff, lo, hi = cmp.welch_ci(b, o)
    res = st.ttest_ind(o, b, equal_var=False)
    ci = res.confidence_interval(0.95)
    assert diff == pytest.approx(o.mean() - b.mean())
    assert (lo, hi) == pytest.approx((ci.low, ci.high))


def test_distinguishable_flag_and_base_rows():
    base = _frame([1.0, 2.0, 3.0, 4.0])
    same = _frame([1.0, 2.0, 3.0, 4.0])
    shifted = _frame([1.5, 2.4, 3.6, 4.5])
    noisy = _frame([0.0, 3.0, 2.0, 5.0])
    t = cmp.compare({"base": base, "same": same, "up": shifted, "noisy": noisy}).set_index("scenario")
    assert not t.loc["base", "distinguishable"] and t.loc["base", "diff_mean"] == 0.0
    assert math.isnan(t.loc["base", "unpaired_ci_low"])
    assert not t.loc["same", "distinguishable"] and t.loc["same", "diff_ci_low"] == 0.0
    assert t.loc["up", "distinguishable"] and t.loc["up", "diff_ci_low"] > 0
    assert not t.loc["noisy", "distinguishable"]


def test_constant_nonzero_difference_is_distinguishable():
    t = cmp.compare({"a": _frame([1.0, 2.0, 3.0]), "b": _frame([2.0, 3.0, 4.0])}).set_index("scenario")
    assert (t.loc["b", "diff_ci_low"], t.loc["b", "diff_ci_high"]) == (1.0, 1.0)
    assert t.loc["b", "distinguishable"]


def test_mismatched_replications_refused():
    a = _frame([1.0, 2.0, 3.0])
    b = pd.DataFrame({"replication": [0, 1, 5], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="same seed"):
        cmp.compare({"a": a, "b": b})
    with pytest.raises(ValueError, match="unknown KPI"):
        cmp.compare({"a": a}, kpis=["nope"])


@pytest.mark.slow
def test_paired_ci_narrower_than_unpaired_for_prophylaxis():
    """Common random numbers: the same patients and toxicity draws in both strategies, so the paired
    interval of the CRS-rate difference is narrower than the independent-samples (Welch) one.

    For a rate the coupling is partial: a patient with CRS under prophylaxis also has it without,
    so per patient Cov = p_toci (1 - p_base), about 0.05 against variances 0.25 and 0.11, and the
    paired interval is only ~15-20% narrower. 60 replications keep the sample correlation
    (true ~0.35) well away from 0, so the test does not hinge on a lucky seed."""
    from sim.analysis import runner
    from sim.config import loader

    base = loader.load(SCENARIOS / "tarlatamab_outpatient.toml", SHORT)
    toci = loader.load(SCENARIOS / "tarlatamab_prophylactic_toci.toml", SHORT)
    seed = base.run.seed
    a = runner.run(base, 60, seed=seed, executor="processes", workers=2).kpis
    b = runner.run(toci, 60, seed=seed, executor="processes", workers=2).kpis
    table = cmp.compare({"base": a, "toci": b}, kpis=["crs_rate", "cost_total"]).set_index("kpi")
    row = table[table["scenario"] == "toci"].loc["crs_rate"]
    assert row.distinguishable and row.diff_mean < 0      # prophylaxis lowers CRS
    assert row.diff_ci_high - row.diff_ci_low < row.unpaired_ci_high - row.unpaired_ci_low
    # A resource KPI shares almost all of its noise between strategies: a far bigger gain.
    cost = table[table["scenario"] == "toci"].loc["cost_total"]
    assert cost.diff_ci_high - cost.diff_ci_low < 0.5 * (cost.unpaired_ci_high - cost.unpaired_ci_low)


# --------------------------------------------------------------------------- paired differences

def test_paired_differences_constant_shift_is_exact():
    base = pd.DataFrame({"replication": [0, 1, 2, 3], "ed_visits": [10.0, 20.0, 15.0, 30.0]})
    other = base.assign(ed_visits=base["ed_visits"] - 4.0)
    d = cmp.paired_differences(base, other, ["ed_visits", "not_a_kpi"]).iloc[0]
    assert d["diff_mean"] == -4.0 and d["diff_ci_low"] == -4.0 and d["diff_ci_high"] == -4.0
    assert d["excludes_zero"] and d["base_mean"] == 18.75 and d["other_mean"] == 14.75
    assert list(cmp.paired_differences(base, other, ["ed_visits", "not_a_kpi"])["kpi"]) == ["ed_visits"]


def test_paired_differences_match_a_t_interval_on_the_differences():
    rng = np.random.default_rng(3)
    a = rng.normal(50, 10, 30)
    b = a + rng.normal(1, 2, 30)
    base = pd.DataFrame({"replication": range(30), "ward_bed_days": a})
    # rows of the other run in another order: pairing is by replication number, not position
    other = pd.DataFrame({"replication": range(30), "ward_bed_days": b}).iloc[::-1]
    d = cmp.paired_differences(base, other, ["ward_bed_days"]).iloc[0]
    mean, _sd, lo, hi, n = stats.mean_ci(b - a)
    assert (d["diff_mean"], d["diff_ci_low"], d["diff_ci_high"], d["n"]) == pytest.approx((mean, lo, hi, 30))
    # pairing removes the shared noise: far narrower than the spread of either run
    assert d["diff_ci_high"] - d["diff_ci_low"] < 0.2 * a.std()


def test_paired_differences_need_shared_replications():
    a = pd.DataFrame({"replication": [0, 1], "ed_visits": [1.0, 2.0]})
    b = pd.DataFrame({"replication": [5, 6], "ed_visits": [1.0, 2.0]})
    with pytest.raises(ValueError, match="share no replications"):
        cmp.paired_differences(a, b, ["ed_visits"])


def test_paired_difference_of_common_random_numbers_is_narrower_than_unpaired():
    fast = load("tarlatamab_outpatient.toml", *FAST)
    other = load("tarlatamab_inpatient.toml", *FAST)
    a = runner.run(fast, 6, executor="serial").kpis
    b = runner.run(other, 6, seed=fast.run.seed, executor="serial").kpis
    d = cmp.paired_differences(a, b, ["crs_rate"]).iloc[0]
    # the same patients and toxicity draws: CRS incidence barely moves between strategies
    _, sd_a, *_ = stats.mean_ci(a["crs_rate"].to_numpy())
    assert d["diff_ci_high"] - d["diff_ci_low"] < 2 * 2.571 * sd_a / math.sqrt(6)
