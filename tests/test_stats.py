"""t-based confidence intervals across replications (sim.stats)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from sim.analysis.stats import mean_ci, summary


def test_constant_kpi_has_zero_width_interval():
    mean, sd, lo, hi, n = mean_ci(np.full(12, 3.5))
    assert (mean, sd, lo, hi, n) == (3.5, 0.0, 3.5, 3.5, 12)


def test_all_zero_kpi_has_zero_width_interval_not_nan():
    mean, sd, lo, hi, n = mean_ci(np.zeros(5))
    assert (lo, hi) == (0.0, 0.0)


def test_interval_matches_scipy_t_interval():
    x = np.array([2.1, 3.4, 1.9, 4.4, 3.0, 2.7, 3.9, 2.2])
    mean, sd, lo, hi, n = mean_ci(x, 0.95)
    ref_lo, ref_hi = st.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st.sem(x))
    assert n == 8 and mean == pytest.approx(x.mean())
    assert sd == pytest.approx(x.std(ddof=1))
    assert (lo, hi) == pytest.approx((ref_lo, ref_hi), rel=1e-12)


def test_t_is_wider_than_normal_for_few_replications():
    x = np.array([1.0, 2.0, 4.0, 3.0])
    _, sd, lo, hi, _ = mean_ci(x)
    z_half = 1.959963984540054 * sd / 2.0
    assert (hi - lo) / 2 > z_half * 1.5   # t(3) = 3.18 vs 1.96


def test_other_levels_and_non_finite_values_ignored():
    x = np.array([1.0, 2.0, np.nan, 3.0, np.inf])
    mean, _, lo, hi, n = mean_ci(x, 0.90)
    ref = st.t.interval(0.90, 2, loc=2.0, scale=st.sem([1.0, 2.0, 3.0]))
    assert n == 3 and mean == 2.0 and (lo, hi) == pytest.approx(ref)


def test_one_or_no_values():
    assert mean_ci(np.array([7.0]))[:1] == (7.0,) and math.isnan(mean_ci(np.array([7.0]))[2])
    assert mean_ci(np.array([]))[4] == 0


def test_summary_has_one_row_per_kpi_without_replication():
    kpis = pd.DataFrame({"replication": [0, 1, 2], "a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]})
    s = summary(kpis)
    assert list(s["kpi"]) == ["a", "b"]
    b = s.set_index("kpi").loc["b"]
    assert b.ci_low == b.ci_high == 5.0


def test_stockout_probability_gets_a_wilson_interval_not_zero_width():
    import pandas as pd

    from sim.analysis.stats import summary, wilson

    table = summary(pd.DataFrame({"replication": range(20), "p_stockout": [1.0] * 20})).set_index("kpi")
    row = table.loc["p_stockout"]
    assert row["mean"] == 1.0 and row["ci_high"] == 1.0
    assert row["ci_low"] == pytest.approx(wilson(20, 20)[0]) and row["ci_low"] < 0.9


def test_share_of_replications_uses_wilson_and_the_stock_curve_finds_the_smallest_level():
    import pandas as pd

    from sim.analysis.stats import share_ci, wilson
    from sim.analysis.stock import smallest_meeting

    share, lo, hi, n = share_ci([1.0] * 3 + [0.0] * 7)
    assert (share, n) == (0.3, 10) and (lo, hi) == pytest.approx(wilson(3, 10))
    rows = []
    for level, hits in ((800.0, 9), (1600.0, 3), (3200.0, 0)):
        share, lo, hi, _ = share_ci([1.0] * hits + [0.0] * (10 - hits))
        rows.append({"level": level, "p_stockout": share, "p_stockout_ci_low": lo, "p_stockout_ci_high": hi})
    curve = pd.DataFrame(rows)
    assert smallest_meeting(curve, "level", 0.35) == 3200.0   # 1600's upper bound is above 0.35
    assert smallest_meeting(curve, "level", 0.7) == 1600.0
    assert smallest_meeting(curve, "level", 0.0) is None

