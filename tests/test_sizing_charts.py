"""Sizing and tornado charts: the frames they draw from, and what the charts encode."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim import sizing_charts as sc
from sim.sensitivity import Param, tornado_table
from sim.sizing import Target, size_one, size_pair


def const(values_at):
    def evaluate(point):
        return pd.DataFrame({"replication": [0, 1, 2],
                             **{k: v + np.array([-0.001, 0.0, 0.001]) for k, v in values_at(point).items()}})
    return evaluate


@pytest.fixture(scope="module")
def one():
    # postponement falls like 0.2 / beds; with the CI's half-width of 0.0025 the target 0.03 needs 8 beds
    # (at 7: 0.0286 + 0.0025 > 0.03)
    return size_one(const(lambda p: {"p_dose_postponed": 0.2 / p["observation_beds"]}), "observation_beds",
                    [Target("p_dose_postponed", "<=", 0.03)], 1, 40, start=4)


@pytest.fixture(scope="module")
def pair():
    return size_pair(const(lambda p: {"p_dose_postponed": 0.1 / p["chairs"] + 0.1 / p["observation_beds"]}),
                     ("chairs", "observation_beds"), [Target("p_dose_postponed", "<=", 0.05)],
                     {"chairs": (1, 20), "observation_beds": (1, 20)}, {"chairs": 4.0, "observation_beds": 1.0})


def spec(chart) -> str:
    return json.dumps(chart.to_dict())


def test_sizing_curve_frame_is_sorted_and_flags_the_answer(one):
    curve = sc.sizing_curve(one.table(), "observation_beds", "p_dose_postponed")
    assert list(curve.columns) == sc.CURVE_COLUMNS
    assert list(curve["capacity"]) == sorted(c.point["observation_beds"] for c in one.candidates)
    assert curve["answer"].sum() == 1 and curve.loc[curve["answer"], "capacity"].item() == 8
    assert (curve["mean"].diff().dropna() < 0).all()                     # a monotone KPI, a monotone curve
    assert (curve["ci_low"] <= curve["mean"]).all() and (curve["mean"] <= curve["ci_high"]).all()
    assert list(curve["verdict"]) == [sc.MEETS if f else sc.FAILS for f in curve["feasible"]]
    with pytest.raises(ValueError, match="does not report 'crs_rate'"):
        sc.sizing_curve(one.table(), "observation_beds", "crs_rate")


def test_sizing_curve_chart_shows_band_target_and_answer(one):
    curve = sc.sizing_curve(one.table(), "observation_beds", "p_dose_postponed")
    chart = sc.sizing_curve_chart(curve, "p_dose_postponed", "observation_beds", one.targets)
    d = chart.to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in d["layer"]]
    assert marks[:3] == ["area", "line", "point"] and marks.count("rule") == 2 and "text" in marks
    s = spec(chart)
    assert '"target": 0.03' in s and '"answer: 8"' in s and "Observation beds" in s
    # a target on another KPI draws no line; a plain number does
    other = sc.sizing_curve_chart(curve, "p_dose_postponed", "observation_beds", [Target("crs_rate", "<=", 0.5)])
    assert [l["mark"] for l in other.to_dict()["layer"]].count({"type": "rule", "color": "#b2182b",
                                                                  "strokeDash": [4, 3]}) == 0
    assert '"target": 0.04' in spec(sc.sizing_curve_chart(curve, "p_dose_postponed", "observation_beds", 0.04))


def test_pair_curve_reads_along_the_answer_and_pair_chart_rings_it(pair):
    table = pair.table()
    curve = sc.sizing_curve(table, "observation_beds", "p_dose_postponed")
    fixed = pair.answer["chairs"]
    assert set(curve["capacity"]) == set(table.loc[table["chairs"] == fixed, "observation_beds"])
    assert curve.loc[curve["answer"], "capacity"].item() == pair.answer["observation_beds"]
    s = spec(sc.pair_chart(table, ("chairs", "observation_beds")))
    assert "is_answer" in s and "capacity_cost" in s
    no_answer = table.assign(answer=False)
    with pytest.raises(ValueError, match="fixed"):
        sc.sizing_curve(no_answer, "observation_beds", "p_dose_postponed")
    assert len(sc.sizing_curve(no_answer, "observation_beds", "p_dose_postponed", fixed={"chairs": fixed})) == len(curve)


@pytest.fixture(scope="module")
def tornado():
    noise = np.random.default_rng(1).normal(0, 0.01, 10)
    base = pd.DataFrame({"replication": range(10), "p_dose_postponed": 0.02 + noise})
    effects = {"drug.crs.rate": 0.002, "demand.patients_per_week": 0.02, "capacity.chairs": -0.008}
    lows = [base.assign(p_dose_postponed=base["p_dose_postponed"] - e) for e in effects.values()]
    highs = [base.assign(p_dose_postponed=base["p_dose_postponed"] + e) for e in effects.values()]
    params = [Param("drug.crs.rate", (0.45, 0.65)), Param("demand.patients_per_week", (2, 6)),
              Param("capacity.chairs", (8, 12))]
    return tornado_table(params, base, lows, highs, ["p_dose_postponed"], [0.57, 3.846, 10])


def test_tornado_frame_orders_by_swing_and_starts_bars_at_the_baseline(tornado):
    f = sc.tornado_frame(tornado, "p_dose_postponed")
    assert list(f.columns) == sc.TORNADO_COLUMNS and len(f) == 6
    assert list(dict.fromkeys(f["param"])) == ["demand.patients_per_week", "capacity.chairs", "drug.crs.rate"]
    assert (f["base"] == tornado["value_base"].iloc[0]).all()
    top = f[f["param"] == "demand.patients_per_week"].set_index("end")
    assert top.loc[sc.HIGH, "value"] - top.loc[sc.LOW, "value"] == pytest.approx(0.04)
    assert top.loc[sc.LOW, "setting"] == 2 and top.loc[sc.HIGH, "setting"] == 6
    assert f["label"].iloc[0] == "demand.patients_per_week (2 to 6)"
    with pytest.raises(ValueError, match="no KPI 'crs_rate'"):
        sc.tornado_frame(tornado, "crs_rate")


def test_tornado_chart_sorts_rows_by_swing(tornado):
    f = sc.tornado_frame(tornado, "p_dose_postponed")
    d = sc.tornado_chart(f, "p_dose_postponed").to_dict()
    bars = d["layer"][0]
    assert bars["mark"]["type"] == "bar"
    assert bars["encoding"]["y"]["sort"] == ["demand.patients_per_week (2 to 6)", "capacity.chairs (8 to 12)",
                                             "drug.crs.rate (0.45 to 0.65)"]
    assert bars["encoding"]["x"]["field"] == "base" and bars["encoding"]["x2"]["field"] == "value"
    assert d["layer"][1]["mark"]["type"] == "rule" and d["layer"][2]["mark"]["type"] == "rule"
    assert "one-way sensitivity" in json.dumps(d["title"])
