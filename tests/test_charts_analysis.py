"""Charts of the analysis pages, tested on their data: the tornado of a one-way sensitivity table and the
pairs of a two-resource sizing."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.analysis.sensitivity import Param, tornado_table
from sim.charts.pairs import pair_chart, pair_frame
from sim.charts.sensitivity import ENDS, tornado_chart, tornado_frame


def _frames(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"replication": range(len(values)), "p_dose_postponed": values,
                         "cost_per_patient_started": [1000 * v for v in values]})


@pytest.fixture()
def table() -> pd.DataFrame:
    """Referrals swing postponed doses from 1% to 9%; beds from 6% to 3%; the baseline is 4%."""
    params = [Param("capacity.observation_beds", (3, 5)), Param("demand.patients_per_week", (2.0, 6.0))]
    base = _frames([0.04, 0.04, 0.05, 0.03])
    lows = [_frames([0.06, 0.07, 0.05, 0.06]), _frames([0.01, 0.0, 0.02, 0.01])]
    highs = [_frames([0.03, 0.02, 0.04, 0.03]), _frames([0.09, 0.1, 0.08, 0.09])]
    return tornado_table(params, base, lows, highs, ["p_dose_postponed", "cost_per_patient_started"], [4, 3.846])


def test_tornado_frame_puts_the_largest_swing_first_with_both_ends(table):
    f = tornado_frame(table, "p_dose_postponed", {"demand.patients_per_week": "Referrals per week"})
    assert list(f["param"]) == ["demand.patients_per_week"] * 2 + ["capacity.observation_beds"] * 2
    assert list(f["end"]) == list(ENDS) * 2
    assert f["label"].iloc[0] == "Referrals per week: 2 to 6"
    assert f["label"].iloc[2] == "capacity.observation_beds: 3 to 5"
    assert f["value"].iloc[:2].tolist() == pytest.approx([0.01, 0.09])
    assert f["base"].tolist() == pytest.approx([0.04] * 4)
    assert list(f["value_text"].iloc[:2]) == ["1.0%", "9.0%"]
    # a t-interval below 0 is drawn from 0: no KPI is negative
    assert (f["ci_low"] >= 0).all() and (f["ci_low"] <= f["value"]).all() and (f["value"] <= f["ci_high"]).all()


def test_tornado_chart_draws_bars_from_the_baseline_in_swing_order(table):
    f = tornado_frame(table, "cost_per_patient_started")
    spec = tornado_chart(f, "cost_per_patient_started", "EUR").to_dict()
    bars, ci, _baseline = spec["layer"]
    assert bars["mark"]["type"] == "bar" and bars["encoding"]["x"]["field"] == "base"
    assert bars["encoding"]["x2"]["field"] == "value"
    assert bars["encoding"]["y"]["sort"] == ["demand.patients_per_week: 2 to 6", "capacity.observation_beds: 3 to 5"]
    assert ci["encoding"]["x"]["field"] == "ci_low" and ci["encoding"]["x2"]["field"] == "ci_high"
    assert "EUR" in bars["encoding"]["x"]["axis"]["title"]
    assert spec["layer"][2]["encoding"]["x"]["aggregate"] == "mean"
    data = next(iter(spec["datasets"].values()))
    assert len(data) == 4 and {d["value_text"] for d in data} >= {"USD 10", "USD 90"}   # money with its currency


def test_pair_frame_and_chart_mark_the_cheapest_pair():
    table = pd.DataFrame({"evaluation": [1, 2, 3], "observation_beds": [4, 3, 3], "chairs": [10, 10, 11],
                          "capacity_cost": [5000.0, 4200.0, 4600.0], "feasible": [True, False, True],
                          "answer": [False, False, True]})
    pairs = pair_frame(table, ("observation_beds", "chairs"), "GBP")
    assert list(pairs["outcome"]) == ["meets the target", "fails the target", "cheapest pair"]
    assert list(pairs["cost"]) == ["GBP 5,000", "GBP 4,200", "GBP 4,600"]
    frontier = pd.DataFrame({"a": [3, 4], "b": [11, 10]})
    spec = pair_chart(pairs, frontier, ("observation_beds", "chairs")).to_dict()
    line, points = spec["layer"]
    assert line["mark"]["interpolate"] == "step-after"
    assert points["encoding"]["color"]["scale"]["domain"][2] == "cheapest pair"
    assert not any(isinstance(v, float) and math.isnan(v) for d in spec["datasets"].values() for r in d
                   for v in r.values())
